"""``backup-codes``: run the service and administer it from a shell.

Every command fails the same way: one line ``error: …`` on stderr and exit status 2, no traceback.
Modules that own a command group (the realm installer, the LDAP sync) add it through their own
``add_cli(subparsers)``; a group whose module is not installed is simply absent.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import importlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bridge.settings import Settings, SettingsError

EXIT_ERROR = 2
PLUGIN_MODULES = ("bridge.realm.cli", "bridge.ldap.cli")

log = logging.getLogger("bridge.cli")


class CliError(Exception):
    """A user-facing failure: the message is printed as is, the exit status is 2."""


# ------------------------------------------------------------------------------------------- parser


CORE_COMMANDS = frozenset({"serve", "db", "apikey", "audit", "user", "policy", "notify"})


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The full parser; ``plugins=False`` leaves out the plugin groups (and their heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="backup-codes",
        description="Single-use backup codes for Keycloak: the bridge service and its administration.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service (waitress, one process per core)")
    serve.add_argument("--host", help="address to listen on (default: BACKUP_CODES_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: BACKUP_CODES_PORT or 8090)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: BACKUP_CODES_WORKERS or one per core)"
    )
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    serve.set_defaults(func=_serve)

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate the database to the current schema (idempotent)").set_defaults(
        func=_db_upgrade
    )
    db.add_parser("current", help="print the database's schema revision").set_defaults(func=_db_current)

    apikey = commands.add_parser("apikey", help="API keys for Keycloak and admin tools")
    keys = apikey.add_subparsers(dest="apikey_command", required=True)
    create = keys.add_parser("create", help="create a key; it is printed once, as the last line")
    create.add_argument("--name", required=True, help="what the key is for, e.g. keycloak-prod")
    create.add_argument(
        "--realm",
        dest="realms",
        action="append",
        metavar="REALM",
        help="limit the key to this realm (repeat for several); without it the key works on every realm",
    )
    create.set_defaults(func=_apikey_create)
    keys.add_parser("list", help="list keys (never their secrets)").set_defaults(func=_apikey_list)
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", metavar="ID")
    revoke.set_defaults(func=_apikey_revoke)

    audit_parser = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    export = audit_commands.add_parser("export", help="write audit events to stdout")
    export.add_argument("--realm")
    export.add_argument("--user", dest="user_id")
    export.add_argument("--event")
    export.add_argument("--since", help="ISO 8601 date or date-time (inclusive; naive means UTC)")
    export.add_argument("--until", help="ISO 8601 date or date-time (exclusive)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.set_defaults(func=_audit_export)

    user = commands.add_parser("user", help="one user's codes").add_subparsers(
        dest="user_command", required=True
    )
    status = user.add_parser(
        "status", help="enrolment, remaining codes, locks, remembered devices and the last audit events"
    )
    _user_args(status)
    status.set_defaults(func=_user_status)
    reset = user.add_parser("reset", help="helpdesk reset: revoke the codes and require a new enrolment")
    _user_args(reset)
    reset.add_argument("--reason", required=True, help="why (audited)")
    reset.add_argument("--identity-check", required=True, help="how you verified who the user is (audited)")
    reset.add_argument("--actor", help="who you are (default: your login name)")
    reset.set_defaults(func=_user_reset)

    policy = commands.add_parser("policy", help="per-realm policy").add_subparsers(
        dest="policy_command", required=True
    )
    show = policy.add_parser("show", help="print the realm's policy")
    show.add_argument("--realm", required=True)
    show.set_defaults(func=_policy_show)
    set_ = policy.add_parser("set", help="change fields of the realm's policy, e.g. max_failures=10")
    set_.add_argument("--realm", required=True)
    set_.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    set_.add_argument("--actor", help="who you are (default: your login name)")
    set_.set_defaults(func=_policy_set)

    notify = commands.add_parser("notify", help="mail notifications").add_subparsers(
        dest="notify_command", required=True
    )
    run = notify.add_parser("run", help="send queued mail (until interrupted, or --once)")
    run.add_argument("--once", action="store_true", help="send what is due now, then exit")
    run.set_defaults(func=_notify_run)

    for module_name in PLUGIN_MODULES if plugins else ():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        add_cli = getattr(module, "add_cli", None)
        if add_cli is not None:
            add_cli(commands)
    return parser


def _user_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--realm", required=True)
    parser.add_argument("--user", dest="user_id", required=True, help="the Keycloak user id")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # A core command needs no plugin: not importing them keeps `serve` workers small.
    parser = build_parser(plugins=not argv or argv[0] not in CORE_COMMANDS)
    args = parser.parse_args(argv)  # usage errors: argparse prints one message and exits 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        return _fail(str(exc))
    except SettingsError as exc:
        return _fail(f"configuration: {exc}")
    except Exception as exc:  # the promise: one line, no traceback
        return _fail(_describe(exc))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _describe(exc: Exception) -> str:
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from bridge.service.policy import PolicyError

    if isinstance(exc, PolicyError | ValueError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        return f"database: {first_line or type(exc.orig).__name__}"
    if isinstance(exc, SQLAlchemyError):
        return f"database: {type(exc).__name__}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected failure'}"


# -------------------------------------------------------------------------------------------- shared


def _settings() -> Settings:
    return Settings.from_env()


@contextlib.contextmanager
def _engine(settings: Settings | None = None, *, migrated: bool = True) -> Iterator[Any]:
    from bridge.store import migrations
    from bridge.store.db import make_engine

    engine = make_engine(settings or _settings())
    try:
        if migrated:
            _require_current(engine, migrations)
        yield engine
    finally:
        engine.dispose()


def _require_current(engine: Any, migrations: Any) -> None:
    current = migrations.current_revision(engine)
    if current != migrations.head_revision():
        state = "empty" if current is None else f"at revision {current}"
        raise CliError(
            f"the database is {state}, not at {migrations.head_revision()}: run `backup-codes db upgrade`"
        )


def _service(engine: Any, settings: Settings) -> Any:
    from bridge.service import BackupCodes

    return BackupCodes(engine, settings)


def _operator(given: str | None) -> str:
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _parse_when(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: expected an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------ commands


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bridge.store import migrations

    with _engine(migrated=False) as engine:
        before = migrations.current_revision(engine)
        migrations.upgrade(engine)
        after = migrations.current_revision(engine)
    print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    from bridge.store import migrations

    with _engine(migrated=False) as engine:
        current = migrations.current_revision(engine)
    head = migrations.head_revision()
    print(f"{current or 'empty'}" + (" (head)" if current == head else f" (head is {head})"))
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    from bridge.store import api_keys

    with _engine() as engine, engine.begin() as conn:
        try:
            created = api_keys.create_key(conn, name=args.name, actor=_operator(None), realms=args.realms)
        except api_keys.ApiKeyError as exc:
            raise CliError(str(exc)) from None
    scope = "every realm" if created.realms is None else "realm(s) " + ", ".join(created.realms)
    print(f"created API key {created.id} ({created.name}) for {scope}; it is shown once, store it now:")
    print(created.key)
    return 0


def _apikey_list(_args: argparse.Namespace) -> int:
    from bridge.store import api_keys

    with _engine() as engine, engine.connect() as conn:
        keys = api_keys.list_keys(conn)
    if not keys:
        print("no API keys")
        return 0
    width = max(len("REALMS"), *(len(key.scope) for key in keys)) + 2
    print(f"{'ID':<14}{'STATE':<9}{'CREATED':<27}{'LAST USED':<27}{'REALMS':<{width}}NAME")
    for key in keys:
        state = "active" if key.active else "revoked"
        last = key.last_used_at.isoformat() if key.last_used_at else "-"
        print(
            f"{key.id:<14}{state:<9}{key.created_at.isoformat():<27}{last:<27}{key.scope:<{width}}{key.name}"
        )
    return 0


def _apikey_revoke(args: argparse.Namespace) -> int:
    from bridge.store import api_keys

    with _engine() as engine, engine.begin() as conn:
        revoked = api_keys.revoke_key(conn, args.key_id, actor=_operator(None))
    if not revoked:
        raise CliError(f"no active API key with id {args.key_id!r}")
    print(f"revoked API key {args.key_id}")
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    from bridge.store import audit

    since = _parse_when(args.since, "--since")
    until = _parse_when(args.until, "--until")
    if args.event is not None and args.event not in audit.EVENTS:
        raise CliError(f"--event must be one of {', '.join(sorted(audit.EVENTS))}")
    with _engine() as engine:
        rows = list(_all_events(audit, engine, args, since, until))
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


RECENT_EVENTS = 10


def _user_status(args: argparse.Namespace) -> int:
    """One JSON object: the API's status, plus what a helpdesk needs next (devices, recent events)."""
    from bridge.store import audit

    settings = _settings()
    with _engine(settings) as engine:
        service = _service(engine, settings)
        report = service.status(args.realm, args.user_id).to_dict()
        report["devices"] = [device.to_dict() for device in service.list_devices(args.realm, args.user_id)]
        report["recent_events"] = audit.query(
            engine, realm=args.realm, user_id=args.user_id, limit=RECENT_EVENTS, newest_first=True
        )
        _print_json(report)
    return 0


