"""Engine construction and the few portable SQL helpers the store needs.

SQLite is the single-node default and PostgreSQL the multi-node one; both must give the same
answers under concurrency. SQLite gets WAL (readers never block the writer), a 30 s busy timeout
(writers queue instead of failing) and enforced foreign keys on every new connection. The store keeps
its write transactions short and never hashes inside one, so the single SQLite writer lock is cheap.
Both engines hide bound values in their errors: a failed statement's message may reach the log, its
values (hashes, contacts, addresses) must not.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from bridge.settings import Settings
from bridge.store.schema import metadata

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

log = logging.getLogger(__name__)

T = TypeVar("T")


def make_engine(settings: Settings) -> Engine:
    """Build the engine for ``settings.effective_database_url`` (SQLite file or PostgreSQL via psycopg 3)."""
    url = settings.effective_database_url
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings)
    # An unreachable host (dropped packets during a failover) would otherwise hold each request for
    # the kernel's TCP timeout, minutes, long after Keycloak gave up waiting; the URL may set its own.
    given = make_url(url).query
    connect_args = {} if "connect_timeout" in given else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    return create_engine(
        url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args, future=True
    )


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    if not settings.database_url:
        # The default database lives in data_dir; nobody but the service account needs to read it.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.data_dir, 0o700)
    path = _sqlite_file(url)
    if path is not None:
        _make_private(path)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        hide_parameters=True,
        future=True,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory or URI-named database."""
    parsed = make_url(url)
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(name)


def _make_private(path: Path) -> None:
    """Create the database file 0600 (and missing directories 0700) before SQLite does it 0644.

    The file holds code hashes, contacts and the audit trail. SQLite creates its -wal, -shm and
    -journal files with the database file's permissions, so a private database keeps them private;
    files left readable by an older version are made private here too.
    """
    missing = [parent for parent in (path.parent, *path.parent.parents) if not parent.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            os.chmod(file, 0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("cannot make %s private (mode 0600): not its owner", file.name)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode except on power loss
    finally:
        cursor.close()


def unavailable_reason(error: DBAPIError) -> str:
    """One log line for a database that cannot answer: the driver's first line (no trace, no values)."""
    text = str(error.orig).strip() if error.orig is not None else ""
    return text.splitlines()[0] if text else type(error).__name__


def create_all(engine: Engine) -> None:
    """Create every table (tests and throwaway databases; production uses the Alembic migrations)."""
    metadata.create_all(engine)


def utcnow() -> datetime:
    """Aware UTC now without microseconds, so SQLite and PostgreSQL round-trip it identically."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; everything we store is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_UPSERT_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def insert_for(conn: Connection, table: Table) -> Any:
    """A dialect-specific INSERT with ``on_conflict_do_update`` (SQLite ≥3.24 and PostgreSQL)."""
    return _for_dialect(conn, _UPSERT_INSERTS)(table)


def _for_dialect(conn: Connection, choices: dict[str, T]) -> T:
    try:
        return choices[conn.dialect.name]
    except KeyError:
        raise NotImplementedError(f"unsupported database dialect: {conn.dialect.name}") from None


class Upsert:
    """An upsert built once per dialect, for statements on the verification path.

    Building a statement costs more than running it on SQLite (about 150 µs against 35), and the
    upsert needs the dialect's own ``insert``, which is only known once a connection exists.
    """

    def __init__(self, build: Callable[[Callable[[Table], Any]], Executable]) -> None:
        self._statements = {name: build(insert) for name, insert in _UPSERT_INSERTS.items()}

    def on(self, conn: Connection) -> Executable:
        return _for_dialect(conn, self._statements)
