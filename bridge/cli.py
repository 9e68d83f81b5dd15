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
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bridge.hash_gate import HashGate

EXIT_ERROR = 2
PLUGIN_MODULES = ("bridge.realm", "bridge.ldap_sync")
SHUTDOWN_GRACE_SECONDS = 30
# serve stops gracefully on each (in-flight requests finish, the hash gate's semaphore is removed); a
# hangup included, unless ignored (nohup): the default action would kill the supervisor without either.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
CRASH_LOOP_SECONDS = 5.0  # a worker dying this soon after start, repeatedly, is a configuration problem
CRASH_LOOP_LIMIT = 5
SWITCH_INTERVAL_SECONDS = 0.0005  # serve workers; see _worker

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

    from bridge.policy import PolicyError

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
    from bridge import migrations
    from bridge.db import make_engine

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
    from bridge import migrations

    with _engine(migrated=False) as engine:
        before = migrations.current_revision(engine)
        migrations.upgrade(engine)
        after = migrations.current_revision(engine)
    print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    from bridge import migrations

    with _engine(migrated=False) as engine:
        current = migrations.current_revision(engine)
    head = migrations.head_revision()
    print(f"{current or 'empty'}" + (" (head)" if current == head else f" (head is {head})"))
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    from bridge import auth

    with _engine() as engine, engine.begin() as conn:
        try:
            created = auth.create_key(conn, name=args.name, actor=_operator(None), realms=args.realms)
        except auth.ApiKeyError as exc:
            raise CliError(str(exc)) from None
    scope = "every realm" if created.realms is None else "realm(s) " + ", ".join(created.realms)
    print(f"created API key {created.id} ({created.name}) for {scope}; it is shown once, store it now:")
    print(created.key)
    return 0


def _apikey_list(_args: argparse.Namespace) -> int:
    from bridge import auth

    with _engine() as engine, engine.connect() as conn:
        keys = auth.list_keys(conn)
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
    from bridge import auth

    with _engine() as engine, engine.begin() as conn:
        revoked = auth.revoke_key(conn, args.key_id, actor=_operator(None))
    if not revoked:
        raise CliError(f"no active API key with id {args.key_id!r}")
    print(f"revoked API key {args.key_id}")
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    from bridge import audit

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
    from bridge import audit

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

    from bridge.policy import Policy

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
    from bridge import logs

    settings = _settings()
    logs.configure(settings.log_level)
    with _engine(settings) as engine:
        notifier = notify.Notifier(engine, settings)
        if args.once:
            sent = notifier.run_once()
            print(f"sent {sent} notification(s)")
            return 0
        from bridge.stopping import run_until_stopped

        run_until_stopped(notifier.run_forever, name="notify")
    return 0


# --------------------------------------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = args.workers if args.workers is not None else settings.workers
    workers = workers or os.cpu_count() or 1
    if workers < 1 or args.threads < 1:
        raise CliError("--workers and --threads must be at least 1")
    if not 0 <= port <= 65535:
        raise CliError("--port must be between 0 and 65535")

    # prometheus_client picks its storage when first imported: the shared directory must exist first.
    metrics_dir, own_metrics_dir = _metrics_dir()
    gate = None
    try:
        from bridge import logs

        logs.configure(settings.log_level)
        with _engine(settings):  # refuse to start on a database that is not migrated
            pass
        from bridge.app import create_app  # import once here; workers inherit it

        sock = _listen(host, port)
        gate = _hash_gate(os.cpu_count() or 1)
        log.info(
            "listening on http://%s:%d with %d worker(s), %d threads each; hash gate: semaphore %d, %d slots",
            host,
            sock.getsockname()[1],
            workers,
            args.threads,
            gate.id,
            gate.slots,
            extra={
                "workers": workers,
                "threads": args.threads,
                "port": sock.getsockname()[1],
                "hash_gate_semaphore": gate.id,  # for `ipcrm -s` should the supervisor be killed with -9
            },
        )
        return _Supervisor(
            sock, lambda: _worker(sock, settings, args.threads, gate, create_app), workers
        ).run()
    finally:
        if gate is not None:
            gate.remove()
        if own_metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir() -> tuple[str, bool]:
    """Switch prometheus_client to its multiprocess mode (a directory of per-process files).

    The mode is normally fixed when prometheus_client is first imported, and a plugin module may have
    imported it already to build the parser; our own metrics are created later (``bridge.metrics`` is
    imported by the app), so choosing the value class again here is enough for them.
    """
    existing = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if existing:
        os.makedirs(existing, exist_ok=True)
        path, owned = existing, False
    else:
        path, owned = tempfile.mkdtemp(prefix="backup-codes-metrics-"), True
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    if "bridge.metrics" in sys.modules:
        raise CliError("internal: metrics were created before the multiprocess directory was set")
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    return path, owned


