"""Per-user failure counting and lock rows (the bridge's own, Keycloak's, the directory's).

The counter is the brute-force limit, so it must hold under concurrency: "check, verify, then
increment" lets every parallel guess through (security.md §4.1). Instead each attempt is *admitted*
by one conditional statement that increments first and refuses once the limit is reached::

    UPDATE users SET failed_attempts = failed_attempts + 1 ... WHERE ... AND failed_attempts < :max
    RETURNING failed_attempts, lockouts

The attempt that takes the counter to the limit places the temporary lock in the same transaction,
before its hash is even checked; if its code turns out to be right the success removes the lock
again. So at most ``max_failures`` attempts reach Argon2 between two successes, however many race.
The counter stays at the limit while the lock runs; the first attempt after expiry resets it.

Lock precedence (:func:`effective`): any active permanent lock beats temporary ones; among
temporary locks the one that ends last wins. An expired temporary lock is not a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, exists, or_, select, update
from sqlalchemy.engine import Connection

from bridge.db import as_utc, insert_for
from bridge.schema import locks, users

SOURCES = ("codes", "keycloak", "directory")
KINDS = ("temporary", "permanent")
TEMPORARY = "temporary"
PERMANENT = "permanent"
CODES = "codes"


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
    """Outcome of :func:`admit`.

    ``outcome``: ``counted`` (go on and verify), ``unknown_user`` (no user row: nothing to count,
    verify against the dummy anyway) or ``locked`` (limit reached: refuse without hashing).
    ``placed_lock_until`` is set when this very attempt reached the limit and placed the lock.
    """

    outcome: str
    failed_attempts: int = 0
    placed_lock_until: datetime | None = None


# The statements every verification runs, built once: building one costs more than running it on
# SQLite (about 150 µs against 35). Parameters are ``p_``-prefixed, apart from column names.
_OF_USER = and_(users.c.realm == bindparam("p_realm"), users.c.user_id == bindparam("p_user_id"))
_LIST_LOCKS = (
    select(locks)
    .where(locks.c.realm == bindparam("p_realm"), locks.c.user_id == bindparam("p_user_id"))
    .order_by(locks.c.source)
)
_INCREMENT = (
    update(users)
    .where(_OF_USER, users.c.failed_attempts < bindparam("p_max"))
    .values(
        failed_attempts=users.c.failed_attempts + 1,
        lockouts=case(
            (users.c.failed_attempts + 1 >= bindparam("p_max"), users.c.lockouts + 1), else_=users.c.lockouts
        ),
        updated_at=bindparam("p_now"),
    )
    .returning(users.c.failed_attempts, users.c.lockouts)
)
_USER_EXISTS = select(users.c.failed_attempts).where(_OF_USER)
_FORGET_FAILURES = (
    update(users).where(_OF_USER).values(failed_attempts=0, lockouts=0, updated_at=bindparam("p_now"))
)
_DELETE_TEMPORARY_CODES_LOCK = delete(locks).where(
    locks.c.realm == bindparam("p_realm"),
    locks.c.user_id == bindparam("p_user_id"),
    locks.c.source == CODES,
    locks.c.kind == TEMPORARY,
)


def backoff_seconds(lockouts: int, base: int, cap: int) -> int:
    """``base * 2**lockouts`` capped at ``cap``: the n-th consecutive lockout (0-based) lasts this long."""
    if lockouts >= 32:  # 2**32 * any base is already past any sane cap
        return cap
    return min(base * (2 ** max(lockouts, 0)), cap)


def is_active(kind: str, expires_at: datetime | None, now: datetime) -> bool:
    if kind == PERMANENT:
        return True
    return expires_at is not None and expires_at > now


def effective(rows: list[Lock]) -> LockState:
    active = [row for row in rows if row.active]
    if not active:
        return UNLOCKED
    permanent = [row for row in active if row.kind == PERMANENT]
    if permanent:
        first = sorted(permanent, key=lambda row: SOURCES.index(row.source) if row.source in SOURCES else 99)[
            0
        ]
        return LockState(locked=True, source=first.source, kind=PERMANENT, until=None)
    last = max(active, key=lambda row: row.expires_at or row.locked_at)
    return LockState(locked=True, source=last.source, kind=TEMPORARY, until=last.expires_at)


def list_locks(conn: Connection, realm: str, user_id: str, now: datetime) -> list[Lock]:
    rows = conn.execute(_LIST_LOCKS, {"p_realm": realm, "p_user_id": user_id}).all()
    result = []
    for row in rows:
        expires_at = as_utc(row.expires_at)
        result.append(
            Lock(
                source=row.source,
                kind=row.kind,
                reason=row.reason or "",
                actor=row.actor or "",
                locked_at=as_utc(row.locked_at),  # type: ignore[arg-type]
                expires_at=expires_at,
                active=is_active(row.kind, expires_at, now),
            )
        )
    return result


def current(conn: Connection, realm: str, user_id: str, now: datetime) -> LockState:
    return effective(list_locks(conn, realm, user_id, now))


def _user(realm: str, user_id: str) -> Any:
    return and_(users.c.realm == realm, users.c.user_id == user_id)


def _codes_lock(realm: str, user_id: str) -> Any:
    return and_(locks.c.realm == realm, locks.c.user_id == user_id, locks.c.source == CODES)


def admit(
    conn: Connection,
    realm: str,
    user_id: str,
    *,
    max_failures: int,
    lockout_seconds: int,
    lockout_max_seconds: int,
    now: datetime,
) -> Admission:
    """Count this attempt before it is verified; see the module docstring."""
    admission = _increment(conn, realm, user_id, max_failures, lockout_seconds, lockout_max_seconds, now)
    if admission is not None:
        return admission
    if conn.execute(_USER_EXISTS, {"p_realm": realm, "p_user_id": user_id}).first() is None:
        return Admission(outcome="unknown_user")
    if _release_expired(conn, realm, user_id, max_failures, now):
        admission = _increment(conn, realm, user_id, max_failures, lockout_seconds, lockout_max_seconds, now)
        if admission is not None:
            return admission
    return Admission(outcome="locked")


def _increment(
    conn: Connection,
    realm: str,
    user_id: str,
    max_failures: int,
    lockout_seconds: int,
    lockout_max_seconds: int,
    now: datetime,
) -> Admission | None:
    row = conn.execute(
        _INCREMENT, {"p_realm": realm, "p_user_id": user_id, "p_max": max_failures, "p_now": now}
    ).first()
    if row is None:
        return None
    if row.failed_attempts < max_failures:
        return Admission(outcome="counted", failed_attempts=row.failed_attempts)
    until = now + timedelta(seconds=backoff_seconds(row.lockouts - 1, lockout_seconds, lockout_max_seconds))
    _put_temporary_codes_lock(conn, realm, user_id, until, now)
    return Admission(outcome="counted", failed_attempts=row.failed_attempts, placed_lock_until=until)


def _put_temporary_codes_lock(
    conn: Connection, realm: str, user_id: str, until: datetime, now: datetime
) -> None:
    stmt = insert_for(conn, locks).values(
        realm=realm,
        user_id=user_id,
        source=CODES,
        kind=TEMPORARY,
        reason=f"too many failed backup-code attempts (until {until.isoformat()})",
        actor="system",
        locked_at=now,
        expires_at=until,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[locks.c.realm, locks.c.user_id, locks.c.source],
            set_={
                "kind": stmt.excluded.kind,
                "reason": stmt.excluded.reason,
                "actor": stmt.excluded.actor,
                "locked_at": stmt.excluded.locked_at,
                "expires_at": stmt.excluded.expires_at,
            },
            where=locks.c.kind == TEMPORARY,  # never downgrade an admin's permanent lock
        )
    )


def _release_expired(conn: Connection, realm: str, user_id: str, max_failures: int, now: datetime) -> bool:
    """The counter is at the limit: reset it if no active codes lock holds it there any more.

    Users row first, then locks: every transaction touches rows in the order codes → users → locks,
    so PostgreSQL cannot deadlock two of them.
    """
    active_codes_lock = exists().where(
        _codes_lock(realm, user_id),
        or_(locks.c.kind == PERMANENT, locks.c.expires_at > now),
    )
    reset = conn.execute(
        update(users)
        .where(_user(realm, user_id), users.c.failed_attempts >= max_failures, ~active_codes_lock)
        .values(failed_attempts=0, updated_at=now)
    )
    if reset.rowcount != 1:
        return False
    conn.execute(_DELETE_TEMPORARY_CODES_LOCK, {"p_realm": realm, "p_user_id": user_id})
    return True


def codes_lock_until(conn: Connection, realm: str, user_id: str) -> datetime | None:
    """Expiry of the stored temporary codes lock, if there is one."""
    value = conn.execute(
        select(locks.c.expires_at).where(_codes_lock(realm, user_id), locks.c.kind == TEMPORARY)
    ).scalar()
    return as_utc(value)


def reset_after_success(conn: Connection, realm: str, user_id: str, now: datetime) -> None:
    """A correct code proves possession: forget failures, backoff and the bridge's own temporary lock."""
    conn.execute(_FORGET_FAILURES, {"p_realm": realm, "p_user_id": user_id, "p_now": now})
    conn.execute(_DELETE_TEMPORARY_CODES_LOCK, {"p_realm": realm, "p_user_id": user_id})


