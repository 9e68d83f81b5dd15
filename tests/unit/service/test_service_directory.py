"""``bridge.service.directory``: the lock and audit rows the LDAP sync reaches only through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.service import BackupCodes
from bridge.service import directory as service_directory
from bridge.store import audit, db
from tests.fixtures.argon2 import fast_settings

REALM = "r"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def svc(tmp_path: Path) -> BackupCodes:
    settings = fast_settings(data_dir=tmp_path / "data")
    engine = db.make_engine(settings)
    db.create_all(engine)
    return BackupCodes(engine, settings, clock=lambda: NOW)


def lock(svc: BackupCodes, user_id: str, source: str, *, minutes: int | None = 10) -> None:
    kind = "permanent" if minutes is None else "temporary"
    expires = None if minutes is None else NOW + timedelta(minutes=minutes)
    svc.set_lock(REALM, user_id, source=source, kind=kind, reason="test", actor="t", expires_at=expires)


def test_users_with_lock_names_only_the_users_holding_a_row_of_that_source(svc: BackupCodes) -> None:
    lock(svc, "dir", "directory")
    lock(svc, "codes", "codes")

    held = service_directory.users_with_lock(svc.engine, REALM, ["dir", "codes", "none"])

    assert held == {"dir"}


def test_lockouts_since_lists_active_codes_lockouts_from_that_instant(svc: BackupCodes) -> None:
    lock(svc, "locked", "codes")
    lock(svc, "admin", "codes", minutes=None)
    lock(svc, "directory", "directory")

    lockouts = service_directory.lockouts_since(svc.engine, REALM, NOW - timedelta(seconds=1), NOW)

    assert sorted(lockout.user_id for lockout in lockouts) == ["admin", "locked"]


def test_lockouts_placed_before_that_instant_are_not_listed(svc: BackupCodes) -> None:
    lock(svc, "locked", "codes")

    assert service_directory.lockouts_since(svc.engine, REALM, NOW + timedelta(seconds=1), NOW) == []


def test_a_lockout_that_ran_out_is_not_listed(svc: BackupCodes) -> None:
    lock(svc, "locked", "codes", minutes=10)
    lock(svc, "admin", "codes", minutes=None)

    later = NOW + timedelta(hours=1)
    lockouts = service_directory.lockouts_since(svc.engine, REALM, NOW - timedelta(seconds=1), later)

    assert [lockout.user_id for lockout in lockouts] == ["admin"]


def test_a_directory_write_is_audited_as_the_sync(svc: BackupCodes) -> None:
    service_directory.record_directory_write(
        svc.engine,
        realm=REALM,
        user_id="u",
        event="unlocked",
        actor="ldap-sync",
        details={"target": "directory"},
    )

    [event] = audit.query(svc.engine, realm=REALM, event="unlocked")
    assert (event["user_id"], event["actor"], event["details"]) == ("u", "ldap-sync", {"target": "directory"})
