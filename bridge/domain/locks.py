"""Lock rules without I/O: which lock wins, when a lock is active, how the failure counter admits.

The counter is the brute-force limit, so it must hold under concurrency: "check, verify, then
increment" lets every parallel guess through (security.md §4.1). But counting an attempt as a failure
before its hash is checked (and forgetting it again on success) makes a user's own codes lock them:
ten valid codes submitted at once (double submits, two tabs, a retrying client) put the counter at the
limit before any of them has proved anything. So an attempt is counted twice over, apart:

* ``in_flight``: admitted, hash still running. Admission is one conditional statement
  (:mod:`bridge.store.locks`) that reserves a place only while settled failures plus attempts in
  flight stay under the limit.
* ``failed_attempts``: settled failures. The attempt gives its place back once its hash is checked,
  in the transaction that records its outcome: a failure adds one (and the failure that reaches the
  limit places the temporary lock), a success forgets every failure.

:func:`admission` is the rule: under the limit with everything in flight counted → ``counted`` (hash);
over it only because of attempts still in flight → ``busy`` (no hash, nothing counted or used, the
caller may retry in a moment); settled failures at the limit → ``locked``. So however many race, at
most ``max_failures`` attempts reach Argon2 between two successes, and only failures ever lock.

An attempt that never settles (its worker killed mid-hash, the database gone before the result was
written) must not hold its place for ever: the whole in-flight count is void once ``in_flight_until``
has passed, which every admission moves to ``IN_FLIGHT_SECONDS`` ahead. The first admission after
that starts a new count (``in_flight_batch`` + 1), and a settlement of the voided batch that arrives
late still records its failure but gives back no place it no longer holds.

The counter stays at the limit while the lock runs; the first attempt after expiry resets it.

Lock precedence (:func:`effective`): any active permanent lock beats temporary ones; among
temporary locks the one that ends last wins. An expired temporary lock is not a lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bridge.errors import InvalidRequest

SOURCES = ("codes", "keycloak", "directory")
KINDS = ("temporary", "permanent")
TEMPORARY = "temporary"
PERMANENT = "permanent"
CODES = "codes"
# Temporary locks a recovery code may lift: Keycloak's brute-force detection and the directory's
# failed-bind lockout. The bridge's own ``codes`` lock and every permanent lock are never lifted by it.
RECOVERABLE_SOURCES = ("directory", "keycloak")

# How long an admitted attempt may take before its place in the in-flight count is void. A hash takes
# tens of milliseconds (seconds under a full hash gate); this only bounds how long a crashed attempt
# keeps a place, and a user with places left is not held up by it at all.
IN_FLIGHT_SECONDS = 30


class Outcome(StrEnum):
    """What the failure counter says about one more attempt (``unknown_user``: there is no counter)."""

    COUNTED = "counted"
    BUSY = "busy"
    LOCKED = "locked"
    UNKNOWN_USER = "unknown_user"


COUNTED, BUSY, LOCKED, UNKNOWN_USER = Outcome.COUNTED, Outcome.BUSY, Outcome.LOCKED, Outcome.UNKNOWN_USER


@dataclass(frozen=True)
class LockState:
    """The strongest active lock of a user, or ``locked=False``."""

    locked: bool
    source: str | None = None
    kind: str | None = None
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "locked": self.locked,
            "source": self.source,
            "kind": self.kind,
            "until": self.until.isoformat() if self.until else None,
        }


UNLOCKED = LockState(locked=False)


@dataclass(frozen=True)
class Lock:
    """One stored lock row; ``active`` is false for an expired temporary lock."""

    source: str
    kind: str
    reason: str
    actor: str
    locked_at: datetime
    expires_at: datetime | None
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "reason": self.reason,
            "actor": self.actor,
            "locked_at": self.locked_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "active": self.active,
        }


@dataclass(frozen=True)
class Admission:
    """Outcome of an admission: ``counted`` attempts go on to the hash and settle with ``batch``."""

    outcome: Outcome
    failed_attempts: int = 0
    batch: int = 0


@dataclass(frozen=True)
class Settled:
    """A failure recorded: the count now, and the lock it placed, if it did."""

    failed_attempts: int
    placed_lock_until: datetime | None = None


def admission(failed_attempts: int, in_flight: int, max_failures: int) -> Outcome:
    """Admit an attempt only while settled failures plus attempts in flight stay under the limit.

    ``locked`` only when settled failures alone reach the limit, ``busy`` when attempts still in
    flight (which may well succeed) fill the rest.
    """
    if failed_attempts >= max_failures:
        return LOCKED
    if failed_attempts + in_flight >= max_failures:
        return BUSY
    return COUNTED


decide = admission  # the name the store tests and older callers use


def live_in_flight(in_flight: int, until: datetime | None, now: datetime) -> int:
    """The in-flight count, or 0 once it is void (nobody admitted for ``IN_FLIGHT_SECONDS``)."""
    return in_flight if until is not None and until > now else 0


def backoff_seconds(lockouts: int, base: int, cap: int) -> int:
    """``base * 2**lockouts`` capped at ``cap``: the n-th consecutive lockout (0-based) lasts this long."""
    if lockouts >= 32:  # 2**32 * any base is already past any sane cap
        return cap
    return min(base * (2 ** max(lockouts, 0)), cap)


def is_active(kind: str, expires_at: datetime | None, now: datetime) -> bool:
    if kind == PERMANENT:
        return True
    return expires_at is not None and expires_at > now


def effective(rows: Iterable[Lock]) -> LockState:
    active = [row for row in rows if row.active]
    if not active:
        return UNLOCKED
    permanent = [row for row in active if row.kind == PERMANENT]
    if permanent:
        first = min(permanent, key=lambda row: SOURCES.index(row.source) if row.source in SOURCES else 99)
        return LockState(locked=True, source=first.source, kind=PERMANENT, until=None)
    last = max(active, key=lambda row: row.expires_at or row.locked_at)
    return LockState(locked=True, source=last.source, kind=TEMPORARY, until=last.expires_at)


def checked_lock(source: str, kind: str, expires_at: datetime | None) -> datetime | None:
    """The expiry a lock of this source and kind is stored with (None for a permanent lock)."""
    if source not in SOURCES:
        raise InvalidRequest(f"lock source must be one of {', '.join(SOURCES)}")
    if kind not in KINDS:
        raise InvalidRequest(f"lock kind must be one of {', '.join(KINDS)}")
    if kind == TEMPORARY and expires_at is None:
        raise InvalidRequest("a temporary lock needs an expiry")
    return None if kind == PERMANENT else expires_at


def recoverable(lock: Lock) -> bool:
    """A lock a recovery code lifts (and so does not refuse): temporary, from Keycloak or the directory."""
    return lock.source in RECOVERABLE_SOURCES and lock.kind == TEMPORARY


def blocking(rows: Iterable[Lock], purpose: str) -> LockState:
    """The lock that refuses an attempt: any active lock for a login; for a recovery, not a lock that
    recovery is there to lift."""
    if purpose == "recovery":
        rows = [row for row in rows if not recoverable(row)]
    return effective(rows)
