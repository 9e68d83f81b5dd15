"""``backup-codes``: run the service and administer it from a shell.

Every command fails the same way: one line ``error: …`` on stderr and exit status 2, no traceback.
Each command group is a module with ``add_cli(subparsers)``: the core groups are the modules of this
package (``bridge.cli.db`` …), and modules that own a command group elsewhere (the realm installer, the
LDAP sync) add theirs the same way; a plugin group whose module is not installed is simply absent.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bridge.cli.common import CliError
from bridge.settings import SettingsError

__all__ = ["EXIT_ERROR", "CliError", "build_parser", "main"]

EXIT_ERROR = 2
PLUGIN_MODULES = ("bridge.realm.cli", "bridge.ldap.cli")

log = logging.getLogger("bridge.cli")


# ------------------------------------------------------------------------------------------- parser


# In the order of ``backup-codes --help``; each is the module ``bridge.cli.<name>``.
CORE_GROUPS = ("serve", "db", "apikey", "audit", "user", "policy", "notify")
CORE_COMMANDS = frozenset(CORE_GROUPS)


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The full parser; ``plugins=False`` leaves out the plugin groups (and their heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="backup-codes",
        description="Single-use backup codes for Keycloak: the bridge service and its administration.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in CORE_GROUPS:
        importlib.import_module(f"bridge.cli.{group}").add_cli(commands)
    for module_name in PLUGIN_MODULES if plugins else ():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        add_cli = getattr(module, "add_cli", None)
        if add_cli is not None:
            add_cli(commands)
    return parser


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

    from bridge.errors import BackupCodesError
    from bridge.service.policy import PolicyError

    # The bridge's own refusals (and, until every module raises from bridge.errors, its ValueErrors).
    if isinstance(exc, BackupCodesError | PolicyError | ValueError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        return f"database: {first_line or type(exc.orig).__name__}"
    if isinstance(exc, SQLAlchemyError):
        return f"database: {type(exc).__name__}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected failure'}"
