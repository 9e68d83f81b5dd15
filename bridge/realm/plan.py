"""The pure planner: desired state (:class:`InstallOptions`) vs current state (:class:`RealmState`) → steps.

:func:`plan_install` and :func:`plan_uninstall` read a snapshot and return :class:`Change` values in the
order they have to be done; they never talk to Keycloak (``bridge.realm.apply`` does). Applying looks ids
up afresh for every change, so a plan computed for a realm that has no flow copy yet still applies cleanly,
and running ``install`` twice changes nothing (the second plan is empty).
"""

from __future__ import annotations

import json

from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_EVENT_LISTENERS,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    ATTR_REMEMBER_DEVICE_DAYS,
    AUTHENTICATOR_ID,
    AUTHENTICATORS,
    BUILTIN_PASSWORD_FORM_ID,
    CONDITION_ID,
    EVENT_LISTENER_ID,
    FALLBACK_BROWSER_FLOW,
    FALLBACK_RESET_FLOW,
    FLOW_ALIAS,
    LANGUAGE_TAGS,
    PASSWORD_FORM_ID,
    REMEMBER_DEVICE_ID,
    REMEMBERED_ATTRIBUTES,
    REQUIRED_ACTIONS,
    RESET_FLOW_ALIAS,
    RESET_MODE_TEXT,
    STALE_CONFIG_KEYS,
    THEME,
    Change,
    Execution,
    InstallOptions,
    RealmInstallError,
    RealmState,
    SubFlow,
)


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
        changes += _plan_required_action(state, action, name)
    changes += _plan_flow(state, options)
    changes += _plan_reset_flow(state, options)
    changes += _plan_bindings(state, options)
    changes += _plan_realm_settings(state, options)
    changes += _plan_stale_configs(state)
    return changes


def _plan_stale_configs(state: RealmState) -> list[Change]:
    """Migration: earlier versions gave our step a config (``low_threshold``) that nothing reads now.

    The "few codes left" notice follows the bridge's policy (its ``low`` answer), so a threshold left
    in Keycloak would only mislead an admin who edits it there. Keys we never wrote are kept.
    """
    changes = []
    for config in state.step_configs:
        stale = sorted(k for k in config.get("config") or {} if k in STALE_CONFIG_KEYS)
        if stale:
            changes.append(
                Change(
                    "drop_stale_config",
                    f"remove {', '.join(stale)} from step config '{config.get('alias', config['id'])}' "
                    "(the bridge's policy decides when codes are low)",
                    {"config_id": str(config["id"])},
                )
            )
    return changes


def _plan_required_action(state: RealmState, provider_id: str, name: str) -> list[Change]:
    action = state.required_actions.get(provider_id)
    params = {"provider_id": provider_id}
    if action is None:
        return [
            Change(
                "register_required_action",
                f"register required action '{provider_id}'",
                {**params, "name": name},
            )
        ]
    if not action.get("enabled"):
        return [Change("enable_required_action", f"enable required action '{provider_id}'", params)]
    return []


def _plan_flow(state: RealmState, options: InstallOptions) -> list[Change]:
    password_form = Change(
        "replace_password_form",
        f"replace the username/password form by '{PASSWORD_FORM_ID}' (lock recovery with a backup code)",
    )
    condition = Change(
        "add_condition",
        f"add '{CONDITION_ID}' to the conditions of the 2FA sub-flow (remembered devices, lock recovery)",
    )
    remember = Change("add_remember_device", f"add '{REMEMBER_DEVICE_ID}' after the 2FA sub-flow")
    if state.copy_executions is None:
        source = state.browser_flow if state.browser_flow != FLOW_ALIAS else FALLBACK_BROWSER_FLOW
        return [
            Change("copy_flow", f"copy browser flow '{source}' to '{FLOW_ALIAS}'", {"source": source}),
            Change("add_execution", f"add '{AUTHENTICATOR_ID}' to the copy's conditional 2FA sub-flow"),
            Change(
                "make_alternatives", f"make '{AUTHENTICATOR_ID}' and the other second factors ALTERNATIVE"
            ),
            Change("order_last", f"order '{AUTHENTICATOR_ID}' after OTP and WebAuthn"),
            condition,
            password_form,
            remember,
        ]
    return _plan_flow_update(state, condition, password_form, remember)