def _user_reset(args: argparse.Namespace) -> int:
    settings = _settings()
    with _engine(settings) as engine:
        service = _service(engine, settings)
        service.helpdesk_reset(
            args.realm,
            args.user_id,
            actor=_operator(args.actor),
            reason=args.reason,
            identity_check=args.identity_check,
        )
        print(f"reset {args.user_id} in realm {args.realm}: codes revoked, a new enrolment is required")
        _print_json(service.status(args.realm, args.user_id).to_dict())
    return 0


def _policy_show(args: argparse.Namespace) -> int:
    settings = _settings()
    with _engine(settings) as engine:
        _print_json(_service(engine, settings).get_policy(args.realm).to_dict())
    return 0


def _policy_set(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from bridge.service.policy import Policy

    types = {f.name: f.type for f in fields(Policy)}
    changes: dict[str, Any] = {}
    for assignment in args.assignments:
        key, sep, value = assignment.partition("=")
        if not sep or key not in types:
            raise CliError(f"{assignment!r}: expected KEY=VALUE with KEY one of {', '.join(types)}")
        if types[key] in ("int", int):
            try:
                changes[key] = int(value)
            except ValueError:
                raise CliError(f"{key}: expected an integer, got {value!r}") from None
        else:
            changes[key] = value
    settings = _settings()
    with _engine(settings) as engine:
        policy = _service(engine, settings).set_policy(args.realm, changes, actor=_operator(args.actor))
    _print_json(policy.to_dict())
    return 0


def _notify_run(args: argparse.Namespace) -> int:
    try:
        notify = importlib.import_module("bridge.notify")
    except ImportError:
        raise CliError("notifications are not installed (bridge.notify is missing)") from None
    from bridge.ops import logs

    settings = _settings()
    logs.configure(settings.log_level)
    with _engine(settings) as engine:
        notifier = notify.Notifier(engine, settings)
        if args.once:
            sent = notifier.run_once()
            print(f"sent {sent} notification(s)")
            return 0
        from bridge.ops.stopping import run_until_stopped

        run_until_stopped(notifier.run_forever, name="notify")
    return 0


# --------------------------------------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    from bridge.ops import supervisor

    settings = _settings()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = args.workers if args.workers is not None else settings.workers
    workers = workers or os.cpu_count() or 1
    if workers < 1 or args.threads < 1:
        raise CliError("--workers and --threads must be at least 1")
    if not 0 <= port <= 65535:
        raise CliError("--port must be between 0 and 65535")
    try:
        return supervisor.serve(
            settings,
            host=host,
            port=port,
            workers=workers,
            threads=args.threads,
            check_database=_check_database,
        )
    except supervisor.ServeError as exc:
        raise CliError(str(exc)) from None


def _check_database(settings: Settings) -> None:
    """Refuse to start on a database that is not migrated."""
    with _engine(settings):
        pass

