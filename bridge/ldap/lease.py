"""One leader per realm: a lease row ``ldap-sync-lease:<realm>`` in ``job_state`` (owner, lease_until).

It is taken with one conditional ``UPDATE``, so two instances racing for it cannot both win; it lasts three
poll intervals (at least 60 s), is renewed between pages so a long reconcile is not taken over halfway, and
is released on the way out so a standby instance takes over at its next try.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update

from bridge.store.db import as_utc, insert_for
from bridge.store.schema import job_state


class LeaseLost(RuntimeError):
    """Another instance holds the sync lease now; this one stops its pass (the watermark is untouched)."""


class Lease:
    """The lease of one realm's sync, held by ``owner``."""

    def __init__(
        self, engine: Engine, name: str, owner: str, poll_seconds: float, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.seconds = max(60.0, 3 * poll_seconds)
        self.clock = clock
        self.holding = False

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live instance holds it."""
        now = self.clock()
        until = now + timedelta(seconds=self.seconds)
        with self.engine.begin() as conn:
            conn.execute(
                insert_for(conn, job_state)
                .values(name=self.name, value={}, owner=None, lease_until=None, updated_at=now)
                .on_conflict_do_nothing(index_elements=[job_state.c.name])
            )
            taken = conn.execute(
                update(job_state)
                .where(
                    job_state.c.name == self.name,
                    or_(
                        job_state.c.owner == self.owner,
                        job_state.c.owner.is_(None),
                        job_state.c.lease_until.is_(None),
                        job_state.c.lease_until < now,
                    ),
                )
                .values(owner=self.owner, lease_until=until, updated_at=now)
            ).rowcount
        self.holding = taken == 1
        return self.holding

    def keep(self) -> None:
        """Renew a held lease between pages, so a long reconcile is not taken over halfway."""
        if self.holding and not self.acquire():
            raise LeaseLost(f"another instance took the {self.name} lease; stopping this pass")

    def release(self) -> None:
        self.holding = False
        with self.engine.begin() as conn:
            conn.execute(
                update(job_state)
                .where(job_state.c.name == self.name, job_state.c.owner == self.owner)
                .values(owner=None, lease_until=None, updated_at=self.clock())
            )

    def holder(self) -> tuple[str | None, datetime | None]:
        """Who holds the lease row and until when, as stored (the lease may have run out)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(job_state.c.owner, job_state.c.lease_until).where(job_state.c.name == self.name)
            ).first()
        return (row.owner, as_utc(row.lease_until)) if row else (None, None)
