"""Realm installer: wire the backup-code step into a Keycloak realm, show what is wired, take it out again.

Built-in flows cannot be edited, so ``install`` copies the realm's current browser flow to
``browser-backup-codes``, adds the ``backup-code`` step as an ALTERNATIVE to OTP/WebAuthn inside the
copy's conditional 2FA sub-flow (placed after them, so a user with OTP still sees OTP first), registers
the ``backup-code-setup`` required action and binds the copy and the ``backup-codes`` login theme. The
bindings it replaces are kept as realm attributes so ``uninstall`` can put them back.

Planning is pure (:func:`plan_install`, :func:`plan_uninstall` read a :class:`RealmState` snapshot and
return :class:`Change` values); applying looks ids up afresh for every change, so a plan computed for a
realm that has no flow copy yet still applies cleanly. Running ``install`` twice changes nothing.

Keycloak pitfalls handled here: an execution PUT must carry the priority Keycloak sent (a missing one
arrives as 0 and reorders the flow), so we always PUT back the dict we got with one field changed; and
python-keycloak puts aliases into URLs unquoted, so our own aliases are URL-safe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

FLOW_ALIAS = "browser-backup-codes"
AUTHENTICATOR_ID = "backup-code"
REQUIRED_ACTION_ID = "backup-code-setup"
REQUIRED_ACTION_NAME = "Set up backup codes"
THEME = "backup-codes"
CONFIG_ALIAS = "backup-codes"
DEFAULT_CONFIG = {"low_threshold": "3", "connect_timeout_ms": "2000", "read_timeout_ms": "5000"}
ATTR_PREVIOUS_BROWSER_FLOW = "backupCodes.previous.browserFlow"
ATTR_PREVIOUS_LOGIN_THEME = "backupCodes.previous.loginTheme"
FALLBACK_BROWSER_FLOW = "browser"
SECOND_FACTOR_PROVIDERS = ("auth-otp-form", "webauthn-authenticator", "auth-conditional-otp-form")


class RealmInstallError(RuntimeError):
    """The realm cannot be set up as asked; the message says why and what to do."""


# --------------------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Execution:
    """One row of Keycloak's flat execution list, with the raw dict kept for round-trip PUTs."""

    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def level(self) -> int:
        return int(self.raw.get("level", 0))

    @property
    def provider_id(self) -> str:
        return str(self.raw.get("providerId", ""))

    @property
    def requirement(self) -> str:
        return str(self.raw.get("requirement", ""))

    @property
    def priority(self) -> int:
        return int(self.raw.get("priority", 0))

    @property
    def is_flow(self) -> bool:
        return bool(self.raw.get("authenticationFlow"))

    @property
    def display_name(self) -> str:
        return str(self.raw.get("displayName", ""))

    @property
    def is_condition(self) -> bool:
        return self.provider_id.startswith("conditional-")


@dataclass(frozen=True)
class SubFlow:
    """A sub-flow execution and its direct children."""

    execution: Execution
    children: tuple[Execution, ...]

    @property
    def alias(self) -> str:
        # For a sub-flow, Keycloak's displayName is the flow alias (the form the URL endpoints take).
        return self.execution.display_name

    def child(self, provider_id: str) -> Execution | None:
        return next((c for c in self.children if c.provider_id == provider_id), None)


def sub_flows(executions: Iterable[Execution]) -> list[SubFlow]:
    """Rebuild the tree from the flat list: a sub-flow's direct children follow it at level + 1."""
    rows = list(executions)
    result = []
    for i, row in enumerate(rows):
        if not row.is_flow:
            continue
        children = []
        for later in rows[i + 1 :]:
            if later.level <= row.level:
                break
            if later.level == row.level + 1:
                children.append(later)
        result.append(SubFlow(row, tuple(children)))
    return result


def find_second_factor_flow(executions: Iterable[Execution]) -> SubFlow | None:
    """The CONDITIONAL sub-flow deciding on a second factor; found by content, as 26.3 renamed it."""
    candidates = [
        sf
        for sf in sub_flows(executions)
        if sf.execution.requirement == "CONDITIONAL" and sf.child("conditional-user-configured") is not None
    ]
    with_otp = [sf for sf in candidates if any(sf.child(p) for p in SECOND_FACTOR_PROVIDERS)]
    if with_otp:
        return with_otp[0]
    with_us = [sf for sf in candidates if sf.child(AUTHENTICATOR_ID)]
    return with_us[0] if with_us else None


