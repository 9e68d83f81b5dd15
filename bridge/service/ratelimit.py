"""Per-client-IP fixed-window request counter, kept in the database so every bridge process shares it.

Applied before any hashing: a flood of bad codes from one address costs a single upsert per request,
not an Argon2 verification (security.md §4.2). One atomic ``INSERT … ON CONFLICT DO UPDATE SET
count = count + 1 RETURNING count`` per request, so concurrent processes never lose a count.

The count is kept per *client*, not per spelling: :func:`client_key` turns every way of writing one
address (``::ffff:192.0.2.7``, ``::FFFF:c000:207``, ``2001:db8::1%3``) into one key, and puts every
IPv6 address of one /64 (``BACKUP_CODES_IP_RATE_IPV6_PREFIX``) into one bucket: a single host usually
gets a whole /64, so counting per address would let it spread its guesses over 2^64 keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.engine import Connection

from bridge.domain.addresses import DEFAULT_IPV6_PREFIX, canonical_ip, client_key
from bridge.store.db import Upsert
from bridge.store.rate_limits import counting
from bridge.store.schema import rate_limits

KEY_LENGTH = 128
__all__ = [
    "DEFAULT_IPV6_PREFIX",
    "Decision",
    "RateLimiter",
    "canonical_ip",
    "client_key",
    "purge",
    "window_start",
]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends (0 when allowed)
    row: Any = None  # the counting statement's whole row, when it returned more than the count


_COUNT = counting()  # built once (bridge.store.db.Upsert): it runs on every verification
_PURGE = delete(rate_limits).where(rate_limits.c.window_start < bindparam("p_before"))


def window_start(epoch_seconds: int, window: int) -> int:
    return epoch_seconds - epoch_seconds % window


class RateLimiter:
    """A fixed-window limit shared through the database; build one per process and database.

    It remembers the newest window it has purged, so finished windows are deleted once per window by
    each process, not at the first request of every client address in it (with many addresses that
    was one more DELETE on most verifications).
    """

    def __init__(self, *, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self._purged_for = -1  # window start of the last purge; a repeated purge is harmless, only wasted

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window > 0

    def hit(
        self,
        conn: Connection,
        key: str,
        *,
        epoch_seconds: int,
        statement: Upsert = _COUNT,
        params: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Count one request for ``key``; a limit or window of 0 disables the limit.

        ``statement`` (from :func:`bridge.store.rate_limits.counting`) may return more than the count,
        with its own ``params``: the decision carries that row.
        """
        if not self.enabled:
            return Decision(allowed=True, count=0, retry_after=0)
        key = key[:KEY_LENGTH]
        start = window_start(epoch_seconds, self.window)
        values = {"key": key, "window_start": start, "count": 1, **(params or {})}
        row = conn.execute(statement.on(conn), values).one()
        count = row.count
        if count == 1 and start > self._purged_for:
            purge(conn, before=start - self.window)
            self._purged_for = start
        if count <= self.limit:
            return Decision(allowed=True, count=count, retry_after=0, row=row)
        return Decision(allowed=False, count=count, retry_after=start + self.window - epoch_seconds, row=row)


def purge(conn: Connection, *, before: int) -> int:
    """Delete windows that started before ``before`` (epoch seconds)."""
    return conn.execute(_PURGE, {"p_before": before}).rowcount
