"""CLI: ``backup-codes realm install|uninstall|status`` (and ``python -m bridge.realm`` without the CLI)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from bridge.realm.apply import Installer
from bridge.realm.describe import describe
from bridge.realm.keycloak import connect
from bridge.realm.model import (
    CODE_ONLY,
    EMAIL_AND_CODE,
    MAX_REMEMBER_DEVICE_DAYS,
    RESET_MODE_TEXT,
    RESET_MODES,
    THEME,
    InstallOptions,
    RealmInstallError,
)
from bridge.realm.plan import plan_install, plan_uninstall
from bridge.realm.plan_settings import describe_days


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of days") from None
    if not 0 <= days <= MAX_REMEMBER_DEVICE_DAYS:
        raise argparse.ArgumentTypeError(f"{days} is not between 0 and {MAX_REMEMBER_DEVICE_DAYS}")
    return days


def add_cli(subparsers: Any) -> None:
    """Add ``realm install|uninstall|status`` to the ``backup-codes`` command."""
    realm = subparsers.add_parser("realm", help="install the backup-code step into a Keycloak realm")
    commands = realm.add_subparsers(dest="realm_command", required=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--realm", required=True, help="the realm to work on")
        parser.add_argument("--keycloak-url", help="default: BACKUP_CODES_KEYCLOAK_URL")
        parser.add_argument("--admin-user", help="default: BACKUP_CODES_KEYCLOAK_ADMIN_USERNAME")
        parser.add_argument(
            "--admin-password",
            help="default: BACKUP_CODES_KEYCLOAK_ADMIN_PASSWORD(_FILE); prefer those, a flag shows in `ps`",
        )
        parser.add_argument("--admin-realm", default="master", help="realm the admin user lives in")

    _add_install(commands, common)

    uninstall = commands.add_parser("uninstall", help="restore the previous bindings and remove our flows")
    common(uninstall)
    uninstall.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    uninstall.set_defaults(func=_cli_uninstall)

    status = commands.add_parser("status", help="show what is installed")
    common(status)
    status.set_defaults(func=_cli_status)


def _add_install(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    install = commands.add_parser("install", help="add the steps, bind the flows and theme (idempotent)")
    common(install)
    install.add_argument(
        "--bridge-url",
        help="check that this bridge answers (Keycloak gets the URL as a server option, not per realm)",
    )
    install.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    install.add_argument(
        "--create-api-key",
        action="store_true",
        help="create a bridge API key for this realm only (it is refused on every other realm)",
    )
    install.add_argument(
        "--theme", default=THEME, help=f"login theme to bind (default {THEME}); '' leaves it"
    )
    # Kept so old scripts still run; the threshold is the bridge's policy now (see _cli_install).
    install.add_argument("--low-threshold", type=int, help=argparse.SUPPRESS)
    install.add_argument(
        "--enable-brute-force", action="store_true", help="also turn on brute-force detection"
    )
    install.add_argument(
        "--remember-devices",
        type=_days,
        metavar="DAYS",
        help="skip the second factor for DAYS days on a device that passed it (0: always ask; "
        "default: keep the realm's setting, 0 on a first install)",
    )
    install.add_argument(
        "--reset-mode",
        choices=RESET_MODES,
        help=f"forgot password: {EMAIL_AND_CODE} = email link, then a backup code (AAL2, the default on a "
        f"first install); {CODE_ONLY} = a backup code or the email link (AAL1: one factor resets the "
        "password); default: keep the realm's mode (also one chosen in the admin console's Backup codes tab)",
    )
    install.set_defaults(func=_cli_install)


def _installer_from_args(args: argparse.Namespace) -> Installer:
    from bridge.settings import Settings

    settings = Settings.from_env()
    url = args.keycloak_url or settings.keycloak_url
    user = args.admin_user or settings.keycloak_admin_username
    password = args.admin_password or settings.keycloak_admin_password
    missing = [
        name
        for name, value in (("--keycloak-url", url), ("--admin-user", user), ("--admin-password", password))
        if not value
    ]
    if missing:
        raise RealmInstallError(f"missing {', '.join(missing)} (or the BACKUP_CODES_KEYCLOAK_* settings)")
    return Installer(connect(url, user, password, args.realm, args.admin_realm), args.realm)


def _run(action: Callable[[], int]) -> int:
    from keycloak.exceptions import KeycloakError

    try:
        return action()
    except RealmInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeycloakError as exc:
        code = getattr(exc, "response_code", None)
        print(f"error: Keycloak answered {code or 'nothing'}: {exc.error_message!s:.300}", file=sys.stderr)
        return 1


def _cli_install(args: argparse.Namespace) -> int:
    def run() -> int:
        installer = _installer_from_args(args)
        options = InstallOptions(
            theme=args.theme or None,
            enable_brute_force=args.enable_brute_force,
            remember_device_days=args.remember_devices,
            reset_mode=args.reset_mode,
        )
        if args.low_threshold is not None:
            print(
                "note: --low-threshold is ignored; the bridge's policy decides when codes are low: "
                f"backup-codes policy set --realm {args.realm} low_threshold={args.low_threshold}",
                file=sys.stderr,
            )
        state = installer.read_state()
        changes = plan_install(state, options)
        if not changes:
            print(f"realm '{args.realm}': nothing to change")
        elif args.dry_run:
            print(f"realm '{args.realm}': would")
            for change in changes:
                print(f"  + {change.description}")
        if args.dry_run:
            print(_describe_options(options.resolved(state)))
        else:
            print(f"realm '{args.realm}':")
            installer.apply(changes)
        if args.bridge_url:
            print(_check_bridge(args.bridge_url))
        if args.create_api_key and args.dry_run:
            print("  + create a bridge API key")
        if not installer.read_state().realm.get("bruteForceProtected"):
            print("note: brute-force detection is off for this realm; --enable-brute-force turns it on")
        if args.create_api_key and not args.dry_run:
            _create_api_key(args.realm)  # last, so the key is the last line printed
        return 0

    return _run(run)


def _describe_options(options: InstallOptions) -> str:
    days = int(options.remember_device_days or 0)
    return (
        f"  options: remember devices {days} day{'s' if days != 1 else ''} ({describe_days(days)}); "
        f"reset mode {options.reset_mode} ({RESET_MODE_TEXT[str(options.reset_mode)]})"
    )


def _check_bridge(url: str) -> str:
    """One status line on the bridge's readiness; never fails the install (Keycloak may reach it, we not)."""
    import requests

    ready = url.rstrip("/") + "/readyz"
    try:
        response = requests.get(ready, timeout=5)
    except requests.RequestException as exc:
        return f"! bridge {url}: not reachable from here ({type(exc).__name__})"
    if response.status_code != 200:
        return f"! bridge {url}: /readyz answered {response.status_code}"
    return (
        f"  bridge {url}: ready (Keycloak needs BACKUP_CODES_BRIDGE_URL or "
        f"--spi-authenticator--backup-code--bridge-url={url.rstrip('/')})"
    )