@dataclass(frozen=True)
class RealmState:
    """A read-only snapshot of everything the installer looks at."""

    realm: dict[str, Any]
    flow_aliases: frozenset[str]
    copy_executions: tuple[Execution, ...] | None  # None: our flow copy does not exist
    required_action: dict[str, Any] | None  # None: not registered
    required_action_available: bool  # the provider is deployed (registered or registrable)
    authenticator_available: bool
    theme_available: bool
    config: dict[str, Any] | None  # our execution's authenticator config

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.realm.get("attributes") or {})

    @property
    def browser_flow(self) -> str:
        return str(self.realm.get("browserFlow") or FALLBACK_BROWSER_FLOW)

    @property
    def login_theme(self) -> str:
        return str(self.realm.get("loginTheme") or "")

    @property
    def second_factor_flow(self) -> SubFlow | None:
        return None if self.copy_executions is None else find_second_factor_flow(self.copy_executions)


# ------------------------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One step of a plan: a verb understood by :func:`apply_change` plus what it needs."""

    kind: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstallOptions:
    theme: str | None = THEME  # None: leave the login theme alone
    enable_brute_force: bool = False
    config: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONFIG))


def check_providers(state: RealmState, options: InstallOptions) -> list[str]:
    """What is missing on the server for an install to work (the provider JAR not deployed, mostly)."""
    problems = []
    if not state.authenticator_available:
        problems.append(f"authenticator '{AUTHENTICATOR_ID}' is not deployed")
    if not state.required_action_available:
        problems.append(f"required action '{REQUIRED_ACTION_ID}' is not deployed")
    if options.theme and not state.theme_available:
        problems.append(f"login theme '{options.theme}' is not deployed")
    return problems


def plan_install(state: RealmState, options: InstallOptions) -> list[Change]:
    """Everything that differs from an installed realm, in the order it has to be done."""
    problems = check_providers(state, options)
    if problems:
        raise RealmInstallError(
            "; ".join(problems)
            + " — copy keycloak-backup-codes.jar into Keycloak's providers/ and restart it"
        )
    changes: list[Change] = []
    changes += _plan_required_action(state)
    changes += _plan_flow(state, options)
    changes += _plan_bindings(state, options)
    if options.enable_brute_force and not state.realm.get("bruteForceProtected"):
        changes.append(Change("enable_brute_force", "enable brute-force detection for the realm"))
    return changes


def _plan_required_action(state: RealmState) -> list[Change]:
    action = state.required_action
    if action is None:
        return [Change("register_required_action", f"register required action '{REQUIRED_ACTION_ID}'")]
    if not action.get("enabled"):
        return [Change("enable_required_action", f"enable required action '{REQUIRED_ACTION_ID}'")]
    return []


def _plan_flow(state: RealmState, options: InstallOptions) -> list[Change]:
    config_change = Change(
        "create_config", f"configure the step ({_format_config(options.config)})", {"config": options.config}
    )
    if state.copy_executions is None:
        source = state.browser_flow if state.browser_flow != FLOW_ALIAS else FALLBACK_BROWSER_FLOW
        return [
            Change("copy_flow", f"copy browser flow '{source}' to '{FLOW_ALIAS}'", {"source": source}),
            Change("add_execution", f"add '{AUTHENTICATOR_ID}' to the copy's conditional 2FA sub-flow"),
            Change(
                "make_alternatives", f"make '{AUTHENTICATOR_ID}' and the other second factors ALTERNATIVE"
            ),
            Change("order_last", f"order '{AUTHENTICATOR_ID}' after OTP and WebAuthn"),
            config_change,
        ]
    subflow = state.second_factor_flow
    if subflow is None:
        raise RealmInstallError(
            f"flow '{FLOW_ALIAS}' has no conditional 2FA sub-flow (one holding 'Condition - user configured' "
            "and an OTP or WebAuthn form); delete it or add such a sub-flow, then run install again"
        )
    ours = subflow.child(AUTHENTICATOR_ID)
    changes = []
    if ours is None:
        changes.append(Change("add_execution", f"add '{AUTHENTICATOR_ID}' to sub-flow '{subflow.alias}'"))
    if ours is None or _needs_alternatives(subflow):
        changes.append(
            Change("make_alternatives", f"make '{AUTHENTICATOR_ID}' and the other second factors ALTERNATIVE")
        )
    if ours is None or not _is_last(subflow, ours):
        changes.append(Change("order_last", f"order '{AUTHENTICATOR_ID}' after OTP and WebAuthn"))
    if ours is None or not ours.raw.get("authenticationConfig"):
        changes.append(config_change)
    return changes