def _hash_gate(slots: int) -> HashGate:
    """One Argon2 evaluation per core across all workers (see bridge.hash_gate)."""
    import sysv_ipc

    from bridge.hash_gate import HashGate

    try:
        return HashGate(slots)
    except sysv_ipc.Error as exc:  # kernel limits (kernel.sem), no IPC namespace of its own
        raise CliError(f"cannot create the System V semaphore for the hash gate: {exc}") from None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


def _worker(
    sock: socket.socket,
    settings: Settings,
    threads: int,
    hash_gate: HashGate,
    create_app: Callable[..., Any],
) -> int:
    """One worker process: its own engine and service (nothing database-related crosses a fork)."""
    from bridge import app as bridge_app
    from bridge import http_server

    _die_with_parent()
    _tune_malloc(settings.argon2_memory_cost, hash_gate.slots)
    # A thread back from Argon2 needs the GIL to give its slot back; at the default 5 ms switch interval
    # it may wait that long behind a thread running Python while another worker's core idles for the
    # slot (measured: 0.75-0.83 of raw Argon2 at 5 ms, 0.84-0.88 at 0.5 ms, less again at 0.2 ms).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    _on_stop_signals(_exit_on_signal)
    app = create_app(settings, hash_gate=hash_gate)
    http_server.serve(
        app,
        sockets=[sock],
        threads=threads,
        ident="backup-codes",
        channel_timeout=30,
        max_request_body_size=bridge_app.SERVER_MAX_BODY_BYTES,
        max_request_header_size=bridge_app.MAX_HEADER_BYTES,
        clear_untrusted_proxy_headers=True,
    )
    return 0


def _on_stop_signals(handler: Callable[[int, Any], None]) -> None:
    for signum in STOP_SIGNALS:
        if signum == signal.SIGHUP and signal.getsignal(signum) is signal.SIG_IGN:
            continue  # started under nohup: a hangup is meant to leave it running
        signal.signal(signum, handler)


def _exit_on_signal(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)  # waitress catches it, finishes in-flight requests and returns


def _tune_malloc(block_kib: int, blocks: int) -> None:
    """glibc: keep this worker's Argon2 blocks in one arena and never hand them back to the kernel.

    One arena for the whole worker, so a freed block is reused by any thread: each waitress thread would
    otherwise get its own arena keeping the block of the last hash its thread computed, and peak RSS would
    grow with the thread count rather than with the evaluations that run at once (the app's hash gate).
    Fixed thresholds, because glibc's adaptive ones trim the heap whenever two freed blocks meet at its
    top, and the next hash faults its whole block back in (measured with two evaluations at once in a
    worker: 2 760 page faults and 7 ms of system time per verification, 52 instead of 65 verifications/s
    in ``benchmarks/verify.py``; with these settings, under 50 faults). Blocks above glibc's 32 MiB mmap
    ceiling are still mapped and unmapped per hash.
    """
    with contextlib.suppress(Exception):
        import ctypes

        m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
        block = (block_kib + 1024) * 1024  # with room for the allocator's and Python's own use
        libc = ctypes.CDLL(None)
        libc.mallopt(m_arena_max, 1)
        libc.mallopt(m_mmap_threshold, min(block, 32 * 1024 * 1024))
        libc.mallopt(m_trim_threshold, (blocks + 1) * block)


def _die_with_parent() -> None:
    """Linux: get SIGTERM if the supervisor dies without stopping us (no orphaned workers)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() == 1:
            os._exit(0)


class _Supervisor:
    """Pre-forks ``count`` workers sharing one listening socket, restarts crashed ones, stops them all."""

    def __init__(self, sock: socket.socket, target: Callable[[], int], count: int) -> None:
        self.sock = sock
        self.target = target
        self.count = count
        self.children: dict[int, float] = {}
        self.stopping = False
        self.quick_deaths = 0

    def run(self) -> int:
        _on_stop_signals(self._stop)
        signal.signal(signal.SIGALRM, self._kill_stragglers)
        for _ in range(self.count):
            self._spawn()
        status = 0
        while self.children:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                break
            started = self.children.pop(pid, None)
            self._forget_metrics(pid)
            if self.stopping or started is None:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            log.warning("worker %d exited with status %d; starting a new one", pid, code)
            self.quick_deaths = (
                self.quick_deaths + 1 if time.monotonic() - started < CRASH_LOOP_SECONDS else 0
            )
            if self.quick_deaths >= CRASH_LOOP_LIMIT:
                log.error("workers keep dying right after start; giving up")
                status = 1
                self._stop(signal.SIGTERM, None)
                continue
            self._spawn()
        self.sock.close()
        return status

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = self.target()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, _signum: int, _frame: Any) -> None:
        if not self.stopping:
            log.info("stopping %d worker(s)", len(self.children))
            signal.alarm(SHUTDOWN_GRACE_SECONDS)
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _kill_stragglers(self, _signum: int, _frame: Any) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _forget_metrics(pid: int) -> None:
        with contextlib.suppress(Exception):
            from bridge import metrics

            metrics.worker_exited(pid)


if __name__ == "__main__":
    sys.exit(main())
