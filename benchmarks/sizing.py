"""Figures for the sizing table in docs/operations.md, measured in one process on this machine.

Run: ``.venv/bin/python benchmarks/sizing.py`` (about a minute; throwaway SQLite database, the Argon2
cost from the environment, i.e. the production defaults unless BACKUP_CODES_ARGON2_* are set).

Prints:
* raw Argon2id verifications per second on one core (the ceiling per bridge worker);
* in-process ``BackupCodes.verify`` per second with valid codes, and its p50/p95 latency;
* ``BackupCodes.issue`` (a whole set) per second;
* database bytes per enrolled user with one set and a year of audit events (``AUDIT_PER_USER``).

HTTP throughput across worker processes is ``benchmarks/verify.py``'s job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from bridge.service import BackupCodes  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from bridge.store import migrations  # noqa: E402
from bridge.store.db import make_engine, utcnow  # noqa: E402
from bridge.store.schema import audit_events  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "40"))
RAW_VERIFIES = int(os.environ.get("BENCH_RAW", "60"))
# One login a working day with a code is far above real use; it makes the storage figure an upper bound.
AUDIT_PER_USER = int(os.environ.get("BENCH_AUDIT_PER_USER", "250"))


def raw_argon2_per_second(settings: Settings) -> float:
    ph = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    stored = ph.hash("x" * 40)
    started = time.perf_counter()
    for _ in range(RAW_VERIFIES):
        ph.verify(stored, "x" * 40)
    return RAW_VERIFIES / (time.perf_counter() - started)


def main() -> None:
    # No options: the Argon2 cost comes from the environment. --help prints what the run measures.
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.sqlite"
        os.environ["BACKUP_CODES_DATABASE_URL"] = f"sqlite:///{db_path}"
        settings = Settings.from_env()
        engine = make_engine(settings)
        migrations.upgrade(engine)
        svc = BackupCodes(engine, settings)

        raw = raw_argon2_per_second(settings)

        started = time.perf_counter()
        sets = {f"user-{n}": svc.issue("bench", f"user-{n}", actor="bench").codes for n in range(USERS)}
        issue_rate = USERS / (time.perf_counter() - started)

        latencies: list[float] = []
        for n, (user, codes) in enumerate(sets.items()):
            began = time.perf_counter()
            result = svc.verify("bench", user, codes[0], client_ip=f"10.0.{n // 250}.{n % 250}")
            latencies.append(time.perf_counter() - began)
            assert result.valid, result
        verify_rate = len(latencies) / sum(latencies)
        p50 = statistics.median(latencies) * 1000
        p95 = statistics.quantiles(latencies, n=20)[18] * 1000

        size_before = db_path.stat().st_size
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(
                insert(audit_events),
                [
                    {
                        "at": now,
                        "realm": "bench",
                        "user_id": user,
                        "event": "used",
                        "actor": "keycloak",
                        "client_ip": "203.0.113.7",
                        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
                        "details": {"remaining": 9, "purpose": "login"},
                    }
                    for user in sets
                    for _ in range(AUDIT_PER_USER)
                ],
            )
        engine.dispose()
        with make_engine(settings).begin() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("VACUUM")
        per_user = db_path.stat().st_size / USERS

    cost = settings.argon2_memory_cost, settings.argon2_time_cost, settings.argon2_parallelism
    print("Argon2id m={} KiB t={} p={}".format(*cost))
    print(f"raw Argon2id verifications/s, one core:      {raw:7.1f}")
    print(f"BackupCodes.verify/s, one process (valid):   {verify_rate:7.1f}  ratio {verify_rate / raw:.2f}")
    print(f"BackupCodes.verify latency p50 / p95 (ms):   {p50:7.1f} / {p95:.1f}")
    print(f"BackupCodes.issue/s (sets of 10), one core:  {issue_rate:7.2f}")
    print(f"database bytes per user (1 set + {AUDIT_PER_USER} audit events): {per_user:,.0f}")
    print(f"(before the audit events: {size_before / USERS:,.0f} bytes per user, WAL not checkpointed)")


if __name__ == "__main__":
    main()