def _needs_alternatives(subflow: SubFlow) -> bool:
    ours = subflow.child(AUTHENTICATOR_ID)
    if ours is None or ours.requirement != "ALTERNATIVE":
        return True
    return any(c.requirement == "REQUIRED" and not c.is_condition for c in subflow.children)


def _is_last(subflow: SubFlow, ours: Execution) -> bool:
    others = [c for c in subflow.children if c.id != ours.id and not c.is_condition]
    return all(c.priority < ours.priority for c in others)


def _plan_bindings(state: RealmState, options: InstallOptions) -> list[Change]:
    changes = []
    attributes = state.attributes
    if state.browser_flow != FLOW_ALIAS:
        previous = state.browser_flow
        changes.append(
            Change(
                "bind_flow",
                f"bind '{FLOW_ALIAS}' as the browser flow (was '{previous}', kept for uninstall)",
                {"previous": previous},
            )
        )
    elif ATTR_PREVIOUS_BROWSER_FLOW not in attributes:
        changes.append(
            Change(
                "remember",
                f"remember '{FALLBACK_BROWSER_FLOW}' as the browser flow to restore on uninstall",
                {"attribute": ATTR_PREVIOUS_BROWSER_FLOW, "value": FALLBACK_BROWSER_FLOW},
            )
        )
    if options.theme and state.login_theme != options.theme:
        previous_theme = state.login_theme
        changes.append(
            Change(
                "bind_theme",
                f"set login theme '{options.theme}' "
                f"(was '{previous_theme or 'default'}', kept for uninstall)",
                {"theme": options.theme, "previous": previous_theme},
            )
        )
    return changes


def plan_uninstall(state: RealmState) -> list[Change]:
    """Put back what install replaced, then remove what it added; no-op on a realm without us."""
    changes = []
    attributes = state.attributes
    if state.browser_flow == FLOW_ALIAS:
        previous = attributes.get(ATTR_PREVIOUS_BROWSER_FLOW) or FALLBACK_BROWSER_FLOW
        if previous not in state.flow_aliases or previous == FLOW_ALIAS:
            previous = FALLBACK_BROWSER_FLOW
        changes.append(Change("restore_flow", f"bind browser flow '{previous}' again", {"flow": previous}))
    if state.login_theme == THEME:
        previous_theme = attributes.get(ATTR_PREVIOUS_LOGIN_THEME, "")
        changes.append(
            Change(
                "restore_theme",
                f"set login theme '{previous_theme or 'default'}' again",
                {"theme": previous_theme},
            )
        )
    if state.copy_executions is not None:
        changes.append(Change("delete_flow", f"delete flow '{FLOW_ALIAS}'"))
    if state.required_action is not None and state.required_action.get("enabled"):
        changes.append(Change("disable_required_action", f"disable required action '{REQUIRED_ACTION_ID}'"))
    if ATTR_PREVIOUS_BROWSER_FLOW in attributes or ATTR_PREVIOUS_LOGIN_THEME in attributes:
        changes.append(Change("forget", "remove the remembered bindings from the realm attributes"))
    return changes


def _format_config(config: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(config.items()))


# ------------------------------------------------------------------------------------------- Keycloak