def _create_api_key(realm: str) -> None:
    """Create a bridge API key for ``realm`` only, in the bridge's own database (the settings `serve` uses).

    Scoped to the realm so that this realm's Keycloak configuration cannot act on another realm's users.
    """
    from bridge.settings import Settings
    from bridge.store import api_keys, migrations  # the bridge's API keys and schema
    from bridge.store.db import make_engine

    engine = make_engine(Settings.from_env())
    try:
        if migrations.current_revision(engine) != migrations.head_revision():
            raise RealmInstallError(
                "the bridge database is not migrated: run `backup-codes db upgrade` first"
            )
        with engine.begin() as conn:
            created = api_keys.create_key(
                conn, name=f"keycloak-{realm}", actor="realm-installer", realms=[realm]
            )
    except api_keys.ApiKeyError as exc:  # a realm name the bridge's API cannot address
        raise RealmInstallError(f"cannot create a bridge API key: {exc}") from None
    finally:
        engine.dispose()
    print(
        f"  + created bridge API key {created.id} for realm '{realm}' only; it is shown once, "
        "store it now and give it to Keycloak"
    )
    print("    (BACKUP_CODES_BRIDGE_API_KEY or --spi-authenticator--backup-code--api-key):")
    print(f"    {created.key}")


def _cli_uninstall(args: argparse.Namespace) -> int:
    def run() -> int:
        installer = _installer_from_args(args)
        changes = plan_uninstall(installer.read_state())
        if not changes:
            print(f"realm '{args.realm}': nothing to change")
        elif args.dry_run:
            print(f"realm '{args.realm}': would")
            for change in changes:
                print(f"  - {change.description}")
        else:
            print(f"realm '{args.realm}':")
            installer.apply(changes, sign="-")
        return 0

    return _run(run)


def _cli_status(args: argparse.Namespace) -> int:
    def run() -> int:
        installer = _installer_from_args(args)
        state = installer.read_state()
        print(f"realm '{args.realm}':")
        for line in describe(state):
            print(line)
        return 0

    return _run(run)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m bridge.realm``) for when the ``backup-codes`` CLI is not at hand."""
    parser = argparse.ArgumentParser(prog="backup-codes")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
