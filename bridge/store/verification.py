"""The one read of a verification: policy, failure counter, locks, candidate row and unused count.

One statement: a one-row source left-joined to the user's row, the code row with the input's
selector and the user's lock rows (at most one per source, so at most three rows come back), with the
realm's policy and the unused count as scalar subqueries. The subqueries opt out of correlation: they
read the user's whole set and the policies table, not a joined row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select
from sqlalchemy.engine import Connection

from bridge.domain import locks as lock_rules
from bridge.domain.policy import from_stored
from bridge.domain.verification import Candidate, Snapshot
from bridge.settings import Settings
from bridge.store.db import as_utc
from bridge.store.locks import to_lock
from bridge.store.schema import codes, locks, policies, users


def _build() -> Any:
    realm, user_id = bindparam("p_realm"), bindparam("p_user_id")
    unused = (
        select(func.count(codes.c.id))
        .where(codes.c.realm == realm, codes.c.user_id == user_id, codes.c.used_at.is_(None))
        .correlate(None)
        .scalar_subquery()
    )
    policy = select(policies.c.settings).where(policies.c.realm == realm).correlate(None).scalar_subquery()
    one_row = select(literal(1).label("one")).subquery()
    joined = (
        one_row.outerjoin(users, and_(users.c.realm == realm, users.c.user_id == user_id))
        .outerjoin(
            codes,
            and_(
                codes.c.realm == realm,
                codes.c.user_id == user_id,
                codes.c.selector == bindparam("p_selector"),
            ),
        )
        .outerjoin(locks, and_(locks.c.realm == realm, locks.c.user_id == user_id))
    )
    return select(
        policy.label("policy"),
        unused.label("unused"),
        users.c.user_id.label("known"),
        users.c.failed_attempts,
        users.c.in_flight,
        users.c.in_flight_until,
        users.c.enroll_required,
        codes.c.id.label("code_id"),
        codes.c.hash.label("code_hash"),
        codes.c.used_at,
        codes.c.set_id,
        locks.c.source,
        locks.c.kind,
        locks.c.reason,
        locks.c.actor,
        locks.c.locked_at,
        locks.c.expires_at,
    ).select_from(joined)


_READ = _build()  # built once: building costs more than running it on SQLite


def read(
    conn: Connection, realm: str, user_id: str, selector: str, settings: Settings, now: datetime
) -> Snapshot:
    rows = conn.execute(_READ, {"p_realm": realm, "p_user_id": user_id, "p_selector": selector}).all()
    first = rows[0]
    candidate = None
    if first.code_id is not None:
        candidate = Candidate(
            code_id=first.code_id,
            code_hash=first.code_hash,
            used=first.used_at is not None,
            set_id=first.set_id,
        )
    known = first.known is not None
    return Snapshot(
        policy=from_stored(first.policy, settings),
        known=known,
        failed_attempts=first.failed_attempts or 0,
        in_flight=lock_rules.live_in_flight(first.in_flight or 0, as_utc(first.in_flight_until), now),
        enroll_required=bool(first.enroll_required),
        locks=tuple(to_lock(row, now) for row in rows if row.source is not None),
        candidate=candidate,
        unused=int(first.unused),
    )
