"""Per-user failure counting and lock rows (the bridge's own, Keycloak's, the directory's).

The counter is the brute-force limit, so it must hold under concurrency: "check, verify, then
increment" lets every parallel guess through (security.md §4.1). But counting an attempt as a failure
before its hash is checked (and forgetting it again on success) makes a user's own codes lock them:
ten valid codes submitted at once (double submits, two tabs, a retrying client) put the counter at the
limit before any of them has proved anything. So an attempt is counted twice over, apart:

* ``in_flight``: admitted, hash still running. Admission is one conditional statement that reserves
  a place only while settled failures plus attempts in flight stay under the limit::

      UPDATE users SET in_flight = in_flight + 1 ...
      WHERE ... AND failed_attempts + in_flight < :max

* ``failed_attempts``: settled failures. The attempt gives its place back once its hash is checked,
  in the transaction that records its outcome: a failure adds one (and the failure that reaches the
  limit places the temporary lock), a success forgets every failure.

:func:`decide` is the rule: under the limit with everything in flight counted → ``counted`` (hash);
over it only because of attempts still in flight → ``busy`` (no hash, nothing counted or used, the
caller may retry in a moment); settled failures at the limit → ``locked``. So however many race, at
most ``max_failures`` attempts reach Argon2 between two successes, and only failures ever lock.

An attempt that never settles (its worker killed mid-hash, the database gone before the result was
written) must not hold its place for ever: the whole in-flight count is void once ``in_flight_until``
has passed, which every admission moves to ``IN_FLIGHT_SECONDS`` ahead. The first admission after
that starts a new count (``in_flight_batch`` + 1), and a settlement of the voided batch that arrives
late still records its failure but gives back no place it no longer holds. The bound above therefore
holds for attempts that settle within ``IN_FLIGHT_SECONDS``, which is many times an Argon2
verification even behind a full hash gate.

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

from bridge.store.db import as_utc, insert_for
from bridge.store.schema import locks, users

SOURCES = ("codes", "keycloak", "directory")
KINDS = ("temporary", "permanent")
TEMPORARY = "temporary"
PERMANENT = "permanent"
CODES = "codes"

# Admission outcomes (see :func:`decide`); ``unknown_user`` is the one more :func:`admit` returns.
COUNTED = "counted"
BUSY = "busy"
LOCKED = "locked"
UNKNOWN_USER = "unknown_user"

# How long an admitted attempt may take before its place in the in-flight count is void. A hash takes
# tens of milliseconds (seconds under a full hash gate); this only bounds how long a crashed attempt
# keeps a place, and a user with places left is not held up by it at all.
IN_FLIGHT_SECONDS = 30


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

    ``outcome``: ``counted`` (go on and verify, then settle with ``batch``), ``unknown_user`` (no user
    row: nothing to count, verify against the dummy anyway), ``busy`` (only attempts in flight fill
    the limit: refuse without hashing, retryable) or ``locked`` (failures reached the limit: refuse
    without hashing).
    """

    outcome: str
    failed_attempts: int = 0
    batch: int = 0


@dataclass(frozen=True)
class Settled:
    """A failure recorded by :func:`settle_failure`: the count now, and the lock it placed, if it did."""

    failed_attempts: int
    placed_lock_until: datetime | None = None


def decide(failed_attempts: int, in_flight: int, max_failures: int) -> str:
    """Admit an attempt only while settled failures plus attempts in flight stay under the limit.

    The admission statement applies the same rule atomically; this is its reading for the refusals:
    ``locked`` only when settled failures alone reach the limit, ``busy`` when attempts still in
    flight (which may well succeed) fill the rest.
    """
    if failed_attempts >= max_failures:
        return LOCKED
    if failed_attempts + in_flight >= max_failures:
        return BUSY
    return COUNTED


def live_in_flight(in_flight: int, until: datetime | None, now: datetime) -> int:
    """The in-flight count, or 0 once it is void (nobody admitted for ``IN_FLIGHT_SECONDS``)."""
    return in_flight if until is not None and until > now else 0


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
_SETTLE_SUCCESS = (
    update(users)
    .where(_OF_USER)
    .values(failed_attempts=0, lockouts=0, in_flight=_RELEASED_IN_FLIGHT, updated_at=bindparam("p_now"))
)
_RELEASE = update(users).where(_OF_USER).values(in_flight=_RELEASED_IN_FLIGHT)
_READ_COUNTS = select(users.c.failed_attempts, users.c.in_flight, users.c.in_flight_until).where(_OF_USER)
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
    now: datetime,
) -> Admission:
    """Reserve a place in flight for this attempt before it is verified; see the module docstring."""
    admission = _reserve(conn, realm, user_id, max_failures, now)
    if admission is not None:
        return admission
    row = conn.execute(_READ_COUNTS, {"p_realm": realm, "p_user_id": user_id}).first()
    if row is None:
        return Admission(outcome=UNKNOWN_USER)
    in_flight = live_in_flight(row.in_flight, as_utc(row.in_flight_until), now)
    outcome = decide(row.failed_attempts, in_flight, max_failures)
    if outcome == LOCKED and _release_expired(conn, realm, user_id, max_failures, now):
        outcome = BUSY  # the failures were forgotten: a place is free unless the flight fills the limit
        admission = _reserve(conn, realm, user_id, max_failures, now)
        if admission is not None:
            return admission
    # COUNTED here means places were given back since the statement above ran (PostgreSQL): retryable.
    return Admission(outcome=LOCKED if outcome == LOCKED else BUSY, failed_attempts=row.failed_attempts)


def _reserve(
    conn: Connection, realm: str, user_id: str, max_failures: int, now: datetime
) -> Admission | None:
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


def release(conn: Connection, realm: str, user_id: str, batch: int) -> None:
    """Give back the place of an attempt that ended without an outcome (its hash raised)."""
    conn.execute(_RELEASE, {"p_realm": realm, "p_user_id": user_id, "p_batch": batch})


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
