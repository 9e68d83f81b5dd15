"""What the command groups share: the user-facing error, settings, a migrated engine, output helpers."""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bridge.settings import Settings


class CliError(Exception):
    """A user-facing failure: the message is printed as is, the exit status is 2."""


def settings() -> Settings:
    return Settings.from_env()


@contextlib.contextmanager
def engine(given: Settings | None = None, *, migrated: bool = True) -> Iterator[Any]:
    """The database engine, disposed of afterwards; refused unless migrated when ``migrated``."""
    from bridge.store import migrations
    from bridge.store.db import make_engine

    made = make_engine(given or settings())
    try:
        if migrated:
            _require_current(made, migrations)
        yield made
    finally:
        made.dispose()


def _require_current(engine: Any, migrations: Any) -> None:
    current = migrations.current_revision(engine)
    if current != migrations.head_revision():
        state = "empty" if current is None else f"at revision {current}"
        raise CliError(
            f"the database is {state}, not at {migrations.head_revision()}: run `backup-codes db upgrade`"
        )


def service(engine: Any, settings: Settings) -> Any:
    from bridge.service import BackupCodes

    return BackupCodes(engine, settings)


def operator(given: str | None) -> str:
    """Who the audit trail names for a shell command: ``--actor``, else the login name."""
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def parse_when(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: expected an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