class Installer:
    """Reads and changes one realm through python-keycloak's ``KeycloakAdmin`` (bound to that realm)."""

    def __init__(self, admin: Any, realm: str) -> None:
        self.admin = admin
        self.realm = realm

    # -- reading

    def read_state(self) -> RealmState:
        from keycloak.exceptions import KeycloakGetError

        try:
            realm = self.admin.get_realm(self.realm)
        except KeycloakGetError as exc:
            if exc.response_code == 404:
                raise RealmInstallError(f"realm '{self.realm}' not found") from None
            raise
        flows = self.admin.get_authentication_flows()
        aliases = frozenset(str(f["alias"]) for f in flows)
        copy = None
        config = None
        if FLOW_ALIAS in aliases:
            copy = tuple(Execution(e) for e in self.admin.get_authentication_flow_executions(FLOW_ALIAS))
            subflow = find_second_factor_flow(copy)
            ours = subflow.child(AUTHENTICATOR_ID) if subflow else None
            if ours is not None and ours.raw.get("authenticationConfig"):
                config = self.admin.get_authenticator_config(ours.raw["authenticationConfig"])
        registered = {
            str(a.get("providerId") or a.get("alias")): a for a in self.admin.get_required_actions()
        }
        unregistered = self._get("authentication/unregistered-required-actions")
        server = self._server_info()
        return RealmState(
            realm=realm,
            flow_aliases=aliases,
            copy_executions=copy,
            required_action=registered.get(REQUIRED_ACTION_ID),
            required_action_available=REQUIRED_ACTION_ID in registered
            or any(a.get("providerId") == REQUIRED_ACTION_ID for a in unregistered),
            authenticator_available=AUTHENTICATOR_ID in server["authenticators"],
            theme_available=THEME in server["login_themes"],
            config=config,
        )

    def _server_info(self) -> dict[str, set[str]]:
        info = self.admin.connection.raw_get("admin/serverinfo")
        info.raise_for_status()
        body = info.json()
        providers = body.get("providers", {}).get("authenticator", {}).get("providers", {})
        themes = body.get("themes", {}).get("login", [])
        return {"authenticators": set(providers), "login_themes": {t.get("name") for t in themes}}

    def _path(self, suffix: str) -> str:
        return f"admin/realms/{self.realm}/{suffix}"

    def _get(self, suffix: str) -> Any:
        response = self.admin.connection.raw_get(self._path(suffix))
        _raise_for(response, f"GET {suffix}")
        return response.json()

    # -- applying

    def apply(self, changes: Iterable[Change], sign: str = "+", echo: Callable[[str], None] = print) -> None:
        for change in changes:
            echo(f"  {sign} {change.description}")
            getattr(self, "_do_" + change.kind)(**change.params)

    def _executions(self) -> list[Execution]:
        return [Execution(e) for e in self.admin.get_authentication_flow_executions(FLOW_ALIAS)]

    def _subflow(self) -> SubFlow:
        subflow = find_second_factor_flow(self._executions())
        if subflow is None:
            raise RealmInstallError(f"flow '{FLOW_ALIAS}' has no conditional 2FA sub-flow")
        return subflow

    def _put_execution(self, subflow_alias: str, execution: Execution, **changed: Any) -> None:
        # Round-trip the dict Keycloak sent, priority included, with only the named fields changed.
        self.admin.update_authentication_flow_executions({**execution.raw, **changed}, subflow_alias)

    def _do_register_required_action(self) -> None:
        response = self.admin.connection.raw_post(
            self._path("authentication/register-required-action"),
            data=json.dumps({"providerId": REQUIRED_ACTION_ID, "name": REQUIRED_ACTION_NAME}),
        )
        _raise_for(response, "register-required-action")
        self._do_enable_required_action()

    def _do_enable_required_action(self) -> None:
        action = self.admin.get_required_action_by_alias(REQUIRED_ACTION_ID)
        self.admin.update_required_action(REQUIRED_ACTION_ID, {**action, "enabled": True})

    def _do_disable_required_action(self) -> None:
        action = self.admin.get_required_action_by_alias(REQUIRED_ACTION_ID)
        self.admin.update_required_action(
            REQUIRED_ACTION_ID, {**action, "enabled": False, "defaultAction": False}
        )

    def _do_copy_flow(self, source: str) -> None:
        self.admin.copy_authentication_flow({"newName": FLOW_ALIAS}, source)
        if find_second_factor_flow(self._executions()) is None:
            self._do_delete_flow()
            raise RealmInstallError(
                f"browser flow '{source}' has no conditional 2FA sub-flow (one holding 'Condition - user "
                "configured' and an OTP or WebAuthn form); bind the built-in 'browser' flow or add such a "
                "sub-flow, then run install again"
            )

    def _do_add_execution(self) -> None:
        subflow = self._subflow()
        self.admin.create_authentication_flow_execution({"provider": AUTHENTICATOR_ID}, subflow.alias)

    def _do_make_alternatives(self) -> None:
        subflow = self._subflow()
        for child in subflow.children:
            wanted = child.provider_id == AUTHENTICATOR_ID or (
                child.requirement == "REQUIRED" and not child.is_condition
            )
            if wanted and child.requirement != "ALTERNATIVE":
                self._put_execution(subflow.alias, child, requirement="ALTERNATIVE")

    def _do_order_last(self) -> None:
        subflow = self._subflow()
        ours = subflow.child(AUTHENTICATOR_ID)
        if ours is None:
            raise RealmInstallError(f"'{AUTHENTICATOR_ID}' vanished from '{subflow.alias}'")
        others = [c.priority for c in subflow.children if c.id != ours.id and not c.is_condition]
        top = max(others, default=0)
        if ours.priority <= top:
            self._put_execution(subflow.alias, ours, priority=top + 10)

    def _do_create_config(self, config: dict[str, str]) -> None:
        ours = self._subflow().child(AUTHENTICATOR_ID)
        if ours is None:
            raise RealmInstallError(f"'{AUTHENTICATOR_ID}' is not in flow '{FLOW_ALIAS}'")
        self.admin.create_execution_config(
            ours.id, {"alias": f"{CONFIG_ALIAS}-{ours.id[:8]}", "config": config}
        )

    def _update_realm(self, **fields: Any) -> None:
        self.admin.update_realm(self.realm, fields)

    def _attributes(self) -> dict[str, str]:
        return dict(self.admin.get_realm(self.realm).get("attributes") or {})

    def _do_bind_flow(self, previous: str) -> None:
        attributes = self._attributes()
        # Keep the first remembered value: a re-run after a partial uninstall must not remember our own flow.
        if previous != FLOW_ALIAS:
            attributes.setdefault(ATTR_PREVIOUS_BROWSER_FLOW, previous)
        self._update_realm(browserFlow=FLOW_ALIAS, attributes=attributes)

    def _do_remember(self, attribute: str, value: str) -> None:
        attributes = self._attributes()
        attributes.setdefault(attribute, value)
        self._update_realm(attributes=attributes)

    def _do_bind_theme(self, theme: str, previous: str) -> None:
        attributes = self._attributes()
        attributes.setdefault(ATTR_PREVIOUS_LOGIN_THEME, previous)
        self._update_realm(loginTheme=theme, attributes=attributes)

    def _do_enable_brute_force(self) -> None:
        self._update_realm(bruteForceProtected=True)

    def _do_restore_flow(self, flow: str) -> None:
        self._update_realm(browserFlow=flow)

    def _do_restore_theme(self, theme: str) -> None:
        self._update_realm(loginTheme=theme)

    def _do_delete_flow(self) -> None:
        flow = next(f for f in self.admin.get_authentication_flows() if f["alias"] == FLOW_ALIAS)
        self.admin.delete_authentication_flow(flow["id"])

    def _do_forget(self) -> None:
        attributes = self._attributes()
        attributes.pop(ATTR_PREVIOUS_BROWSER_FLOW, None)
        attributes.pop(ATTR_PREVIOUS_LOGIN_THEME, None)
        self._update_realm(attributes=attributes)


