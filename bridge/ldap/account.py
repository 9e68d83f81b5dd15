"""What the sync knows about a directory user: identity, contacts and lock state (no I/O, no ldap3).

A :class:`DirectoryAccount` is what a profile (bridge/ldap/profiles.py) reads out of one entry; the
sync compares its :meth:`~DirectoryAccount.fingerprint` with the stored one so unchanged entries cost
no writes. The lock rules (docs/ldap-sync.md, reference ldap.md §0):

* A lock attribute being present does not mean the account is locked *now*: OpenLDAP and AD keep the
  lock timestamp after a temporary lock has expired, until the next bind. The lock is computed from
  the timestamp plus the policy's duration.
* An administrator's lock (OpenLDAP ``000001010000Z`` or a policy without a duration, AD disable bit,
  ``nsAccountLock``) is "permanent" and must never be written away by the bridge; only temporary
  failed-login locks are "temporary" and clearable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

LockKind = Literal["none", "temporary", "permanent", "disabled"]


class MalformedEntry(ValueError):
    """An entry cannot be read (missing id, undecodable or unparsable value): skip it, never stop the sync."""


@dataclass(frozen=True)
class LockInfo:
    """The directory lock as it stands at the time of parsing (an expired lock is ``none``).

    ``value`` is the raw lock marker (lock time, FILETIME ticks, unlock time) so the sync can tell a
    new lock from the one it already applied, and can delete exactly that value when clearing it.
    """

    kind: LockKind = "none"
    expires_at: datetime | None = None
    value: str | None = None
    reason: str = ""

    @property
    def locked(self) -> bool:
        return self.kind != "none"

    @property
    def clearable(self) -> bool:
        """Only failed-login locks may be lifted by the bridge; admin locks and disables never."""
        return self.kind == "temporary"


NOT_LOCKED = LockInfo()


@dataclass(frozen=True)
class PasswordPolicy:
    """The parts of a lockout policy the effective-lock rule needs.

    ``duration`` None means "locked until an administrator resets it".
    """

    lockout: bool = True
    duration: timedelta | None = None
    max_failures: int = 0


@dataclass(frozen=True)
class DirectoryAccount:
    ldap_id: str
    dn: str
    username: str | None
    email: str | None
    mobile: str | None
    lock: LockInfo = field(default=NOT_LOCKED)

    def synced_state(self) -> dict[str, str | None]:
        """The attributes the sync mirrors; everything else (failure counters, timestamps) is noise."""
        return {
            "dn": self.dn,
            "username": self.username,
            "email": self.email,
            "mobile": self.mobile,
            "lock_kind": self.lock.kind,
            "lock_value": self.lock.value,
            "lock_expires_at": self.lock.expires_at.isoformat() if self.lock.expires_at else None,
        }

    def fingerprint(self) -> str:
        """Hash of :meth:`synced_state`, stored per entry so unchanged entries cost no writes."""
        text = json.dumps(self.synced_state(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AttributeNames:
    """Which LDAP attributes hold the id, the username and the contacts (configurable per deployment)."""

    ldap_id: str
    username: str
    mail: str = "mail"
    mobile: str = "mobile"
