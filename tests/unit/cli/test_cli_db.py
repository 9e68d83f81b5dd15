"""`backup-codes db upgrade`: idempotent; the migrations build the tables of bridge/store/schema.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text

from bridge.cli import main
from bridge.settings import Settings
from bridge.store import migrations
from bridge.store.db import make_engine
from bridge.store.schema import metadata


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    yield engine
    engine.dispose()


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_migrations_build_the_schema_exactly_on_sqlite(sqlite_engine: Engine) -> None:
    migrations.upgrade(sqlite_engine)
    assert schema_differences(sqlite_engine) == []


@pytest.mark.postgres
def test_migrations_build_the_schema_exactly_on_postgresql(postgres_url: str) -> None:
    name = f"mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(Settings(database_url=postgres_url.rsplit("/", 1)[0] + f"/{name}"))
    try:
        migrations.upgrade(engine)
        assert schema_differences(engine) == []
        assert migrations.is_current(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_twice_is_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", f"sqlite:///{tmp_path / 'twice.db'}")
    assert main(["db", "upgrade"]) == 0
    assert "(was empty)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"database at {migrations.head_revision()}"


def test_current_reports_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    main(["db", "current"])
    assert capsys.readouterr().out.startswith("empty")
    main(["db", "upgrade"])
    main(["db", "current"])
    assert "(head)" in capsys.readouterr().out


def test_default_database_lives_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKUP_CODES_DATABASE_URL", raising=False)
    monkeypatch.setenv("BACKUP_CODES_DATA_DIR", str(tmp_path / "data"))
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "data" / "backup-codes.db").exists()


def test_keys_made_before_realm_scopes_stay_all_realm_keys(sqlite_engine: Engine) -> None:
    from bridge.store import api_keys

    migrations.upgrade(sqlite_engine, "0002")  # the schema before api_keys.realms
    key = f"{api_keys.PREFIX}_{'a' * 12}_{'b' * 64}"
    with sqlite_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO api_keys (id, name, digest, created_at) VALUES (:id, 'old', :digest, :now)"),
            {"id": "a" * 12, "digest": api_keys.digest(key), "now": "2026-11-01 00:00:00.000000"},
        )
    migrations.upgrade(sqlite_engine)

    found = api_keys.authenticate(sqlite_engine, key)
    assert found is not None and found.realms is None and found.allows("any-realm")


def test_downgrading_revokes_realm_keys_rather_than_widening_them(sqlite_engine: Engine) -> None:
    from alembic import command

    from bridge.store import api_keys

    migrations.upgrade(sqlite_engine)
    with sqlite_engine.begin() as conn:
        api_keys.create_key(conn, name="kc", actor="tests", realms=["red"])
        api_keys.create_key(conn, name="admin", actor="tests")
    config = migrations.alembic_config()
    with sqlite_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")

    with sqlite_engine.connect() as conn:
        revoked = dict(conn.execute(text("SELECT name, revoked_at IS NOT NULL FROM api_keys")).all())
    assert revoked == {"kc": 1, "admin": 0}