def _raise_for(response: Any, what: str) -> None:
    if response.status_code >= 400:
        raise RealmInstallError(f"Keycloak refused {what}: HTTP {response.status_code} {response.text[:300]}")


# -------------------------------------------------------------------------------------------- status


def describe(state: RealmState) -> list[str]:
    """Human-readable status lines; a leading '!' marks something an operator should look at."""
    lines = []
    action = state.required_action
    if action is None:
        lines.append(f"! required action '{REQUIRED_ACTION_ID}': not registered")
    else:
        lines.append(
            f"  required action '{REQUIRED_ACTION_ID}': {'enabled' if action.get('enabled') else 'disabled'}"
        )
    if state.copy_executions is None:
        lines.append(f"! flow '{FLOW_ALIAS}': missing")
    else:
        subflow = state.second_factor_flow
        ours = subflow.child(AUTHENTICATOR_ID) if subflow else None
        if ours is None:
            lines.append(f"! flow '{FLOW_ALIAS}': no '{AUTHENTICATOR_ID}' step")
        else:
            assert subflow is not None
            lines.append(
                f"  flow '{FLOW_ALIAS}': '{AUTHENTICATOR_ID}' {ours.requirement} in '{subflow.alias}'"
            )
    bound = state.browser_flow == FLOW_ALIAS
    lines.append(f"{' ' if bound else '!'} browser flow: '{state.browser_flow}'")
    lines.append(f"  login theme: '{state.login_theme or 'default'}'")
    if state.config is not None:
        lines.append(f"  step config: {_format_config(state.config.get('config', {}))}")
    attributes = state.attributes
    if ATTR_PREVIOUS_BROWSER_FLOW in attributes:
        lines.append(
            f"  restored on uninstall: browser flow '{attributes[ATTR_PREVIOUS_BROWSER_FLOW]}', "
            f"login theme '{attributes.get(ATTR_PREVIOUS_LOGIN_THEME) or 'default'}'"
        )
    if not state.realm.get("bruteForceProtected"):
        lines.append(
            "! brute-force detection is off for this realm (install --enable-brute-force turns it on)"
        )
    else:
        lines.append("  brute-force detection: on")
    return lines