def set_lock(
    conn: Connection,
    realm: str,
    user_id: str,
    *,
    source: str,
    kind: str,
    reason: str,
    actor: str,
    expires_at: datetime | None,
    now: datetime,
) -> bool:
    """Insert or replace the lock of ``source``; False when an identical lock is already there."""
    if source not in SOURCES:
        raise ValueError(f"lock source must be one of {', '.join(SOURCES)}")
    if kind not in KINDS:
        raise ValueError(f"lock kind must be one of {', '.join(KINDS)}")
    if kind == TEMPORARY and expires_at is None:
        raise ValueError("a temporary lock needs an expiry")
    if kind == PERMANENT:
        expires_at = None
    existing = conn.execute(
        select(locks.c.kind, locks.c.expires_at, locks.c.reason).where(
            locks.c.realm == realm, locks.c.user_id == user_id, locks.c.source == source
        )
    ).first()
    if existing is not None and existing.kind == kind and as_utc(existing.expires_at) == expires_at:
        return False
    stmt = insert_for(conn, locks).values(
        realm=realm,
        user_id=user_id,
        source=source,
        kind=kind,
        reason=reason,
        actor=actor,
        locked_at=now,
        expires_at=expires_at,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[locks.c.realm, locks.c.user_id, locks.c.source],
            set_={
                "kind": stmt.excluded.kind,
                "reason": stmt.excluded.reason,
                "actor": stmt.excluded.actor,
                "locked_at": stmt.excluded.locked_at,
                "expires_at": stmt.excluded.expires_at,
            },
        )
    )
    return True


def get_lock(conn: Connection, realm: str, user_id: str, source: str, now: datetime) -> Lock | None:
    return next((row for row in list_locks(conn, realm, user_id, now) if row.source == source), None)


def delete_lock(conn: Connection, realm: str, user_id: str, source: str, now: datetime) -> None:
    """Remove the lock of ``source``; clearing the bridge's own lock also forgets the failure count."""
    if source == CODES:
        conn.execute(update(users).where(_user(realm, user_id)).values(failed_attempts=0, updated_at=now))
    conn.execute(
        delete(locks).where(locks.c.realm == realm, locks.c.user_id == user_id, locks.c.source == source)
    )
