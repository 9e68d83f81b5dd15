"""The applier: each plan step (:class:`Change`) is done by the verb :data:`VERBS` registers for its kind.

Every verb looks ids up afresh (a plan computed before a flow copy existed still applies), new executions
land last so every step is moved to its place explicitly, and a flow still bound to the realm cannot be
deleted, so it is unbound first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from bridge.realm.keycloak import RealmAdmin, raise_for
from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_EVENT_LISTENERS,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    ATTR_REMEMBER_DEVICE_DAYS,
    AUTHENTICATOR_ID,
    BUILTIN_PASSWORD_FORM_ID,
    CHOOSE_USER_ID,
    CONDITION_ID,
    EVENT_LISTENER_ID,
    FALLBACK_RESET_FLOW,
    FLOW_ALIAS,
    PASSWORD_FORM_ID,
    REMEMBER_DEVICE_ID,
    REMEMBERED_ATTRIBUTES,
    RESET_EMAIL_ID,
    RESET_FLOW_ALIAS,
    RESET_PASSWORD_ID,
    RESET_SHAPES,
    RESET_STEP_ALIAS,
    STALE_CONFIG_KEYS,
    Change,
    RealmInstallError,
    find_login_form_flow,
    top_level,
)

# ---- required actions


def register_required_action(kc: RealmAdmin, provider_id: str, name: str) -> None:
    response = kc.admin.connection.raw_post(
        kc.path("authentication/register-required-action"),
        data=json.dumps({"providerId": provider_id, "name": name}),
    )
    raise_for(response, "register-required-action")
    enable_required_action(kc, provider_id)


def enable_required_action(kc: RealmAdmin, provider_id: str) -> None:
    action = kc.admin.get_required_action_by_alias(provider_id)
    kc.admin.update_required_action(provider_id, {**action, "enabled": True})


def disable_required_action(kc: RealmAdmin, provider_id: str) -> None:
    action = kc.admin.get_required_action_by_alias(provider_id)
    kc.admin.update_required_action(provider_id, {**action, "enabled": False, "defaultAction": False})


# ---- browser flow


def copy_flow(kc: RealmAdmin, source: str) -> None:
    kc.admin.copy_authentication_flow({"newName": FLOW_ALIAS}, source)
    if find_login_form_flow(kc.executions()) is None:
        delete_flow(kc)
        raise RealmInstallError(
            f"browser flow '{source}' has no conditional 2FA sub-flow (one holding 'Condition - user "
            "configured' and an OTP or WebAuthn form, next to the username/password form); bind the "
            "built-in 'browser' flow or add such a sub-flow, then run install again"
        )


def add_execution(kc: RealmAdmin) -> None:
    kc.add_execution(kc.subflow().alias, AUTHENTICATOR_ID)


def make_alternatives(kc: RealmAdmin) -> None:
    subflow = kc.subflow()
    for child in subflow.children:
        wanted = child.provider_id == AUTHENTICATOR_ID or (
            child.requirement == "REQUIRED" and not child.is_condition
        )
        if wanted and child.requirement != "ALTERNATIVE":
            kc.put_execution(subflow.alias, child, requirement="ALTERNATIVE")


def order_last(kc: RealmAdmin) -> None:
    subflow = kc.subflow()
    ours = subflow.child(AUTHENTICATOR_ID)
    if ours is None:
        raise RealmInstallError(f"'{AUTHENTICATOR_ID}' vanished from '{subflow.alias}'")
    others = [c.priority for c in subflow.children if c.id != ours.id and not c.is_condition]
    top = max(others, default=0)
    if ours.priority <= top:
        kc.put_execution(subflow.alias, ours, priority=top + 10)


def drop_stale_config(kc: RealmAdmin, config_id: str) -> None:
    config = kc.admin.get_authenticator_config(config_id)
    kept = {k: v for k, v in (config.get("config") or {}).items() if k not in STALE_CONFIG_KEYS}
    if kept:
        kc.admin.update_authenticator_config({**config, "config": kept}, config_id)
    else:  # Keycloak also clears the execution's reference to it
        kc.admin.delete_authenticator_config(config_id)


def add_condition(kc: RealmAdmin) -> None:
    """REQUIRED next to 'Condition - user configured': both must hold for the 2FA sub-flow to run."""
    subflow = kc.subflow()
    if subflow.child(CONDITION_ID) is None:
        kc.add_execution(subflow.alias, CONDITION_ID)
        subflow = kc.subflow()
    ours = subflow.child(CONDITION_ID)
    assert ours is not None
    forms = [c.priority for c in subflow.children if not c.is_condition]
    conditions = [c.priority for c in subflow.children if c.is_condition and c.id != ours.id]
    first_form = min(forms, default=ours.priority + 1)
    last_condition = max(conditions, default=first_form - 10)
    priority = ours.priority
    if priority >= first_form:
        gap = first_form - last_condition
        priority = (last_condition + first_form) // 2 if gap >= 2 else first_form - 1
    kc.put_execution(subflow.alias, ours, requirement="REQUIRED", priority=priority)


def replace_password_form(kc: RealmAdmin) -> None:
    forms = kc.forms()
    builtin = forms.child(BUILTIN_PASSWORD_FORM_ID)
    if forms.child(PASSWORD_FORM_ID) is None:
        kc.add_execution(forms.alias, PASSWORD_FORM_ID)
    if builtin is not None:
        kc.admin.delete_authentication_flow_execution(builtin.id)
    forms = kc.forms()
    ours = forms.child(PASSWORD_FORM_ID)
    if ours is None:
        raise RealmInstallError(f"'{PASSWORD_FORM_ID}' vanished from '{forms.alias}'")
    first_other = min((c.priority for c in forms.children if c.id != ours.id), default=ours.priority + 1)
    priority = builtin.priority if builtin is not None else ours.priority
    if priority >= first_other:
        priority = first_other - 1
    kc.put_execution(forms.alias, ours, requirement="REQUIRED", priority=priority)


def add_remember_device(kc: RealmAdmin) -> None:
    forms = kc.forms()
    if forms.child(REMEMBER_DEVICE_ID) is None:
        kc.add_execution(forms.alias, REMEMBER_DEVICE_ID)
        forms = kc.forms()
    ours = forms.child(REMEMBER_DEVICE_ID)
    assert ours is not None
    last_other = max((c.priority for c in forms.children if c.id != ours.id), default=ours.priority - 1)
    priority = ours.priority if ours.priority > last_other else last_other + 10
    kc.put_execution(forms.alias, ours, requirement="REQUIRED", priority=priority)


# ---- reset-credentials flow


def copy_reset_flow(kc: RealmAdmin, source: str) -> None:
    kc.admin.copy_authentication_flow({"newName": RESET_FLOW_ALIAS}, source)


def add_reset_step(kc: RealmAdmin, mode: str) -> None:
    rows = kc.executions(RESET_FLOW_ALIAS)
    email = top_level(rows, RESET_EMAIL_ID)
    password = top_level(rows, RESET_PASSWORD_ID)
    choose = top_level(rows, CHOOSE_USER_ID)
    if (
        email is None
        or password is None
        or choose is None
        or not (choose.priority < email.priority < password.priority)
    ):
        delete_reset_flow(kc)
        raise RealmInstallError(
            "the copied reset-credentials flow has no 'Choose User', 'Send Reset Email', "
            "'Reset Password' sequence to add the backup-code step to; bind the built-in "
            "'reset credentials' flow, then run install again"
        )
    alias = RESET_STEP_ALIAS[mode]
    shape = RESET_SHAPES[mode]
    if shape.email_at_top_level:
        if password.priority - email.priority < 2:
            raise RealmInstallError(
                f"no room between 'Send Reset Email' ({email.priority}) and 'Reset Password' "
                f"({password.priority}) in '{RESET_FLOW_ALIAS}'"
            )
        priority = (email.priority + password.priority) // 2
    else:
        # The email step moves into the sub-flow, which takes its place.
        kc.admin.delete_authentication_flow_execution(email.id)
        priority = email.priority
    requirement, steps = shape.requirement, shape.children
    kc.admin.create_authentication_flow_subflow(
        {
            "alias": alias,
            "type": "basic-flow",
            "provider": "registration-page-form",
            "description": f"backup codes in the password reset ({mode})",
        },
        RESET_FLOW_ALIAS,
    )
    step = next(r for r in kc.executions(RESET_FLOW_ALIAS) if r.is_flow and r.display_name == alias)
    kc.put_execution(RESET_FLOW_ALIAS, step, requirement=requirement, priority=priority)
    for provider_id, _ in steps:
        kc.add_execution(alias, provider_id)
    children = {e.provider_id: e for e in kc.executions(alias)}
    for index, (provider_id, child_requirement) in enumerate(steps, start=1):
        kc.put_execution(alias, children[provider_id], requirement=child_requirement, priority=index * 10)


def delete_reset_flow(kc: RealmAdmin) -> None:
    realm = kc.admin.get_realm(kc.realm)
    if realm.get("resetCredentialsFlow") == RESET_FLOW_ALIAS:
        # Keycloak refuses to delete a bound flow.
        previous = (realm.get("attributes") or {}).get(ATTR_PREVIOUS_RESET_FLOW) or FALLBACK_RESET_FLOW
        if previous == RESET_FLOW_ALIAS:
            previous = FALLBACK_RESET_FLOW
        kc.update_realm(resetCredentialsFlow=previous)
    kc.delete_flow(RESET_FLOW_ALIAS)


def bind_reset_flow(kc: RealmAdmin, previous: str) -> None:
    attributes = kc.attributes()
    if previous != RESET_FLOW_ALIAS:
        attributes.setdefault(ATTR_PREVIOUS_RESET_FLOW, previous)
    kc.update_realm(resetCredentialsFlow=RESET_FLOW_ALIAS, attributes=attributes)


def restore_reset_flow(kc: RealmAdmin, flow: str) -> None:
    kc.update_realm(resetCredentialsFlow=flow)


# ---- realm


def bind_flow(kc: RealmAdmin, previous: str) -> None:
    attributes = kc.attributes()
    # Keep the first remembered value: a re-run after a partial uninstall must not remember our own flow.
    if previous != FLOW_ALIAS:
        attributes.setdefault(ATTR_PREVIOUS_BROWSER_FLOW, previous)
    kc.update_realm(browserFlow=FLOW_ALIAS, attributes=attributes)


def remember(kc: RealmAdmin, attribute: str, value: str) -> None:
    attributes = kc.attributes()
    attributes.setdefault(attribute, value)
    kc.update_realm(attributes=attributes)


def bind_theme(kc: RealmAdmin, theme: str, previous: str) -> None:
    attributes = kc.attributes()
    attributes.setdefault(ATTR_PREVIOUS_LOGIN_THEME, previous)
    kc.update_realm(loginTheme=theme, attributes=attributes)


def add_event_listener(kc: RealmAdmin) -> None:
    realm = kc.admin.get_realm(kc.realm)
    listeners = [str(name) for name in realm.get("eventsListeners") or []]
    attributes = dict(realm.get("attributes") or {})
    attributes.setdefault(ATTR_PREVIOUS_EVENT_LISTENERS, json.dumps(listeners))
    if EVENT_LISTENER_ID not in listeners:
        listeners.append(EVENT_LISTENER_ID)
    kc.update_realm(eventsListeners=listeners, attributes=attributes)


def remove_event_listener(kc: RealmAdmin) -> None:
    listeners = kc.admin.get_realm(kc.realm).get("eventsListeners") or []
    kc.update_realm(eventsListeners=[name for name in listeners if name != EVENT_LISTENER_ID])


def set_remember_devices(kc: RealmAdmin, days: str) -> None:
    attributes = kc.attributes()
    attributes[ATTR_REMEMBER_DEVICE_DAYS] = days
    kc.update_realm(attributes=attributes)


def enable_languages(kc: RealmAdmin, locales: list[str], default: str) -> None:
    kc.update_realm(internationalizationEnabled=True, supportedLocales=locales, defaultLocale=default)


def enable_brute_force(kc: RealmAdmin) -> None:
    kc.update_realm(bruteForceProtected=True)


def restore_flow(kc: RealmAdmin, flow: str) -> None:
    kc.update_realm(browserFlow=flow)


def restore_theme(kc: RealmAdmin, theme: str) -> None:
    kc.update_realm(loginTheme=theme)


def delete_flow(kc: RealmAdmin) -> None:
    kc.delete_flow(FLOW_ALIAS)


def forget(kc: RealmAdmin) -> None:
    attributes = kc.attributes()
    for name in REMEMBERED_ATTRIBUTES:
        attributes.pop(name, None)
    kc.update_realm(attributes=attributes)


Verb = Callable[..., None]

# Step kind → the function that does it (the planner's kinds, one entry each; no lookup by name).
VERBS: dict[str, Verb] = {
    "register_required_action": register_required_action,
    "enable_required_action": enable_required_action,
    "disable_required_action": disable_required_action,
    "copy_flow": copy_flow,
    "add_execution": add_execution,
    "make_alternatives": make_alternatives,
    "order_last": order_last,
    "drop_stale_config": drop_stale_config,
    "add_condition": add_condition,
    "replace_password_form": replace_password_form,
    "add_remember_device": add_remember_device,
    "copy_reset_flow": copy_reset_flow,
    "add_reset_step": add_reset_step,
    "delete_reset_flow": delete_reset_flow,
    "bind_reset_flow": bind_reset_flow,
    "restore_reset_flow": restore_reset_flow,
    "bind_flow": bind_flow,
    "remember": remember,
    "bind_theme": bind_theme,
    "add_event_listener": add_event_listener,
    "remove_event_listener": remove_event_listener,
    "set_remember_devices": set_remember_devices,
    "enable_brute_force": enable_brute_force,
    "enable_languages": enable_languages,
    "restore_flow": restore_flow,
    "restore_theme": restore_theme,
    "delete_flow": delete_flow,
    "forget": forget,
}


class Installer(RealmAdmin):
    """Reads and changes one realm: its state through :class:`RealmAdmin`, each step through :data:`VERBS`."""

    def apply(self, changes: Iterable[Change], sign: str = "+", echo: Callable[[str], None] = print) -> None:
        for change in changes:
            verb = VERBS.get(change.kind)
            if verb is None:
                raise RealmInstallError(f"no verb for plan step '{change.kind}'")
            echo(f"  {sign} {change.description}")
            verb(self, **change.params)
