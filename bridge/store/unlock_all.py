"""Keycloak's "unlock all users" in the database: every temporary codes lock of a realm lifted at once.

Apart from :mod:`bridge.store.locks` (one user's lock rows and counter) because it works on a realm,
not a user, and reads no statement of the verification path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, update
from sqlalchemy.engine import Connection

from bridge.domain.locks import CODES, TEMPORARY, is_active
from bridge.store.db import as_utc
from bridge.store.schema import locks, users


def lift_temporary_codes_locks(conn: Connection, realm: str, now: datetime) -> list[str]:
    """Delete every temporary codes lock of ``realm`` (Keycloak's "unlock all users"), forgetting those
    users' failure counts as :func:`delete_lock` does; returns the users whose lock was still active, sorted.

    Permanent codes locks and the other sources' locks stay. The users rows are written first, then the
    locks (the order codes → users → locks), so PostgreSQL cannot deadlock this with a verification; a
    lock without a users row (set through the API before any code was issued) is lifted all the same.
    """
    has_lock = exists().where(
        locks.c.realm == users.c.realm,
        locks.c.user_id == users.c.user_id,
        locks.c.source == CODES,
        locks.c.kind == TEMPORARY,
    )
    conn.execute(
        update(users).where(users.c.realm == realm, has_lock).values(failed_attempts=0, updated_at=now)
    )
    deleted = conn.execute(
        delete(locks)
        .where(locks.c.realm == realm, locks.c.source == CODES, locks.c.kind == TEMPORARY)
        .returning(locks.c.user_id, locks.c.expires_at)
    )
    return sorted(row.user_id for row in deleted if is_active(TEMPORARY, as_utc(row.expires_at), now))
