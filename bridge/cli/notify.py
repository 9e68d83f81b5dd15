"""``backup-codes notify run``: send the queued mail, until interrupted or once."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from bridge.cli import common
from bridge.cli.common import CliError, engine


def add_cli(subparsers: Any) -> None:
    notify = subparsers.add_parser("notify", help="mail notifications").add_subparsers(
        dest="notify_command", required=True
    )
    run = notify.add_parser("run", help="send queued mail (until interrupted, or --once)")
    run.add_argument("--once", action="store_true", help="send what is due now, then exit")
    run.set_defaults(func=_notify_run)


def _notify_run(args: argparse.Namespace) -> int:
    try:
        notify = importlib.import_module("bridge.notify")
    except ImportError:
        raise CliError("notifications are not installed (bridge.notify is missing)") from None
    from bridge.ops import logs

    settings = common.settings()
    logs.configure(settings.log_level)
    with engine(settings) as db:
        notifier = notify.Notifier(db, settings)
        if args.once:
            sent = notifier.run_once()
            print(f"sent {sent} notification(s)")
            return 0
        from bridge.ops.stopping import run_until_stopped

        run_until_stopped(notifier.run_forever, name="notify")
    return 0
