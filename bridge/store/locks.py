"""Lock rows and the per-user failure counter in the database (the rules: :mod:`bridge.domain.locks`).

Every statement here is one atomic step of the counter described there: reserve a place in flight
(:func:`reserve`), settle a failure (placing the temporary lock at the limit) or a success, give a
place back. Transactions touch rows in the order codes → users → locks, so PostgreSQL cannot deadlock
two of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, exists, or_, select, update
from sqlalchemy.engine import Connection

from bridge.domain.locks import (
    BUSY,
    CODES,
    COUNTED,
    IN_FLIGHT_SECONDS,
    LOCKED,
    PERMANENT,
    RECOVERABLE_SOURCES,
    TEMPORARY,
    UNKNOWN_USER,
    Admission,
    Lock,
    LockState,
    Settled,
    backoff_seconds,
    checked_lock,
    decide,
    effective,
    is_active,
    live_in_flight,
)
from bridge.store.db import as_utc, insert_for
from bridge.store.schema import locks, users

__all__ = [
    "BUSY",
    "CODES",
    "COUNTED",
    "IN_FLIGHT_SECONDS",
    "LOCKED",
    "PERMANENT",
    "TEMPORARY",
    "UNKNOWN_USER",
    "Admission",
    "Lock",
    "LockState",
    "Settled",
    "backoff_seconds",
    "decide",
    "effective",
    "is_active",
    "live_in_flight",
]


# The statements every verification runs, built once: building one costs more than running it on
# SQLite (about 150 µs against 35). Parameters are ``p_``-prefixed, apart from column names.
_OF_USER = and_(users.c.realm == bindparam("p_realm"), users.c.user_id == bindparam("p_user_id"))
_LIST_LOCKS = (
    select(locks)
    .where(locks.c.realm == bindparam("p_realm"), locks.c.user_id == bindparam("p_user_id"))
    .order_by(locks.c.source)
)
_LIVE = users.c.in_flight_until > bindparam("p_now")  # NULL (never admitted) is not live
_LIVE_IN_FLIGHT = case((_LIVE, users.c.in_flight), else_=0)
_ADMIT = (
    update(users)
    .where(_OF_USER, users.c.failed_attempts + _LIVE_IN_FLIGHT < bindparam("p_max"))
    .values(
        in_flight=_LIVE_IN_FLIGHT + 1,
        in_flight_batch=case((_LIVE, users.c.in_flight_batch), else_=users.c.in_flight_batch + 1),
        in_flight_until=case(
            (users.c.in_flight_until > bindparam("p_until"), users.c.in_flight_until),
            else_=bindparam("p_until"),
        ),
        updated_at=bindparam("p_now"),
    )
    .returning(users.c.failed_attempts, users.c.in_flight_batch)
)
# Give back the place of an attempt of ``p_batch``; a voided batch's places are gone already.
_RELEASED_IN_FLIGHT = case(
    (
        and_(users.c.in_flight_batch == bindparam("p_batch"), users.c.in_flight > 0),
        users.c.in_flight - 1,
    ),
    else_=users.c.in_flight,
)
_SETTLE_FAILURE = (
    update(users)
    .where(_OF_USER)
    .values(
        failed_attempts=users.c.failed_attempts + 1,
        lockouts=case(
            (
                and_(
                    users.c.failed_attempts < bindparam("p_max"),
                    users.c.failed_attempts + 1 >= bindparam("p_max"),
                ),
                users.c.lockouts + 1,
            ),
            else_=users.c.lockouts,
        ),
        in_flight=_RELEASED_IN_FLIGHT,
        updated_at=bindparam("p_now"),
    )
    .returning(users.c.failed_attempts, users.c.lockouts)
)
_TEMPORARY_CODES_LOCK = and_(
    locks.c.realm == bindparam("p_realm"),
    locks.c.user_id == bindparam("p_user_id"),
    locks.c.source == CODES,
    locks.c.kind == TEMPORARY,
)
_SETTLE_SUCCESS = (
    update(users)
    .where(_OF_USER)
    .values(failed_attempts=0, lockouts=0, in_flight=_RELEASED_IN_FLIGHT, updated_at=bindparam("p_now"))
)
# The same, telling whether a temporary codes lock is left to delete: almost never, so the success
# that finds none saves the DELETE.
_SETTLE_SUCCESS_LOCKED = _SETTLE_SUCCESS.returning(exists().where(_TEMPORARY_CODES_LOCK).label("locked"))
# A recovery's success also requires a new set, in the same statement (one write of the users row).
_SETTLE_RECOVERY_LOCKED = _SETTLE_SUCCESS_LOCKED.values(enroll_required=True)
_RELEASE = update(users).where(_OF_USER).values(in_flight=_RELEASED_IN_FLIGHT)
_READ_COUNTS = select(users.c.failed_attempts, users.c.in_flight, users.c.in_flight_until).where(_OF_USER)
_FORGET_FAILURES = (
    update(users).where(_OF_USER).values(failed_attempts=0, lockouts=0, updated_at=bindparam("p_now"))
)
_DELETE_TEMPORARY_CODES_LOCK = delete(locks).where(_TEMPORARY_CODES_LOCK)


def list_locks(conn: Connection, realm: str, user_id: str, now: datetime) -> list[Lock]:
    rows = conn.execute(_LIST_LOCKS, {"p_realm": realm, "p_user_id": user_id}).all()
    return [to_lock(row, now) for row in rows]


def to_lock(row: Any, now: datetime) -> Lock:
    """A ``locks`` row (or any row with its columns) as a :class:`Lock`, active or not at ``now``."""
    expires_at = as_utc(row.expires_at)
    return Lock(
        source=row.source,
        kind=row.kind,
        reason=row.reason or "",
        actor=row.actor or "",
        locked_at=as_utc(row.locked_at),  # type: ignore[arg-type]
        expires_at=expires_at,
        active=is_active(row.kind, expires_at, now),
    )


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
    now: datetime,
) -> Admission:
    """Reserve a place in flight for this attempt before it is verified; see the module docstring."""
    admission = reserve(conn, realm, user_id, max_failures, now)
    if admission is not None:
        return admission
    row = conn.execute(_READ_COUNTS, {"p_realm": realm, "p_user_id": user_id}).first()
    if row is None:
        return Admission(outcome=UNKNOWN_USER)
    in_flight = live_in_flight(row.in_flight, as_utc(row.in_flight_until), now)
    outcome = decide(row.failed_attempts, in_flight, max_failures)
    if outcome == LOCKED and release_expired(conn, realm, user_id, max_failures, now):
        outcome = BUSY  # the failures were forgotten: a place is free unless the flight fills the limit
        admission = reserve(conn, realm, user_id, max_failures, now)
        if admission is not None:
            return admission
    # COUNTED here means places were given back since the statement above ran (PostgreSQL): retryable.
    return Admission(outcome=LOCKED if outcome == LOCKED else BUSY, failed_attempts=row.failed_attempts)


def reserve(conn: Connection, realm: str, user_id: str, max_failures: int, now: datetime) -> Admission | None:
    until = now + timedelta(seconds=IN_FLIGHT_SECONDS)
    row = conn.execute(
        _ADMIT,
        {"p_realm": realm, "p_user_id": user_id, "p_max": max_failures, "p_now": now, "p_until": until},
    ).first()
    if row is None:
        return None
    return Admission(outcome=COUNTED, failed_attempts=row.failed_attempts, batch=row.in_flight_batch)


def settle_failure(
    conn: Connection,
    realm: str,
    user_id: str,
    batch: int,
    *,
    max_failures: int,
    lockout_seconds: int,
    lockout_max_seconds: int,
    now: datetime,
) -> Settled:
    """A counted attempt failed: one more failure, its place given back; the failure that reaches
    the limit places the temporary lock (backoff by consecutive lockouts) in the same transaction."""
    row = conn.execute(
        _SETTLE_FAILURE,
        {"p_realm": realm, "p_user_id": user_id, "p_max": max_failures, "p_batch": batch, "p_now": now},
    ).first()
    if row is None:  # the user was deleted meanwhile: nothing left to count or lock
        return Settled(failed_attempts=0)
    if not row.failed_attempts - 1 < max_failures <= row.failed_attempts:
        return Settled(failed_attempts=row.failed_attempts)
    until = now + timedelta(seconds=backoff_seconds(row.lockouts - 1, lockout_seconds, lockout_max_seconds))
    _put_temporary_codes_lock(conn, realm, user_id, until, now)
    return Settled(failed_attempts=row.failed_attempts, placed_lock_until=until)


def settle_success(
    conn: Connection, realm: str, user_id: str, batch: int, now: datetime, *, require_enrolment: bool = False
) -> None:
    """A counted attempt succeeded: forget failures and backoff, give its place back, and lift the
    bridge's own temporary lock if a racing failure placed one (a correct code proves possession).

    ``require_enrolment`` (a recovery): the same statement sets ``enroll_required``, so the users row is
    written once, before any lock row (the order codes → users → locks).
    """
    params = {"p_realm": realm, "p_user_id": user_id, "p_batch": batch, "p_now": now}
    statement = _SETTLE_RECOVERY_LOCKED if require_enrolment else _SETTLE_SUCCESS_LOCKED
    row = conn.execute(statement, params).first()
    if row is not None and row.locked:
        conn.execute(_DELETE_TEMPORARY_CODES_LOCK, {"p_realm": realm, "p_user_id": user_id})


_DELETE_RECOVERABLE = (
    delete(locks)
    .where(
        locks.c.realm == bindparam("p_realm"),
        locks.c.user_id == bindparam("p_user_id"),
        locks.c.source.in_(RECOVERABLE_SOURCES),
        locks.c.kind == TEMPORARY,
        locks.c.expires_at > bindparam("p_now"),
    )
    .returning(locks.c.source)
)


def delete_recoverable(conn: Connection, realm: str, user_id: str, now: datetime) -> list[str]:
    """Delete the active temporary Keycloak/directory lock rows in one statement; returns the sources
    actually deleted, sorted."""
    rows = conn.execute(_DELETE_RECOVERABLE, {"p_realm": realm, "p_user_id": user_id, "p_now": now})
    return sorted(rows.scalars())


def release(conn: Connection, realm: str, user_id: str, batch: int) -> None:
    """Give back the place of an attempt that ended without an outcome (its hash raised)."""
    conn.execute(_RELEASE, {"p_realm": realm, "p_user_id": user_id, "p_batch": batch})


def _put_temporary_codes_lock(
    conn: Connection, realm: str, user_id: str, until: datetime, now: datetime
) -> None:
    _upsert_lock(
        conn,
        dict(
            realm=realm,
            user_id=user_id,
            source=CODES,
            kind=TEMPORARY,
            reason=f"too many failed backup-code attempts (until {until.isoformat()})",
            actor="system",
            locked_at=now,
            expires_at=until,
        ),
        where=locks.c.kind == TEMPORARY,  # never downgrade an admin's permanent lock
    )


def _upsert_lock(conn: Connection, row: dict[str, Any], *, where: Any = None) -> None:
    """Insert the lock ``row``, or replace the one its source already has (only where ``where`` holds)."""
    stmt = insert_for(conn, locks).values(**row)
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
            where=where,
        )
    )


def release_expired(conn: Connection, realm: str, user_id: str, max_failures: int, now: datetime) -> bool:
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


def reset_after_success(
    conn: Connection, realm: str, user_id: str, now: datetime, batch: int | None = None
) -> None:
    """A correct code proves possession: forget failures, backoff and the bridge's own temporary lock.

    ``batch``: the success settles a counted attempt of that batch, whose place it gives back.
    """
    if batch is None:
        conn.execute(_FORGET_FAILURES, {"p_realm": realm, "p_user_id": user_id, "p_now": now})
    else:
        conn.execute(
            _SETTLE_SUCCESS, {"p_realm": realm, "p_user_id": user_id, "p_batch": batch, "p_now": now}
        )
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
    expires_at = checked_lock(source, kind, expires_at)
    existing = conn.execute(
        select(locks.c.kind, locks.c.expires_at, locks.c.reason).where(
            locks.c.realm == realm, locks.c.user_id == user_id, locks.c.source == source
        )
    ).first()
    if existing is not None and existing.kind == kind and as_utc(existing.expires_at) == expires_at:
        return False
    _upsert_lock(
        conn,
        dict(
            realm=realm,
            user_id=user_id,
            source=source,
            kind=kind,
            reason=reason,
            actor=actor,
            locked_at=now,
            expires_at=expires_at,
        ),
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


def delete_all(conn: Connection, realm: str, user_id: str) -> None:
    conn.execute(delete(locks).where(locks.c.realm == realm, locks.c.user_id == user_id))
