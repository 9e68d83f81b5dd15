"""``backup-codes audit export``: the whole audit trail, or a filtered part, as JSON Lines or CSV."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bridge.cli.common import CliError, engine, parse_when


def add_cli(subparsers: Any) -> None:
    audit_parser = subparsers.add_parser("audit", help="the audit trail")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    export = audit_commands.add_parser("export", help="write audit events to stdout")
    export.add_argument("--realm")
    export.add_argument("--user", dest="user_id")
    export.add_argument("--event")
    export.add_argument("--since", help="ISO 8601 date or date-time (inclusive; naive means UTC)")
    export.add_argument("--until", help="ISO 8601 date or date-time (exclusive)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.set_defaults(func=_audit_export)


def _audit_export(args: argparse.Namespace) -> int:
    from bridge.store import audit

    since = parse_when(args.since, "--since")
    until = parse_when(args.until, "--until")
    if args.event is not None and args.event not in audit.EVENTS:
        raise CliError(f"--event must be one of {', '.join(sorted(audit.EVENTS))}")
    with engine() as db:
        rows = list(_all_events(audit, db, args, since, until))
    sys.stdout.write(audit.export(rows, args.format))
    return 0


def _all_events(audit: Any, engine: Any, args: argparse.Namespace, since: Any, until: Any) -> Iterator[dict]:
    """Page through the trail by time: ``audit.query`` caps one answer, an export must not."""
    seen: set[int] = set()
    while True:
        page = audit.query(
            engine,
            realm=args.realm,
            user_id=args.user_id,
            event=args.event,
            since=since,
            until=until,
            limit=audit.MAX_LIMIT,
        )
        fresh = [row for row in page if row["id"] not in seen]
        yield from fresh
        if len(page) < audit.MAX_LIMIT or not fresh:
            return
        seen = {row["id"] for row in page if row["at"] == page[-1]["at"]}
        since = datetime.fromisoformat(page[-1]["at"])
