"""`backup-codes user status` also shows the user's remembered devices and the last 10 audit events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.cli import main

KEY = "device-cookie-key-for-the-cli-tests-0123456789"


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from bridge.service import BackupCodes
    from bridge.settings import Settings
    from bridge.store.db import make_engine

    for name, value in {
        "BACKUP_CODES_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "BACKUP_CODES_DATA_DIR": str(tmp_path),
        "BACKUP_CODES_ARGON2_TIME_COST": "1",
        "BACKUP_CODES_ARGON2_MEMORY_COST": "1024",
        "BACKUP_CODES_DEVICE_COOKIE_KEY": KEY,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "upgrade"]) == 0
    settings = Settings.from_env()
    engine = make_engine(settings)
    yield BackupCodes(engine, settings)
    engine.dispose()


def status(capsys: Any) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["user", "status", "--realm", "demo", "--user", "alice"]) == 0
    return json.loads(capsys.readouterr().out)


def test_user_status_lists_remembered_devices_without_tokens(service: Any, capsys: Any) -> None:
    registered = service.register_device("demo", "alice", user_agent="Mozilla/5.0 (X11; Linux) Firefox/133.0")
    report = status(capsys)
    assert [d["device_id"] for d in report["devices"]] == [registered.device_id]
    assert report["devices"][0]["name"] == "Firefox on Linux"
    assert registered.token not in json.dumps(report)


def test_user_status_shows_the_last_ten_audit_events_newest_first(service: Any, capsys: Any) -> None:
    for _ in range(12):
        service.issue("demo", "alice", actor="tests")
    service.revoke("demo", "alice", actor="tests")
    events = status(capsys)["recent_events"]
    assert len(events) == 10
    assert events[0]["event"] == "revoked"


def test_user_status_still_has_the_status_fields(service: Any, capsys: Any) -> None:
    service.issue("demo", "alice", actor="tests")
    report = status(capsys)
    assert report["enrolled"] is True and report["remaining"] == 10 and report["devices"] == []
