"""``backup-codes user``: one user's status for the helpdesk, and the helpdesk reset."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli import common
from bridge.cli.common import engine, operator, print_json, service

RECENT_EVENTS = 10


def add_cli(subparsers: Any) -> None:
    user = subparsers.add_parser("user", help="one user's codes").add_subparsers(
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


def _user_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--realm", required=True)
    parser.add_argument("--user", dest="user_id", required=True, help="the Keycloak user id")


def _user_status(args: argparse.Namespace) -> int:
    """One JSON object: the API's status, plus what a helpdesk needs next (devices, recent events)."""
    from bridge.store import audit

    settings = common.settings()
    with engine(settings) as db:
        codes = service(db, settings)
        report = codes.status(args.realm, args.user_id).to_dict()
        report["devices"] = [device.to_dict() for device in codes.list_devices(args.realm, args.user_id)]
        report["recent_events"] = audit.query(
            db, realm=args.realm, user_id=args.user_id, limit=RECENT_EVENTS, newest_first=True
        )
        print_json(report)
    return 0


def _user_reset(args: argparse.Namespace) -> int:
    settings = common.settings()
    with engine(settings) as db:
        codes = service(db, settings)
        codes.helpdesk_reset(
            args.realm,
            args.user_id,
            actor=operator(args.actor),
            reason=args.reason,
            identity_check=args.identity_check,
        )
        print(f"reset {args.user_id} in realm {args.realm}: codes revoked, a new enrolment is required")
        print_json(codes.status(args.realm, args.user_id).to_dict())
    return 0
