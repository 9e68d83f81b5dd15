"""``backup-codes serve``: the HTTP service, pre-forked by :mod:`bridge.ops.supervisor`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from bridge.cli import common
from bridge.cli.common import CliError, engine
from bridge.settings import Settings


def add_cli(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the HTTP service (waitress, one process per core)")
    serve.add_argument("--host", help="address to listen on (default: BACKUP_CODES_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: BACKUP_CODES_PORT or 8090)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: BACKUP_CODES_WORKERS or one per core)"
    )
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from bridge.ops import supervisor

    settings = common.settings()
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
            load_worker=_http_worker,
        )
    except supervisor.ServeError as exc:
        raise CliError(str(exc)) from None


def _check_database(settings: Settings) -> None:
    """Refuse to start on a database that is not migrated."""
    with engine(settings):
        pass


def _http_worker() -> Any:
    """What each worker runs; imported when the supervisor asks, after it set up the shared metrics."""
    from bridge.http.server import serve_worker

    return serve_worker
