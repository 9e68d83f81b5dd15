"""Planning the authentication flows: the browser-flow copy with our steps, the reset-credentials copy,
and binding both (and the login theme) to the realm, remembering what they replace for uninstall.

Part of the pure planner (bridge/realm/plan.py): reads a :class:`RealmState`, returns :class:`Change`
values, never talks to Keycloak.
"""

from __future__ import annotations

from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_RESET_FLOW,
    AUTHENTICATOR_ID,
    BUILTIN_PASSWORD_FORM_ID,
    CONDITION_ID,
    FALLBACK_BROWSER_FLOW,
    FALLBACK_RESET_FLOW,
    FLOW_ALIAS,
    PASSWORD_FORM_ID,
    REMEMBER_DEVICE_ID,
    RESET_FLOW_ALIAS,
    RESET_MODE_TEXT,
    Change,
    Execution,
    InstallOptions,
    RealmInstallError,
    RealmState,
    SubFlow,
)


def plan_flow(state: RealmState, options: InstallOptions) -> list[Change]:
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
    return plan_flow_update(state, condition, password_form, remember)


def plan_flow_update(
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


def plan_reset_flow(state: RealmState, options: InstallOptions) -> list[Change]:
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


def plan_bindings(state: RealmState, options: InstallOptions) -> list[Change]:
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
