"""``backup-codes policy``: show a realm's policy, change some of its fields (``KEY=VALUE``)."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli import common
from bridge.cli.common import CliError, engine, operator, print_json, service


def add_cli(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="per-realm policy").add_subparsers(
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


def _policy_show(args: argparse.Namespace) -> int:
    settings = common.settings()
    with engine(settings) as db:
        print_json(service(db, settings).get_policy(args.realm).to_dict())
    return 0


def _policy_set(args: argparse.Namespace) -> int:
    changes = _changes(args.assignments)
    settings = common.settings()
    with engine(settings) as db:
        policy = service(db, settings).set_policy(args.realm, changes, actor=operator(args.actor))
    print_json(policy.to_dict())
    return 0


def _changes(assignments: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` words as policy fields, integers where the field is one; unknown keys refused."""
    from dataclasses import fields

    from bridge.service.policy import Policy

    types = {f.name: f.type for f in fields(Policy)}
    changes: dict[str, Any] = {}
    for assignment in assignments:
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
    return changes
