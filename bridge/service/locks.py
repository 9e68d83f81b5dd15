"""Locks from every source (the bridge's own, Keycloak's, the directory's): set, lift, read.

Re-setting an identical lock is a no-op (no audit, no mail), so the LDAP sync and Keycloak's events
can repeat themselves freely. A permanent lock (an admin or directory decision) is never lifted as a
side effect: lifting it needs ``allow_permanent``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from bridge.domain import locks as rules
from bridge.domain.ids import check_ids, check_realm
from bridge.domain.locks import Lock, LockState
from bridge.errors import InvalidRequest, PermanentLockError
from bridge.service.context import Context
from bridge.store import locks as rows
from bridge.store import unlock_all
from bridge.store.db import as_utc


class Locks:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def set(
        self,
        realm: str,
        user_id: str,
        *,
        source: str,
        kind: str,
        reason: str,
        actor: str,
        expires_at: datetime | None = None,
    ) -> None:
        """Record a lock from ``source``; re-setting an identical lock is a no-op (no audit, no mail)."""
        check_ids(realm, user_id)
        now = self._ctx.clock()
        expires_at = as_utc(expires_at)
        if kind == rules.TEMPORARY and expires_at is not None and expires_at <= now:
            raise InvalidRequest("a temporary lock must expire in the future")
        with self._ctx.engine.begin() as conn:
            changed = rows.set_lock(
                conn,
                realm,
                user_id,
                source=source,
                kind=kind,
                reason=reason,
                actor=actor,
                expires_at=expires_at,
                now=now,
            )
            if not changed:
                return
            until = expires_at.isoformat() if expires_at and kind == rules.TEMPORARY else None
            self._ctx.events.record(
                conn,
                "locked",
                realm,
                user_id,
                actor=actor,
                at=now,
                details={"source": source, "kind": kind, "reason": reason, "until": until},
                mail="locked",
                mail_context={"when": now.isoformat(), "until": until},
            )

    def clear(
        self, realm: str, user_id: str, *, source: str, actor: str, reason: str, allow_permanent: bool = False
    ) -> bool:
        """Lift the lock of ``source``; True when an active lock was lifted.

        Raises :class:`PermanentLockError` for a permanent lock unless ``allow_permanent`` (an admin or
        directory decision must not be undone by a side effect).
        """
        check_ids(realm, user_id)
        if source not in rules.SOURCES:
            raise InvalidRequest(f"lock source must be one of {', '.join(rules.SOURCES)}")
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            existing = rows.get_lock(conn, realm, user_id, source, now)
            if existing is None:
                return False
            if existing.kind == rules.PERMANENT and not allow_permanent:
                raise PermanentLockError(f"the {source} lock is permanent; pass allow_permanent to lift it")
            rows.delete_lock(conn, realm, user_id, source, now)
            if not existing.active:
                return False
            self._record_unlocked(
                conn, realm, user_id, source, existing.kind, actor=actor, reason=reason, now=now
            )
        return True

    def clear_temporary_codes_locks(self, realm: str, *, actor: str, reason: str) -> list[str]:
        """Lift every temporary codes lock of ``realm`` (Keycloak's "unlock all users"); the users whose
        active lock was lifted, sorted, each audited ``unlocked`` in ``actor``'s name and mailed.

        Like :meth:`clear` for one user it is a side effect of an admin's decision in Keycloak, so a
        permanent codes lock stays, and so do the Keycloak and directory locks (not the bridge's to lift).
        One transaction: every user's audit row and mail, or none.
        """
        check_realm(realm)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            lifted = unlock_all.lift_temporary_codes_locks(conn, realm, now)
            for user_id in lifted:
                self._record_unlocked(
                    conn, realm, user_id, rules.CODES, rules.TEMPORARY, actor=actor, reason=reason, now=now
                )
        return lifted

    def _record_unlocked(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        source: str,
        kind: str,
        *,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None:
        """The audit row and the mail of a lifted lock, in the lifting transaction."""
        self._ctx.events.record(
            conn,
            "unlocked",
            realm,
            user_id,
            actor=actor,
            at=now,
            details={"source": source, "kind": kind, "reason": reason},
            mail="unlocked",
            mail_context={"when": now.isoformat()},
        )

    def state(self, realm: str, user_id: str) -> LockState:
        with self._ctx.engine.connect() as conn:
            return rows.current(conn, realm, user_id, self._ctx.clock())

    def list(self, realm: str, user_id: str) -> list[Lock]:
        """Every stored lock row (expired temporary ones marked ``active=False``)."""
        with self._ctx.engine.connect() as conn:
            return rows.list_locks(conn, realm, user_id, self._ctx.clock())
