"""What the LDAP sync needs from the service besides ``BackupCodes``' per-user calls.

The sync mirrors lock changes between the bridge and the directory. It reads the bridge's lock rows and
writes audit rows only through these functions, so the lock table and the audit trail keep one owner (the
service) and the sync never needs to know their shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, or_, select

from bridge.store import audit
from bridge.store.db import as_utc
from bridge.store.schema import locks

DIRECTORY = "directory"
CODES = "codes"


@dataclass(frozen=True)
class Lockout:
    """A bridge lockout for wrong codes, as the sync may mirror it into the directory."""

    user_id: str
    locked_at: datetime


def users_with_lock(engine: Engine, realm: str, user_ids: Iterable[str], source: str = DIRECTORY) -> set[str]:
    """Which of these users hold a lock row of ``source`` (active or not: the row is what counts)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            select(locks.c.user_id).where(
                locks.c.realm == realm, locks.c.source == source, locks.c.user_id.in_(wanted)
            )
        ).all()
    return {row.user_id for row in rows}


def lockouts_since(engine: Engine, realm: str, since: datetime, now: datetime) -> list[Lockout]:
    """Lockouts for wrong codes placed at or after ``since`` and still active at ``now``, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(locks.c.user_id, locks.c.locked_at)
            .where(
                locks.c.realm == realm,
                locks.c.source == CODES,
                locks.c.locked_at >= since,
                or_(locks.c.expires_at.is_(None), locks.c.expires_at > now),
            )
            .order_by(locks.c.locked_at)
        ).all()
    return [Lockout(row.user_id, as_utc(row.locked_at) or now) for row in rows]


def record_directory_write(
    engine: Engine, *, realm: str, user_id: str, event: str, actor: str, details: dict[str, Any]
) -> None:
    """Audit a lock the sync wrote into the directory (``locked``) or cleared there (``unlocked``)."""
    with engine.begin() as conn:
        audit.record(conn, event=event, realm=realm, user_id=user_id, actor=actor, details=details)
