"""Alembic environment: uses the connection handed over by ``bridge.store.migrations.upgrade`` or, when run
as ``alembic -c bridge/store/alembic.ini …``, the database from ``BACKUP_CODES_DATABASE_URL`` (Settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bridge.settings import Settings
from bridge.store.db import make_engine
from bridge.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER by copying a table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline() -> None:
    context.configure(
        url=Settings.from_env().effective_database_url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(Settings.from_env())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    _offline()
else:
    _online()
