"""What a sync remembers and reports: its ``job_state`` row, the counts of a pass, the Prometheus series.

Every module of the sync logs through one logger, ``bridge.ldap.sync``: operators filter the sync's lines
by that name, whichever part of it wrote them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from bridge.store.db import insert_for, unavailable_reason
from bridge.store.schema import job_state

log = logging.getLogger("bridge.ldap.sync")

ACTOR = "ldap-sync"

LAG = Gauge("backup_codes_ldap_sync_lag_seconds", "Seconds since the last successful LDAP sync pass")
_last_success = [time.monotonic()]
LAG.set_function(lambda: time.monotonic() - _last_success[0])
SCANNED = Counter("backup_codes_ldap_sync_entries_scanned_total", "Directory entries read", ["mode"])
APPLIED = Counter("backup_codes_ldap_sync_changes_applied_total", "Changes applied", ["change"])
ERRORS = Counter("backup_codes_ldap_sync_errors_total", "Sync errors", ["kind"])


def mark_success() -> None:
    """A pass succeeded: the lag gauge counts from now."""
    _last_success[0] = time.monotonic()


class Stopping(Exception):
    """A stop was asked for: the pass ends at the next safe point (between entries, or in a pause).

    Entries already applied are recorded, the rest of the page is not started, and the watermark stays
    where it was, so the next run reads the page again and the applied entries are no-ops.
    """


@dataclass
class PassResult:
    """What one poll or reconcile did (also what ``status`` reports as the last counts)."""

    mode: str
    scanned: int = 0
    applied: int = 0
    skipped_unchanged: int = 0
    unmapped: int = 0
    malformed: int = 0
    deleted: int = 0
    written_back: int = 0
    changes: dict[str, int] = field(default_factory=dict)

    def count(self, change: str) -> None:
        self.changes[change] = self.changes.get(change, 0) + 1
        APPLIED.labels(change).inc()

    def counts(self) -> dict[str, int]:
        """The counts ``status`` shows as ``last_counts``."""
        return {
            "scanned": self.scanned,
            "applied": self.applied,
            "unchanged": self.skipped_unchanged,
            "unmapped": self.unmapped,
            "malformed": self.malformed,
            "deleted": self.deleted,
            "written_back": self.written_back,
            **{f"change_{k}": v for k, v in self.changes.items()},
        }


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def database_unavailable(error: OperationalError, consequence: str) -> None:
    """One counted log line, not a trace: the sync outlives a database restart or failover."""
    ERRORS.labels("database").inc()
    log.error("ldap-sync: database unavailable, %s: %s", consequence, unavailable_reason(error))


class JobState:
    """The ``ldap-sync:<realm>`` row in ``job_state``: watermark, seen markers, last counts, errors."""

    def __init__(self, engine: Engine, name: str, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.name = name
        self.clock = clock

    def load(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(job_state.c.value).where(job_state.c.name == self.name)).first()
        return dict(row.value) if row and row.value else {}

    def save(self, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into the state row (one transaction: read, merge, write)."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(select(job_state.c.value).where(job_state.c.name == self.name)).first()
            value = dict(row.value) if row and row.value else {}
            value.update(updates)
            stmt = insert_for(conn, job_state).values(name=self.name, value=value, updated_at=now)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[job_state.c.name],
                    set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
                )
            )

    def record_error(self, message: str) -> None:
        try:
            self.save({"last_error": message[:500], "last_error_at": self.clock().isoformat()})
        except Exception:  # the database may be the thing that is down; the log still has it
            log.exception("ldap-sync: cannot record the error in job_state")
