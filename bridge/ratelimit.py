"""Per-client-IP fixed-window request counter, kept in the database so every bridge process shares it.

Applied before any hashing: a flood of bad codes from one address costs a single upsert per request,
not an Argon2 verification (security.md §4.2). One atomic ``INSERT … ON CONFLICT DO UPDATE SET
count = count + 1 RETURNING count`` per request, so concurrent processes never lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete
from sqlalchemy.engine import Connection

from bridge.db import Upsert
from bridge.schema import rate_limits

KEY_LENGTH = 128


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends (0 when allowed)


# Built once (bridge.db.Upsert): these run on every verification.
_COUNT = Upsert(
    lambda insert: (
        insert(rate_limits)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key, rate_limits.c.window_start],
            set_={"count": rate_limits.c.count + 1},
        )
        .returning(rate_limits.c.count)
    )
)
_PURGE = delete(rate_limits).where(rate_limits.c.window_start < bindparam("p_before"))


def window_start(epoch_seconds: int, window: int) -> int:
    return epoch_seconds - epoch_seconds % window


def hit(conn: Connection, key: str, *, limit: int, window: int, epoch_seconds: int) -> Decision:
    """Count one request for ``key``; ``limit <= 0`` disables the limit."""
    if limit <= 0 or window <= 0:
        return Decision(allowed=True, count=0, retry_after=0)
    key = key[:KEY_LENGTH]
    start = window_start(epoch_seconds, window)
    count = conn.execute(_COUNT.on(conn), {"key": key, "window_start": start, "count": 1}).scalar_one()
    if count == 1:
        # First request of a new window for this key: a cheap moment to drop finished windows.
        purge(conn, before=start - window)
    if count <= limit:
        return Decision(allowed=True, count=count, retry_after=0)
    return Decision(allowed=False, count=count, retry_after=start + window - epoch_seconds)


def purge(conn: Connection, *, before: int) -> int:
    """Delete windows that started before ``before`` (epoch seconds)."""
    return conn.execute(_PURGE, {"p_before": before}).rowcount
