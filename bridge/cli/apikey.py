"""``backup-codes apikey``: create, list and revoke the API keys of Keycloak and admin tools."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli.common import CliError, engine, operator


def add_cli(subparsers: Any) -> None:
    apikey = subparsers.add_parser("apikey", help="API keys for Keycloak and admin tools")
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


def _apikey_create(args: argparse.Namespace) -> int:
    from bridge.store import api_keys

    with engine() as db, db.begin() as conn:
        try:
            created = api_keys.create_key(conn, name=args.name, actor=operator(None), realms=args.realms)
        except api_keys.ApiKeyError as exc:
            raise CliError(str(exc)) from None
    scope = "every realm" if created.realms is None else "realm(s) " + ", ".join(created.realms)
    print(f"created API key {created.id} ({created.name}) for {scope}; it is shown once, store it now:")
    print(created.key)
    return 0


def _apikey_list(_args: argparse.Namespace) -> int:
    from bridge.store import api_keys

    with engine() as db, db.connect() as conn:
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

    with engine() as db, db.begin() as conn:
        revoked = api_keys.revoke_key(conn, args.key_id, actor=operator(None))
    if not revoked:
        raise CliError(f"no active API key with id {args.key_id!r}")
    print(f"revoked API key {args.key_id}")
    return 0
