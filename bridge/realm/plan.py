"""The pure planner: desired state (:class:`InstallOptions`) vs current state (:class:`RealmState`) → steps.

:func:`plan_install` and :func:`plan_uninstall` read a snapshot and return :class:`Change` values in the
order they have to be done; they never talk to Keycloak (``bridge.realm.apply`` does). Applying looks ids
up afresh for every change, so a plan computed for a realm that has no flow copy yet still applies cleanly,
and running ``install`` twice changes nothing (the second plan is empty).

The steps come from two planners beside this one, ordered here: ``plan_flows`` (the browser and
reset-credentials flow copies and their bindings) and ``plan_settings`` (required actions, event
listener, remembered-device days, brute force, languages, stale step config). Like this module they
read nothing but ``bridge.realm.model``.
"""

from __future__ import annotations

import json

from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_EVENT_LISTENERS,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    AUTHENTICATORS,
    EVENT_LISTENER_ID,
    FALLBACK_BROWSER_FLOW,
    FALLBACK_RESET_FLOW,
    FLOW_ALIAS,
    REMEMBERED_ATTRIBUTES,
    REQUIRED_ACTIONS,
    RESET_FLOW_ALIAS,
    THEME,
    Change,
    InstallOptions,
    RealmInstallError,
    RealmState,
)
from bridge.realm.plan_flows import plan_bindings, plan_flow, plan_reset_flow
from bridge.realm.plan_settings import plan_realm_settings, plan_required_action, plan_stale_configs


def check_providers(state: RealmState, options: InstallOptions) -> list[str]:
    """What is missing on the server for an install to work (the provider JAR not deployed, mostly)."""
    problems = [
        f"authenticator '{provider}' is not deployed"
        for provider in AUTHENTICATORS
        if provider not in state.authenticators
    ]
    problems += [
        f"required action '{action}' is not deployed"
        for action in REQUIRED_ACTIONS
        if action not in state.required_actions_available
    ]
    if EVENT_LISTENER_ID not in state.event_listeners:
        problems.append(f"event listener '{EVENT_LISTENER_ID}' is not deployed")
    if options.theme and not state.theme_available:
        problems.append(f"login theme '{options.theme}' is not deployed")
    return problems


def plan_install(state: RealmState, options: InstallOptions) -> list[Change]:
    """Everything that differs from an installed realm, in the order it has to be done."""
    problems = check_providers(state, options)
    if problems:
        raise RealmInstallError(
            "; ".join(problems)
            + " — copy the current keycloak-backup-codes.jar into Keycloak's providers/ and restart it"
        )
    options = options.resolved(state)
    changes: list[Change] = []
    for action, name in REQUIRED_ACTIONS.items():
        changes += plan_required_action(state, action, name)
    changes += plan_flow(state, options)
    changes += plan_reset_flow(state, options)
    changes += plan_bindings(state, options)
    changes += plan_realm_settings(state, options)
    changes += plan_stale_configs(state)
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
    if state.reset_flow == RESET_FLOW_ALIAS:
        previous = attributes.get(ATTR_PREVIOUS_RESET_FLOW) or FALLBACK_RESET_FLOW
        if previous not in state.flow_aliases or previous == RESET_FLOW_ALIAS:
            previous = FALLBACK_RESET_FLOW
        changes.append(
            Change(
                "restore_reset_flow", f"bind reset-credentials flow '{previous}' again", {"flow": previous}
            )
        )
    if state.login_theme == THEME:
        previous_theme = attributes.get(ATTR_PREVIOUS_LOGIN_THEME, "")
        changes.append(
            Change(
                "restore_theme",
                f"set login theme '{previous_theme or 'default'}' again",
                {"theme": previous_theme},
            )
        )
    if EVENT_LISTENER_ID in state.realm_event_listeners and EVENT_LISTENER_ID not in _previous_listeners(
        attributes
    ):
        changes.append(
            Change("remove_event_listener", f"remove event listener '{EVENT_LISTENER_ID}' (keeps the others)")
        )
    if state.copy_executions is not None:
        changes.append(Change("delete_flow", f"delete flow '{FLOW_ALIAS}'"))
    if state.reset_executions is not None:
        changes.append(Change("delete_reset_flow", f"delete flow '{RESET_FLOW_ALIAS}'"))
    for action in REQUIRED_ACTIONS:
        registered = state.required_actions.get(action)
        if registered is not None and registered.get("enabled"):
            changes.append(
                Change(
                    "disable_required_action", f"disable required action '{action}'", {"provider_id": action}
                )
            )
    if any(name in attributes for name in REMEMBERED_ATTRIBUTES):
        changes.append(
            Change("forget", "remove the remembered bindings and settings from the realm attributes")
        )
    return changes


def _previous_listeners(attributes: dict[str, str]) -> list[str]:
    try:
        value = json.loads(attributes.get(ATTR_PREVIOUS_EVENT_LISTENERS, "[]"))
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def format_config(config: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(config.items()))


def is_installed(state: RealmState, options: InstallOptions | None = None) -> bool:
    return not plan_install(state, options or InstallOptions())