def _plan_flow_update(
    state: RealmState, condition: Change, password_form: Change, remember: Change
) -> list[Change]:
    """The steps that bring an existing browser-flow copy back to the installed shape."""
    subflow = state.second_factor_flow
    forms = state.login_form_flow
    if subflow is None or forms is None:
        raise RealmInstallError(
            f"flow '{FLOW_ALIAS}' has no conditional 2FA sub-flow (one holding 'Condition - user configured' "
            "and an OTP or WebAuthn form, inside the sub-flow with the username/password form); delete it or "
            "add such a sub-flow, then run install again"
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
    if not _condition_in_place(subflow):
        changes.append(condition)
    if not _password_form_in_place(forms):
        changes.append(password_form)
    if not _remember_device_in_place(forms):
        changes.append(remember)
    return changes


def _needs_alternatives(subflow: SubFlow) -> bool:
    ours = subflow.child(AUTHENTICATOR_ID)
    if ours is None or ours.requirement != "ALTERNATIVE":
        return True
    return any(c.requirement == "REQUIRED" and not c.is_condition for c in subflow.children)


def _is_last(subflow: SubFlow, ours: Execution) -> bool:
    others = [c for c in subflow.children if c.id != ours.id and not c.is_condition]
    return all(c.priority < ours.priority for c in others)


def _condition_in_place(subflow: SubFlow) -> bool:
    """Present, REQUIRED, and listed with the other conditions (before every form)."""
    ours = subflow.child(CONDITION_ID)
    if ours is None or ours.requirement != "REQUIRED":
        return False
    return all(ours.priority < c.priority for c in subflow.children if not c.is_condition)


def _password_form_in_place(forms: SubFlow) -> bool:
    """The built-in form is gone and ours (when there is one) is REQUIRED and first.

    A flow with another first factor (identity-first username, then password) has neither form:
    there is nothing to replace, and ``status`` says that lock recovery is not wired.
    """
    if forms.child(BUILTIN_PASSWORD_FORM_ID) is not None:
        return False
    ours = forms.child(PASSWORD_FORM_ID)
    if ours is None:
        return True
    return ours.requirement == "REQUIRED" and all(
        ours.priority < c.priority for c in forms.children if c.id != ours.id
    )


def _remember_device_in_place(forms: SubFlow) -> bool:
    ours = forms.child(REMEMBER_DEVICE_ID)
    if ours is None or ours.requirement != "REQUIRED":
        return False
    return all(c.priority < ours.priority for c in forms.children if c.id != ours.id)


def _plan_reset_flow(state: RealmState, options: InstallOptions) -> list[Change]:
    mode = str(options.reset_mode)
    current = state.reset_mode
    attributes = state.attributes
    previous = _previous_reset_flow(state)
    changes = []
    rebuild = state.reset_executions is not None and current != mode
    if rebuild:
        changes.append(
            Change(
                "delete_reset_flow",
                f"rebuild flow '{RESET_FLOW_ALIAS}' for reset mode {mode} "
                f"(it is {current or 'not in a shape the installer made'}): delete it",
            )
        )
    if state.reset_executions is None or rebuild:
        changes += [
            Change(
                "copy_reset_flow",
                f"copy reset-credentials flow '{previous}' to '{RESET_FLOW_ALIAS}'",
                {"source": previous},
            ),
            Change(
                "add_reset_step",
                f"add the backup-code step, reset mode {mode} ({RESET_MODE_TEXT[mode]})",
                {"mode": mode},
            ),
        ]
    if state.reset_flow != RESET_FLOW_ALIAS or rebuild:
        changes.append(
            Change(
                "bind_reset_flow",
                f"bind '{RESET_FLOW_ALIAS}' as the reset-credentials flow "
                f"(was '{previous}', kept for uninstall)",
                {"previous": previous},
            )
        )
    elif ATTR_PREVIOUS_RESET_FLOW not in attributes:
        changes.append(
            Change(
                "remember",
                f"remember '{FALLBACK_RESET_FLOW}' as the reset-credentials flow to restore on uninstall",
                {"attribute": ATTR_PREVIOUS_RESET_FLOW, "value": FALLBACK_RESET_FLOW},
            )
        )
    return changes


def _previous_reset_flow(state: RealmState) -> str:
    """The reset-credentials flow to copy and to restore on uninstall (never our own copy)."""
    remembered = state.attributes.get(ATTR_PREVIOUS_RESET_FLOW, "")
    if state.reset_flow != RESET_FLOW_ALIAS:
        return state.reset_flow
    if remembered in state.flow_aliases and remembered != RESET_FLOW_ALIAS:
        return remembered
    return FALLBACK_RESET_FLOW


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


def _plan_realm_settings(state: RealmState, options: InstallOptions) -> list[Change]:
    changes = []
    listeners = state.realm_event_listeners
    if EVENT_LISTENER_ID not in listeners:
        changes.append(
            Change(
                "add_event_listener",
                f"add event listener '{EVENT_LISTENER_ID}' (keeps {', '.join(listeners) or 'none'}; "
                "contact changes and password resets reach the bridge)",
            )
        )
    days = str(options.remember_device_days)
    if state.attributes.get(ATTR_REMEMBER_DEVICE_DAYS) != days:
        changes.append(
            Change(
                "set_remember_devices",
                f"set {ATTR_REMEMBER_DEVICE_DAYS}={days} ({describe_days(int(days))})",
                {"days": days},
            )
        )
    if options.enable_brute_force and not state.realm.get("bruteForceProtected"):
        changes.append(Change("enable_brute_force", "enable brute-force detection for the realm"))
    changes += _plan_languages(state)
    return changes


def _plan_languages(state: RealmState) -> list[Change]:
    """Internationalization on, with every language our pages, mails and sheet speak.

    Keycloak only offers a user the realm's supported locales, and the provider sends the one it
    resolves to the bridge for the mails and the sheet. Locales the realm had are kept, its default too.
    """
    supported = [str(tag) for tag in state.realm.get("supportedLocales") or []]
    missing = [tag for tag in LANGUAGE_TAGS if tag not in supported]
    if state.realm.get("internationalizationEnabled") and not missing:
        return []
    default = str(state.realm.get("defaultLocale") or "en")
    return [
        Change(
            "enable_languages",
            f"enable internationalization with the {len(LANGUAGE_TAGS)} languages of the login theme "
            f"(adds {len(missing)}, keeps {len(supported)}; default '{default}')",
            {"locales": sorted({*supported, *LANGUAGE_TAGS}), "default": default},
        )
    ]


def describe_days(days: int) -> str:
    if days <= 0:
        return "always ask for the second factor"
    return (
        f"a device that passed the second factor is not asked again for {days} day{'s' if days != 1 else ''}"
    )


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
