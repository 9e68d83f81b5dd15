"""``realm status``: what is installed in a realm, as lines an operator reads ('!' marks a problem)."""

from __future__ import annotations

from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    ATTR_REMEMBER_DEVICE_DAYS,
    AUTHENTICATOR_ID,
    BUILTIN_PASSWORD_FORM_ID,
    CONDITION_ID,
    EVENT_LISTENER_ID,
    FALLBACK_RESET_FLOW,
    FLOW_ALIAS,
    PASSWORD_FORM_ID,
    REMEMBER_DEVICE_ID,
    REQUIRED_ACTIONS,
    RESET_FLOW_ALIAS,
    RESET_MODE_TEXT,
    RealmState,
)
from bridge.realm.plan import format_config


def describe(state: RealmState) -> list[str]:
    """Human-readable status lines; a leading '!' marks something an operator should look at."""
    lines = []
    for provider_id in REQUIRED_ACTIONS:
        action = state.required_actions.get(provider_id)
        if action is None:
            lines.append(f"! required action '{provider_id}': not registered")
        else:
            enabled = bool(action.get("enabled"))
            lines.append(
                f"{' ' if enabled else '!'} required action '{provider_id}': "
                f"{'enabled' if enabled else 'disabled'}"
            )
    lines += _describe_browser_flow(state)
    bound = state.browser_flow == FLOW_ALIAS
    lines.append(f"{' ' if bound else '!'} browser flow: '{state.browser_flow}'")
    lines += _describe_reset_flow(state)
    lines.append(f"  login theme: '{state.login_theme or 'default'}'")
    for config in state.step_configs:
        lines.append(f"  step config: {format_config(config.get('config') or {})}")
    days = state.remember_device_days
    if days is None:
        lines.append(
            f"! remember devices: not set ({ATTR_REMEMBER_DEVICE_DAYS}; install --remember-devices DAYS)"
        )
    elif days == 0:
        lines.append("  remember devices: off (always ask for the second factor)")
    else:
        lines.append(f"  remember devices: {days} day{'s' if days != 1 else ''}")
    listeners = sorted(state.realm_event_listeners)  # Keycloak keeps them as a set
    ours = EVENT_LISTENER_ID in listeners
    lines.append(
        f"{' ' if ours else '!'} event listeners: {', '.join(listeners) or 'none'}"
        + ("" if ours else f" (no '{EVENT_LISTENER_ID}': the bridge misses email changes and resets)")
    )
    attributes = state.attributes
    if ATTR_PREVIOUS_BROWSER_FLOW in attributes:
        lines.append(
            f"  restored on uninstall: browser flow '{attributes[ATTR_PREVIOUS_BROWSER_FLOW]}', "
            f"reset-credentials flow '{attributes.get(ATTR_PREVIOUS_RESET_FLOW) or FALLBACK_RESET_FLOW}', "
            f"login theme '{attributes.get(ATTR_PREVIOUS_LOGIN_THEME) or 'default'}'"
        )
    if not state.realm.get("bruteForceProtected"):
        lines.append(
            "! brute-force detection is off for this realm (install --enable-brute-force turns it on)"
        )
    else:
        lines.append("  brute-force detection: on")
    return lines


def _describe_browser_flow(state: RealmState) -> list[str]:
    if state.copy_executions is None:
        return [f"! flow '{FLOW_ALIAS}': missing"]
    subflow = state.second_factor_flow
    forms = state.login_form_flow
    ours = subflow.child(AUTHENTICATOR_ID) if subflow else None
    if subflow is None or forms is None or ours is None:
        return [f"! flow '{FLOW_ALIAS}': no '{AUTHENTICATOR_ID}' step"]
    lines = [f"  flow '{FLOW_ALIAS}': '{AUTHENTICATOR_ID}' {ours.requirement} in '{subflow.alias}'"]
    condition = subflow.child(CONDITION_ID)
    lines.append(
        f"  flow '{FLOW_ALIAS}': condition '{CONDITION_ID}' {condition.requirement}"
        if condition is not None
        else f"! flow '{FLOW_ALIAS}': no '{CONDITION_ID}' (install adds it)"
    )
    form = forms.child(PASSWORD_FORM_ID)
    if form is not None:
        lines.append(f"  flow '{FLOW_ALIAS}': form '{PASSWORD_FORM_ID}' {form.requirement} (lock recovery)")
    elif forms.child(BUILTIN_PASSWORD_FORM_ID) is not None:
        lines.append(f"! flow '{FLOW_ALIAS}': built-in username/password form (install replaces it)")
    else:
        lines.append(
            f"! flow '{FLOW_ALIAS}': no username/password form in '{forms.alias}' (no lock recovery)"
        )
    remember = forms.child(REMEMBER_DEVICE_ID)
    lines.append(
        f"  flow '{FLOW_ALIAS}': '{REMEMBER_DEVICE_ID}' {remember.requirement} after the 2FA sub-flow"
        if remember is not None
        else f"! flow '{FLOW_ALIAS}': no '{REMEMBER_DEVICE_ID}' (install adds it)"
    )
    return lines


def _describe_reset_flow(state: RealmState) -> list[str]:
    bound = state.reset_flow == RESET_FLOW_ALIAS
    mode = state.reset_mode
    lines = []
    if state.reset_executions is None:
        lines.append(f"! flow '{RESET_FLOW_ALIAS}': missing")
    elif mode is None:
        lines.append(f"! flow '{RESET_FLOW_ALIAS}': not in a shape the installer made (install rebuilds it)")
    else:
        lines.append(f"  flow '{RESET_FLOW_ALIAS}': reset mode {mode} ({RESET_MODE_TEXT[mode]})")
    lines.append(f"{' ' if bound else '!'} reset-credentials flow: '{state.reset_flow}'")
    return lines
