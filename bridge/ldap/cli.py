"""CLI: ``backup-codes ldap-sync run|once|status`` (added to the ``backup-codes`` command by ``add_cli``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from bridge.ldap.connection import DirectoryUnavailable
from bridge.ldap.resolvers import StaticResolver, resolver_from_settings
from bridge.ldap.sync import LdapSync
from bridge.settings import Settings


def build_sync(settings: Settings) -> LdapSync:
    from bridge.service import BackupCodes
    from bridge.store.db import make_engine

    if not settings.ldap_url:
        raise ValueError("BACKUP_CODES_LDAP_URL is empty: the LDAP sync is not configured")
    engine = make_engine(settings)
    return LdapSync(engine, settings, BackupCodes(engine, settings), resolver_from_settings(settings))


def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ldap-sync", help="keep lock and contact state in step with the LDAP directory"
    )
    commands = parser.add_subparsers(dest="ldap_sync_command", required=True)
    run = commands.add_parser("run", help="sync forever (poll every BACKUP_CODES_LDAP_POLL_SECONDS)")
    run.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on 127.0.0.1:PORT")
    run.set_defaults(handler=_cmd_run, func=_from_env(_cmd_run))
    once = commands.add_parser("once", help="one pass (poll, or a full reconcile when due), then exit")
    once.add_argument("--full", action="store_true", help="force a full reconcile (paged search, deletes)")
    once.set_defaults(handler=_cmd_once, func=_from_env(_cmd_once))
    status = commands.add_parser("status", help="last success, lag, counts, last error (JSON)")
    status.set_defaults(handler=_cmd_status, func=_from_env(_cmd_status))


def _from_env(handler: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
    """bridge/cli.py calls ``func(args)``; tests call ``handler(args, settings)`` with their own settings."""

    def run(args: argparse.Namespace) -> int:
        from bridge.ops import logs
        from bridge.store import migrations
        from bridge.store.db import make_engine

        settings = Settings.from_env()
        logs.configure(settings.log_level)  # the same JSON lines and redaction as ``serve``
        engine = make_engine(settings)
        try:
            if not migrations.is_current(engine):
                raise ValueError("the database is not at the current schema: run `backup-codes db upgrade`")
        finally:
            engine.dispose()
        return handler(args, settings)

    return run


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.ops.stopping import run_until_stopped

    sync = build_sync(settings)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1")
    run_until_stopped(sync.run_forever, name="ldap-sync", abandon=sync.release_lease)
    return 0


def _cmd_once(args: argparse.Namespace, settings: Settings) -> int:
    sync = build_sync(settings)
    if not sync.acquire_lease():
        print("ldap-sync: another instance holds the lease; nothing done")
        return 2
    try:
        result = sync.run_once(full=True if args.full else None)
    except DirectoryUnavailable as exc:
        print(f"ldap-sync: failed: {exc}")
        return 1
    finally:
        sync.release_lease()
    print(
        json.dumps(
            {
                "mode": result.mode,
                "scanned": result.scanned,
                "applied": result.applied,
                "unmapped": result.unmapped,
                "malformed": result.malformed,
                "deleted": result.deleted,
                "written_back": result.written_back,
                "changes": result.changes,
            }
        )
    )
    return 0


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.store.db import make_engine

    if not settings.ldap_realm:
        print("ldap-sync: BACKUP_CODES_LDAP_REALM is empty")
        return 1
    sync = LdapSync(
        make_engine(settings), settings, service=None, resolver=StaticResolver({}), directory=_NoDirectory()
    )  # type: ignore[arg-type]
    print(json.dumps(sync.status(), indent=2, default=str))
    return 0


class _NoDirectory:
    """``status`` reads the database only; it must work while the directory is down."""

    def close(self) -> None:
        return None
