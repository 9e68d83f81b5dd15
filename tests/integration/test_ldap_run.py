"""``backup-codes ldap-sync run`` as a service manager sees it: it stops when asked and logs like ``serve``.

These run the real command in a subprocess (signals, logging configuration and the lease are process
matters). The directory is a port nobody listens on, so the process sits in its retry backoff.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bridge.store.schema import job_state
from tests.fixtures.slapd import dead_ldap_url

pytestmark = pytest.mark.ldap

REALM = "acme"
GENEROUS = 60.0  # seconds a test waits for a state to be reached; not a figure under test
STOP_WAIT = 20.0  # seconds a test waits for the process to exit; the figure is printed, not asserted


class Running:
    """A started ``ldap-sync run`` whose stderr lines are collected as they come."""

    def __init__(self, proc: subprocess.Popen[str], database_url: str) -> None:
        self.proc = proc
        self.database_url = database_url
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def _row(self, name: str) -> object | None:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(select(job_state).where(job_state.c.name == name)).first()
        finally:
            engine.dispose()

    def lease_owner(self) -> str | None:
        row = self._row(f"ldap-sync-lease:{REALM}")
        return row.owner if row else None  # type: ignore[attr-defined]

    def wait_for_a_failed_pass(self) -> None:
        """Until the first try has failed (recorded in job_state): the run is then in its backoff."""
        deadline = time.monotonic() + GENEROUS
        while True:
            row = self._row(f"ldap-sync:{REALM}")
            if row is not None and (row.value or {}).get("last_error"):  # type: ignore[attr-defined]
                return
            assert self.proc.poll() is None, f"exited early: {self.lines}"
            assert time.monotonic() < deadline, f"no failed pass recorded: {self.lines}"
            time.sleep(0.05)


@pytest.fixture
def ldap_sync_run(tmp_path: Path) -> Iterator[Running]:
    database_url = f"sqlite:///{tmp_path / 'bridge.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BACKUP_CODES_")},
        "BACKUP_CODES_DATABASE_URL": database_url,
        "BACKUP_CODES_DATA_DIR": str(tmp_path),
        "BACKUP_CODES_LOG_LEVEL": "INFO",
        "BACKUP_CODES_LDAP_URL": dead_ldap_url(),
        "BACKUP_CODES_LDAP_BASE_DN": "ou=people,dc=example,dc=org",
        "BACKUP_CODES_LDAP_REALM": REALM,
        "BACKUP_CODES_LDAP_RESOLVER": "federation-id",
        "BACKUP_CODES_LDAP_FEDERATION_COMPONENT_ID": "component-1",
        "BACKUP_CODES_LDAP_POLL_SECONDS": "30",
        "BACKUP_CODES_LDAP_TIMEOUT_SECONDS": "3",
    }
    subprocess.run(
        [sys.executable, "-m", "bridge.cli", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "ldap-sync", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = Running(proc, database_url)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=GENEROUS)


def test_sigterm_during_an_outage_ends_the_run_and_releases_the_lease(ldap_sync_run: Running) -> None:
    ldap_sync_run.wait_for_a_failed_pass()  # the directory refused: it is in its backoff pause
    assert ldap_sync_run.lease_owner() is not None

    asked = time.monotonic()
    ldap_sync_run.proc.send_signal(signal.SIGTERM)
    code = ldap_sync_run.proc.wait(timeout=STOP_WAIT)
    print(f"ldap-sync run stopped {time.monotonic() - asked:.2f} s after SIGTERM (during the backoff)")

    assert code == 0
    assert ldap_sync_run.lease_owner() is None  # another instance may take over at once


def test_the_run_logs_json_lines_at_info_like_serve(ldap_sync_run: Running) -> None:
    ldap_sync_run.wait_for_a_failed_pass()
    ldap_sync_run.proc.send_signal(signal.SIGTERM)
    ldap_sync_run.proc.wait(timeout=STOP_WAIT)

    records = [json.loads(line) for line in ldap_sync_run.lines if line.strip()]
    assert records, "nothing logged"
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["level"] == "INFO" and r["logger"] == "bridge.ldap.sync" for r in records)
