"""`backup-codes apikey create|list|revoke`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.cli import main
from bridge.store import api_keys


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", url)
    monkeypatch.setenv("BACKUP_CODES_DATA_DIR", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    return url


def create(capsys: Any, name: str = "keycloak-prod") -> str:
    capsys.readouterr()
    assert main(["apikey", "create", "--name", name]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_create_prints_the_key_as_the_last_line(database: str, capsys: Any) -> None:
    assert api_keys.KEY_PATTERN.fullmatch(create(capsys))


def test_created_key_authenticates(database: str, capsys: Any) -> None:
    from bridge.settings import Settings
    from bridge.store.db import make_engine

    key = create(capsys)
    engine = make_engine(Settings(database_url=database))
    assert api_keys.authenticate(engine, key) is not None


def test_list_shows_ids_and_names_but_never_secrets(database: str, capsys: Any) -> None:
    key = create(capsys, "keycloak-prod")
    assert main(["apikey", "list"]) == 0
    out = capsys.readouterr().out
    key_id, secret = key.split("_")[1], key.split("_")[2]
    assert key_id in out and "keycloak-prod" in out and "active" in out
    assert secret not in out


def test_revoke_marks_the_key_revoked(database: str, capsys: Any) -> None:
    key_id = create(capsys).split("_")[1]
    assert main(["apikey", "revoke", key_id]) == 0
    main(["apikey", "list"])
    assert "revoked" in capsys.readouterr().out


def test_revoking_an_unknown_key_is_exit_2(database: str, capsys: Any) -> None:
    assert main(["apikey", "revoke", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: no active API key")


def test_several_keys_can_be_active_for_rotation(database: str, capsys: Any) -> None:
    create(capsys, "old")
    create(capsys, "new")
    main(["apikey", "list"])
    assert capsys.readouterr().out.count("active") == 2


def test_bad_key_name_is_exit_2(database: str, capsys: Any) -> None:
    assert main(["apikey", "create", "--name", "bad\nname"]) == 2
    assert "key name" in capsys.readouterr().err


def test_create_is_audited_without_the_secret(database: str, capsys: Any) -> None:
    key = create(capsys)
    assert main(["audit", "export"]) == 0
    out = capsys.readouterr().out
    assert "apikey_created" in out and key.split("_")[2] not in out


def test_console_script_create_prints_key_last(tmp_path: Path) -> None:
    env = {"BACKUP_CODES_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "-m", "bridge.cli", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "apikey", "create", "--name", "ci"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert api_keys.KEY_PATTERN.fullmatch(result.stdout.splitlines()[-1])


def authenticated(database: str, key: str) -> api_keys.ApiKey:
    from bridge.settings import Settings
    from bridge.store.db import make_engine

    engine = make_engine(Settings(database_url=database))
    try:
        found = api_keys.authenticate(engine, key)
    finally:
        engine.dispose()
    assert found is not None
    return found


def test_create_with_realms_makes_a_key_for_those_realms_only(database: str, capsys: Any) -> None:
    capsys.readouterr()
    assert main(["apikey", "create", "--name", "kc", "--realm", "red", "--realm", "blue"]) == 0
    key = authenticated(database, capsys.readouterr().out.strip().splitlines()[-1])
    assert (key.allows("red"), key.allows("blue"), key.allows("green")) == (True, True, False)


def test_create_without_realms_makes_an_all_realm_key(database: str, capsys: Any) -> None:
    key = authenticated(database, create(capsys))
    assert key.realms is None and key.allows("any-realm")


def test_list_shows_each_keys_scope(database: str, capsys: Any) -> None:
    create(capsys, "admin-tools")
    assert main(["apikey", "create", "--name", "kc", "--realm", "red", "--realm", "blue"]) == 0
    capsys.readouterr()
    assert main(["apikey", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "REALMS" in lines[0]
    assert "all realms" in next(line for line in lines if line.endswith("admin-tools"))
    assert "blue,red" in next(line for line in lines if line.endswith("kc"))


def test_a_realm_the_api_cannot_address_is_exit_2(database: str, capsys: Any) -> None:
    assert main(["apikey", "create", "--name", "kc", "--realm", "two words"]) == 2
    assert "realm names" in capsys.readouterr().err
