"""`backup-codes user|policy|audit|notify`, and how every command fails: one line, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.cli import main


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from bridge.service import BackupCodes
    from bridge.settings import Settings
    from bridge.store.db import make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in {
        "BACKUP_CODES_DATABASE_URL": url,
        "BACKUP_CODES_DATA_DIR": str(tmp_path),
        "BACKUP_CODES_ARGON2_TIME_COST": "1",
        "BACKUP_CODES_ARGON2_MEMORY_COST": "1024",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "upgrade"]) == 0
    settings = Settings.from_env()
    engine = make_engine(settings)
    yield BackupCodes(engine, settings)
    engine.dispose()


def test_user_status_prints_json(service: Any, capsys: Any) -> None:
    service.issue("demo", "alice", actor="tests")
    capsys.readouterr()
    assert main(["user", "status", "--realm", "demo", "--user", "alice"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["enrolled"] is True and status["remaining"] == 10


def test_user_reset_revokes_and_requires_enrolment(service: Any, capsys: Any) -> None:
    service.issue("demo", "alice", actor="tests")
    argv = [
        "user",
        "reset",
        "--realm",
        "demo",
        "--user",
        "alice",
        "--reason",
        "lost",
        "--identity-check",
        "video call",
        "--actor",
        "hd-1",
    ]
    assert main(argv) == 0
    status = service.status("demo", "alice")
    assert not status.enrolled and status.enroll_required


def test_user_reset_is_audited_with_the_actor(service: Any, capsys: Any) -> None:
    main(
        [
            "user",
            "reset",
            "--realm",
            "demo",
            "--user",
            "alice",
            "--reason",
            "lost",
            "--identity-check",
            "badge",
            "--actor",
            "hd-1",
        ]
    )
    capsys.readouterr()
    main(["audit", "export", "--realm", "demo", "--user", "alice"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["event"] == "helpdesk_reset" and events[-1]["actor"] == "hd-1"


def test_user_reset_without_identity_check_is_a_usage_error(service: Any, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["user", "reset", "--realm", "demo", "--user", "alice", "--reason", "lost"])
    assert exited.value.code == 2
    assert "--identity-check" in capsys.readouterr().err


def test_policy_set_then_show(service: Any, capsys: Any) -> None:
    assert main(["policy", "set", "--realm", "demo", "max_failures=8", "reset_mode=self_service"]) == 0
    capsys.readouterr()
    main(["policy", "show", "--realm", "demo"])
    policy = json.loads(capsys.readouterr().out)
    assert policy["max_failures"] == 8 and policy["reset_mode"] == "self_service"


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("code_length=10", "code_length"),
        ("nonsense=1", "KEY=VALUE"),
        ("max_failures=many", "integer"),
        ("max_failures=1000", "max_failures"),
    ],
)
def test_policy_set_refuses_bad_values(service: Any, capsys: Any, assignment: str, message: str) -> None:
    assert main(["policy", "set", "--realm", "demo", assignment]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_audit_export_csv(service: Any, capsys: Any) -> None:
    service.issue("demo", "alice", actor="tests")
    capsys.readouterr()
    assert main(["audit", "export", "--format", "csv", "--realm", "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,at,realm") and ",issued," in lines[1]


def test_audit_export_since_the_future_is_empty(service: Any, capsys: Any) -> None:
    service.issue("demo", "alice", actor="tests")
    capsys.readouterr()
    assert main(["audit", "export", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""


def test_audit_export_bad_date_is_exit_2(service: Any, capsys: Any) -> None:
    assert main(["audit", "export", "--since", "last tuesday"]) == 2
    assert "--since" in capsys.readouterr().err


def test_notify_run_once_sends_nothing_without_smtp(service: Any, capsys: Any) -> None:
    assert main(["notify", "run", "--once"]) == 0
    assert "sent" in capsys.readouterr().out


def test_commands_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["user", "status", "--realm", "demo", "--user", "alice"]) == 2
    assert "backup-codes db upgrade" in capsys.readouterr().err


def test_bad_setting_is_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("BACKUP_CODES_MAX_FAILURES", "lots")
    assert main(["db", "current"]) == 2
    assert capsys.readouterr().err.startswith("error: configuration: BACKUP_CODES_MAX_FAILURES")


def test_unreachable_database_is_exit_2_without_password(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", "postgresql://u:hunter2@127.0.0.1:1/db")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: database") and "hunter2" not in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["apikey"],
        ["apikey", "create"],
        ["serve", "--port", "many"],
        ["audit", "export", "--format", "xml"],
    ],
)
def test_bad_arguments_exit_2_without_traceback(argv: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "BACKUP_CODES_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *argv], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error" in result.stderr


def test_help_lists_plugin_command_groups(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for group in ("serve", "db", "apikey", "audit", "user", "policy", "notify"):
        assert group in out
