"""The ``codes`` and ``users`` tables: a user's set of hashed codes and the per-user flags.

Single use is one conditional ``UPDATE … WHERE id = ? AND used_at IS NULL`` (:func:`consume`): of any
number of racing requests with one code exactly one sees its row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from bridge.store.db import as_utc, insert_for
from bridge.store.schema import codes, users

# Built once: building a statement costs more than running it on SQLite (about 150 µs against 35).
_UNUSED_OTHERS = (
    select(func.count(codes.c.id))
    .where(
        codes.c.realm == bindparam("p_realm"),
        codes.c.user_id == bindparam("p_user_id"),
        codes.c.used_at.is_(None),
        codes.c.id != bindparam("p_code_id"),
    )
    .correlate(None)  # the whole set, not the row being updated
    .scalar_subquery()
)
# The consumed code's row, returning how many unused codes the user has left besides it: the same
# count on SQLite (whose subquery sees the update) and PostgreSQL (whose subquery does not).
_CONSUME = (
    update(codes)
    .where(codes.c.id == bindparam("p_code_id"), codes.c.used_at.is_(None))
    .values(used_at=bindparam("p_now"), used_ip=bindparam("p_ip"))
    .returning(_UNUSED_OTHERS.label("remaining"))
)


def consume(
    conn: Connection, realm: str, user_id: str, code_id: int, client_ip: str | None, now: datetime
) -> int | None:
    """Mark the code used; the user's unused codes left, or None when another request used it first."""
    row = conn.execute(
        _CONSUME,
        {
            "p_realm": realm,
            "p_user_id": user_id,
            "p_code_id": code_id,
            "p_now": now,
            "p_ip": client_ip[:64] if client_ip else None,
        },
    ).first()
    return None if row is None else int(row.remaining)


def delete_set(conn: Connection, realm: str, user_id: str) -> int:
    return conn.execute(
        delete(codes).where(and_(codes.c.realm == realm, codes.c.user_id == user_id))
    ).rowcount


def insert_set(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(codes), rows)


def ensure_user(conn: Connection, realm: str, user_id: str, now: datetime, *, enroll_required: bool) -> None:
    stmt = insert_for(conn, users).values(
        realm=realm,
        user_id=user_id,
        failed_attempts=0,
        lockouts=0,
        enroll_required=enroll_required,
        created_at=now,
        updated_at=now,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[users.c.realm, users.c.user_id],
            set_={"enroll_required": enroll_required, "updated_at": now},
        )
    )


def delete_user(conn: Connection, realm: str, user_id: str) -> None:
    conn.execute(delete(users).where(users.c.realm == realm, users.c.user_id == user_id))


def summary(conn: Connection, realm: str, user_id: str) -> dict[str, Any]:
    """Counts and dates of the user's set, and ``enroll_required``."""
    total, remaining, created_at, last_used_at = conn.execute(
        select(
            func.count(codes.c.id),
            func.coalesce(func.sum(case((codes.c.used_at.is_(None), 1), else_=0)), 0),
            func.min(codes.c.created_at),
            func.max(codes.c.used_at),
        ).where(codes.c.realm == realm, codes.c.user_id == user_id)
    ).one()
    enroll_required = conn.execute(
        select(users.c.enroll_required).where(users.c.realm == realm, users.c.user_id == user_id)
    ).scalar()
    return {
        "total": int(total),
        "remaining": int(remaining),
        "created_at": as_utc(_as_datetime(created_at)),
        "last_used_at": as_utc(_as_datetime(last_used_at)),
        "enroll_required": bool(enroll_required),
    }


def _as_datetime(value: Any) -> datetime | None:
    """Aggregates (min/max) over a DateTime column come back as strings from SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
