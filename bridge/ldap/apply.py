"""Directory → bridge: apply one entry's lock and contact through the service (poll and reconcile both do).

An entry is compared by the fingerprint of its synced attributes only, so failed binds (which rewrite
``pwdFailureTime`` and ``modifyTimestamp``) change nothing in the bridge. Lock and contact go through the
service's own calls (``set_lock``, ``clear_lock``, ``set_contact``, ``delete_user``), which audit and mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from bridge.errors import InvalidRequest
from bridge.ldap.account import DirectoryAccount, LockInfo, MalformedEntry
from bridge.ldap.connection import DirectoryUnavailable
from bridge.ldap.context import SyncContext
from bridge.ldap.resolvers import Resolver
from bridge.ldap.state import ACTOR, ERRORS, PassResult, Stopping, log
from bridge.ldap.values import format_generalized_time

# What the service raises for a value it refuses (ValueError until it adopts bridge.errors).
REFUSED = (ValueError, InvalidRequest)


class Applier:
    """Brings the bridge in line with directory accounts; entry rows are written a page at a time."""

    def __init__(self, ctx: SyncContext, service: Any, resolver: Resolver) -> None:
        self.ctx = ctx
        self.service = service
        self.resolver = resolver
        self.realm = ctx.realm
        self._pending: dict[str, dict[str, Any]] = {}

    def discard_pending(self) -> None:
        """Entries queued by an abandoned pass are not written later over what a newer pass (or the
        instance that took the lease over) recorded; they are read and applied again instead, which the
        service treats as a no-op."""
        self._pending.clear()

    def check_stop(self) -> None:
        """A safe point: record the entries applied so far, then end the pass if a stop was asked for."""
        if self.ctx.stop_event.is_set():
            self.flush()
            raise Stopping()

    def malformed(self, dn: str, reason: str, result: PassResult) -> None:
        result.malformed += 1
        ERRORS.labels("malformed").inc()
        log.warning("ldap-sync: skipped malformed entry %s: %s", dn, reason)

    def apply_entry(self, dn: str, raw: Mapping[str, list[bytes]], row: Any, result: PassResult) -> None:
        try:
            account = self.ctx.reader.parse(dn, raw, self.ctx.clock())
        except MalformedEntry as exc:
            self.malformed(dn, str(exc), result)
            return
        try:
            self.apply(account, row, result)
        except (DirectoryUnavailable, OperationalError):
            # Not this entry's fault: skipping it would let the watermark move past its change. The
            # pass is abandoned and the next one reads the entry again.
            raise
        except Exception as exc:  # one bad entry never stops the sync
            ERRORS.labels("apply").inc()
            log.exception("ldap-sync: could not apply %s: %s", dn, type(exc).__name__)

    def apply(self, account: DirectoryAccount, row: Any, result: PassResult) -> None:
        """Bring the bridge in line with one directory account; no-op when the fingerprint is unchanged."""
        fingerprint = account.fingerprint()
        if row is not None and row.fingerprint == fingerprint:
            result.skipped_unchanged += 1
            return
        user_id = row.user_id if row is not None else self.resolver(account)
        if not user_id:
            result.unmapped += 1
            log.info(
                "ldap-sync: no Keycloak user for %s=%s yet", self.ctx.reader.names.ldap_id, account.ldap_id
            )
            return
        previous: dict[str, Any] = dict(row.state or {}) if row is not None else {}
        self._apply_lock(user_id, account.lock, previous, result)
        self._apply_contact(user_id, account, previous, result)
        self._store(account, user_id, fingerprint)
        result.applied += 1

    def _apply_lock(self, user_id: str, lock: LockInfo, previous: dict[str, Any], result: PassResult) -> None:
        state = {
            k: v
            for k, v in DirectoryAccount("", "", None, None, None, lock).synced_state().items()
            if k.startswith("lock_")
        }
        if previous and all(previous.get(k) == v for k, v in state.items()):
            return
        if not lock.locked:
            if previous.get("lock_kind") not in (None, "none"):
                self.service.clear_lock(
                    self.realm,
                    user_id,
                    source="directory",
                    actor=ACTOR,
                    reason="directory lock cleared",
                    allow_permanent=True,
                )
                result.count("unlocked")
            return
        kind = "temporary" if lock.kind == "temporary" else "permanent"
        try:
            self.service.set_lock(
                self.realm,
                user_id,
                source="directory",
                kind=kind,
                reason=lock.reason,
                actor=ACTOR,
                expires_at=lock.expires_at if kind == "temporary" else None,
            )
        except REFUSED:  # the temporary lock ran out between parsing and applying
            return
        result.count("locked")

    def _apply_contact(
        self, user_id: str, account: DirectoryAccount, previous: dict[str, Any], result: PassResult
    ) -> None:
        if previous and (previous.get("email"), previous.get("mobile")) == (account.email, account.mobile):
            return
        current = self.service.get_contact(self.realm, user_id)
        if current is None and not (account.email or account.mobile):
            return
        try:
            self.service.set_contact(
                self.realm,
                user_id,
                email=account.email,
                phone=account.mobile,
                locale=current.locale if current else None,
                display_name=current.display_name if current else None,
                source="directory",
                actor=ACTOR,
            )
        except REFUSED as exc:  # a mail or mobile value the bridge cannot accept: keep the old contact
            ERRORS.labels("malformed").inc()
            log.warning("ldap-sync: contact of %s not applied: %s", account.dn, exc)
            return
        result.count("contact")

    def _store(self, account: DirectoryAccount, user_id: str, fingerprint: str) -> None:
        """Queue the entry's new state; :meth:`flush` writes a page of them in one transaction.

        The service calls for the entry have committed already; if the pass dies before the flush, the
        entry is applied again next time, which the service treats as a no-op.
        """
        self._pending[account.ldap_id] = {
            "ldap_id": account.ldap_id,
            "realm": self.realm,
            "user_id": user_id,
            "dn": account.dn,
            "fingerprint": fingerprint,
            "seen_at": self.ctx.clock(),
            "state": account.synced_state(),
            "lock_kind": account.lock.kind,
            "lock_expires_at": account.lock.expires_at,
        }

    def flush(self) -> None:
        if not self._pending:
            return
        self.ctx.entries.upsert(list(self._pending.values()))
        self._pending.clear()

    def delete(self, row: Any, result: PassResult) -> None:
        log.info(
            "ldap-sync: %s is gone from the directory; deleting user %s's codes and contacts",
            row.dn,
            row.user_id,
        )
        self.service.delete_user(self.realm, row.user_id, actor=ACTOR)
        self.ctx.entries.delete(row.ldap_id)
        result.deleted += 1
        result.count("deleted")


def stamp_of(marker: str | None, modified: datetime | None) -> list[str]:
    """What ``seen`` remembers of an entry: its change marker and modifyTimestamp."""
    return [marker or "", format_generalized_time(modified) if modified else ""]