def is_installed(state: RealmState, options: InstallOptions | None = None) -> bool:
    return not plan_install(state, options or InstallOptions())


# ----------------------------------------------------------------------------------------------- CLI


def connect(url: str, username: str, password: str, realm: str, admin_realm: str = "master") -> Any:
    """A ``KeycloakAdmin`` that logs in to ``admin_realm`` and works on ``realm``."""
    from keycloak import KeycloakAdmin

    return KeycloakAdmin(
        server_url=url.rstrip("/"),
        username=username,
        password=password,
        realm_name=realm,
        user_realm_name=admin_realm,
    )


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

    install = commands.add_parser("install", help="add the step, bind the flow and theme (idempotent)")
    common(install)
    install.add_argument(
        "--bridge-url",
        help="check that this bridge answers (Keycloak gets the URL as a server option, not per realm)",
    )
    install.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    install.add_argument(
        "--create-api-key", action="store_true", help="create a bridge API key for this realm"
    )
    install.add_argument(
        "--theme", default=THEME, help=f"login theme to bind (default {THEME}); '' leaves it"
    )
    install.add_argument("--low-threshold", type=int, default=int(DEFAULT_CONFIG["low_threshold"]))
    install.add_argument(
        "--enable-brute-force", action="store_true", help="also turn on brute-force detection"
    )
    install.set_defaults(func=_cli_install)

    uninstall = commands.add_parser("uninstall", help="restore the previous bindings and remove our flow")
    common(uninstall)
    uninstall.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    uninstall.set_defaults(func=_cli_uninstall)

    status = commands.add_parser("status", help="show what is installed")
    common(status)
    status.set_defaults(func=_cli_status)


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
            config={**DEFAULT_CONFIG, "low_threshold": str(args.low_threshold)},
        )
        changes = plan_install(installer.read_state(), options)
        if not changes:
            print(f"realm '{args.realm}': nothing to change")
        elif args.dry_run:
            print(f"realm '{args.realm}': would")
            for change in changes:
                print(f"  + {change.description}")
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
    """Create a bridge API key in the bridge's own database (the same settings `backup-codes serve` uses)."""
    from bridge import auth, migrations  # the bridge's API-key module and schema
    from bridge.db import make_engine
    from bridge.settings import Settings

    engine = make_engine(Settings.from_env())
    try:
        if migrations.current_revision(engine) != migrations.head_revision():
            raise RealmInstallError(
                "the bridge database is not migrated: run `backup-codes db upgrade` first"
            )
        with engine.begin() as conn:
            created = auth.create_key(conn, name=f"keycloak-{realm}", actor="realm-installer")
    finally:
        engine.dispose()
    print(f"  + created bridge API key {created.id}; it is shown once, store it now and give it to Keycloak")
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


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
