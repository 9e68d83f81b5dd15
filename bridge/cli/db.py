"""``backup-codes db``: migrate the database and show its schema revision."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli.common import engine


def add_cli(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate the database to the current schema (idempotent)").set_defaults(
        func=_db_upgrade
    )
    db.add_parser("current", help="print the database's schema revision").set_defaults(func=_db_current)


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bridge.store import migrations

    with engine(migrated=False) as db:
        before = migrations.current_revision(db)
        migrations.upgrade(db)
        after = migrations.current_revision(db)
    print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    from bridge.store import migrations

    with engine(migrated=False) as db:
        current = migrations.current_revision(db)
    head = migrations.head_revision()
    print(f"{current or 'empty'}" + (" (head)" if current == head else f" (head is {head})"))
    return 0
