"""Realm installer: wire the backup-code steps into a Keycloak realm, show what is wired, take it out again.

Built-in flows cannot be edited, so ``install`` works on copies:

* the realm's browser flow is copied to ``browser-backup-codes``: the ``backup-code`` step becomes an
  ALTERNATIVE to OTP/WebAuthn inside the conditional 2FA sub-flow (placed after them, so a user with OTP
  still sees OTP first), ``backup-code-condition`` joins that sub-flow's conditions (a remembered device
  or a lock recovery that already took a code skips the second factor), the username/password form is
  replaced by ``backup-code-username-password`` (lock recovery) and ``backup-code-remember-device``
  closes the sub-flow holding the form;
* the reset-credentials flow is copied to ``reset credentials with backup codes`` with a backup-code
  step: after the email link for users who have codes (``email+code``, the default), or as an
  alternative to the email (``code-only``, for realms that accept one factor for a reset);
* the ``backup-code-setup`` and ``backup-code-devices`` required actions are registered, the
  ``backup-codes`` event listener added and the realm attribute ``backupCodes.rememberDeviceDays`` set.

The bindings it replaces are kept as realm attributes so ``uninstall`` can put them back.

Planning is pure (:func:`plan_install`, :func:`plan_uninstall` read a :class:`RealmState` snapshot and
return :class:`Change` values); applying looks ids up afresh for every change, so a plan computed for a
realm that has no flow copy yet still applies cleanly. Running ``install`` twice changes nothing.

Keycloak pitfalls handled here: an execution PUT must carry the priority Keycloak sent (a missing one
arrives as 0 and reorders the flow), so we always PUT back the dict we got with the fields we mean to
change; new executions land last, so every step is moved to its place explicitly; a flow still bound
to the realm cannot be deleted, so it is unbound first; and python-keycloak puts aliases into URLs
unquoted, so our own aliases contain no ``/``, ``?`` or ``#``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bridge.locales import KEYCLOAK_LOGIN_LOCALES, language_tag

FLOW_ALIAS = "browser-backup-codes"
RESET_FLOW_ALIAS = "reset credentials with backup codes"
AUTHENTICATOR_ID = "backup-code"
CONDITION_ID = "backup-code-condition"
REMEMBER_DEVICE_ID = "backup-code-remember-device"
PASSWORD_FORM_ID = "backup-code-username-password"  # noqa: S105 (a provider id)
BUILTIN_PASSWORD_FORM_ID = "auth-username-password-form"  # noqa: S105 (a provider id)
REQUIRED_ACTION_ID = "backup-code-setup"
REQUIRED_ACTION_NAME = "Set up backup codes"
DEVICES_ACTION_ID = "backup-code-devices"
DEVICES_ACTION_NAME = "Remembered devices"
EVENT_LISTENER_ID = "backup-codes"
THEME = "backup-codes"
CONFIG_ALIAS = "backup-codes"
# The bridge time budget is realm-wide, in the required action's config (validated by Keycloak), not here.
DEFAULT_CONFIG = {"low_threshold": "3"}
ATTR_PREVIOUS_BROWSER_FLOW = "backupCodes.previous.browserFlow"
ATTR_PREVIOUS_LOGIN_THEME = "backupCodes.previous.loginTheme"
ATTR_PREVIOUS_RESET_FLOW = "backupCodes.previous.resetCredentialsFlow"
ATTR_PREVIOUS_EVENT_LISTENERS = "backupCodes.previous.eventsListeners"
ATTR_REMEMBER_DEVICE_DAYS = "backupCodes.rememberDeviceDays"
REMEMBERED_ATTRIBUTES = (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    ATTR_PREVIOUS_EVENT_LISTENERS,
    ATTR_REMEMBER_DEVICE_DAYS,
)
FALLBACK_BROWSER_FLOW = "browser"
FALLBACK_RESET_FLOW = "reset credentials"
SECOND_FACTOR_PROVIDERS = ("auth-otp-form", "webauthn-authenticator", "auth-conditional-otp-form")
USER_CONFIGURED_ID = "conditional-user-configured"
CHOOSE_USER_ID = "reset-credentials-choose-user"
RESET_EMAIL_ID = "reset-credential-email"
RESET_PASSWORD_ID = "reset-password"  # noqa: S105 (a provider id)

EMAIL_AND_CODE = "email+code"
CODE_ONLY = "code-only"
RESET_MODES = (EMAIL_AND_CODE, CODE_ONLY)
RESET_MODE_TEXT = {
    EMAIL_AND_CODE: "email link, then a backup code for users who have codes",
    CODE_ONLY: "a backup code or the email link (one factor: users who lost their mailbox can reset)",
}
RESET_STEP_ALIAS = {
    EMAIL_AND_CODE: f"{RESET_FLOW_ALIAS} - backup code",
    CODE_ONLY: f"{RESET_FLOW_ALIAS} - email or backup code",
}
MAX_REMEMBER_DEVICE_DAYS = 400  # the bridge's device lifetime is capped at 400 days too
AUTHENTICATORS = (AUTHENTICATOR_ID, CONDITION_ID, REMEMBER_DEVICE_ID, PASSWORD_FORM_ID)
REQUIRED_ACTIONS = {REQUIRED_ACTION_ID: REQUIRED_ACTION_NAME, DEVICES_ACTION_ID: DEVICES_ACTION_NAME}
# The realm's supportedLocales install adds: our theme's 41 languages, as Keycloak spells them (pt-BR, zh-CN).
LANGUAGE_TAGS = tuple(language_tag(locale) for locale in KEYCLOAK_LOGIN_LOCALES)


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
        return str(self.raw.get("providerId") or "")

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
        return self.provider_id.startswith("conditional-") or self.provider_id == CONDITION_ID


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
        if sf.execution.requirement == "CONDITIONAL" and sf.child(USER_CONFIGURED_ID) is not None
    ]
    with_otp = [sf for sf in candidates if any(sf.child(p) for p in SECOND_FACTOR_PROVIDERS)]
    if with_otp:
        return with_otp[0]
    with_us = [sf for sf in candidates if sf.child(AUTHENTICATOR_ID)]
    return with_us[0] if with_us else None


def find_login_form_flow(executions: Iterable[Execution]) -> SubFlow | None:
    """The sub-flow holding the username/password form: the one the conditional 2FA sub-flow sits in."""
    rows = list(executions)
    second = find_second_factor_flow(rows)
    if second is None:
        return None
    return next((sf for sf in sub_flows(rows) if any(c.id == second.execution.id for c in sf.children)), None)


def _top_level(rows: Iterable[Execution], provider_id: str) -> Execution | None:
    return next((r for r in rows if r.level == 0 and r.provider_id == provider_id), None)


def find_reset_step(executions: Iterable[Execution]) -> SubFlow | None:
    """Our top-level sub-flow in the reset-credentials copy (the one holding the backup-code step)."""
    return next(
        (sf for sf in sub_flows(executions) if sf.execution.level == 0 and sf.child(AUTHENTICATOR_ID)), None
    )


def reset_mode_of(executions: Iterable[Execution]) -> str | None:
    """Which reset mode the flow copy implements; None when its shape is neither (missing, edited)."""
    rows = list(executions)
    step = find_reset_step(rows)
    choose = _top_level(rows, CHOOSE_USER_ID)
    password = _top_level(rows, RESET_PASSWORD_ID)
    if step is None or choose is None or password is None:
        return None
    ours = step.child(AUTHENTICATOR_ID)
    assert ours is not None
    at = step.execution.priority
    if not (choose.priority < at < password.priority) or not ours.raw.get("authenticationConfig"):
        return None
    others = [c for c in step.children if c.id != ours.id]
    email_top = _top_level(rows, RESET_EMAIL_ID)
    if (
        step.execution.requirement == "CONDITIONAL"
        and email_top is not None
        and email_top.priority < at
        and ours.requirement == "REQUIRED"
        and [(c.provider_id, c.requirement) for c in others] == [(USER_CONFIGURED_ID, "REQUIRED")]
    ):
        return EMAIL_AND_CODE
    email = step.child(RESET_EMAIL_ID)
    if (
        step.execution.requirement == "REQUIRED"
        and email_top is None
        and email is not None
        and len(others) == 1
        and ours.requirement == email.requirement == "ALTERNATIVE"
        and ours.priority < email.priority
    ):
        return CODE_ONLY
    return None


@dataclass(frozen=True)
class RealmState:
    """A read-only snapshot of everything the installer looks at."""

    realm: dict[str, Any]
    flow_aliases: frozenset[str]
    copy_executions: tuple[Execution, ...] | None  # None: our browser flow copy does not exist
    reset_executions: tuple[Execution, ...] | None  # None: our reset-credentials copy does not exist
    required_actions: dict[str, dict[str, Any]]  # registered ones, by provider id
    required_actions_available: frozenset[str]  # deployed (registered or registrable) provider ids
    authenticators: frozenset[str]  # deployed authenticator ids
    event_listeners: frozenset[str]  # deployed event listener ids
    theme_available: bool
    config: dict[str, Any] | None  # our browser step's authenticator config

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.realm.get("attributes") or {})

    @property
    def browser_flow(self) -> str:
        return str(self.realm.get("browserFlow") or FALLBACK_BROWSER_FLOW)

    @property
    def reset_flow(self) -> str:
        return str(self.realm.get("resetCredentialsFlow") or FALLBACK_RESET_FLOW)

    @property
    def login_theme(self) -> str:
        return str(self.realm.get("loginTheme") or "")

    @property
    def realm_event_listeners(self) -> list[str]:
        return [str(name) for name in self.realm.get("eventsListeners") or []]

    @property
    def required_action(self) -> dict[str, Any] | None:
        return self.required_actions.get(REQUIRED_ACTION_ID)

    @property
    def second_factor_flow(self) -> SubFlow | None:
        return None if self.copy_executions is None else find_second_factor_flow(self.copy_executions)

    @property
    def login_form_flow(self) -> SubFlow | None:
        return None if self.copy_executions is None else find_login_form_flow(self.copy_executions)

    @property
    def reset_mode(self) -> str | None:
        return None if self.reset_executions is None else reset_mode_of(self.reset_executions)

    @property
    def remember_device_days(self) -> int | None:
        """The realm attribute as a number; None when it is missing or not a number in range."""
        raw = self.attributes.get(ATTR_REMEMBER_DEVICE_DAYS)
        try:
            days = int(str(raw))
        except ValueError:
            return None
        return days if 0 <= days <= MAX_REMEMBER_DEVICE_DAYS else None


# ------------------------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One step of a plan: a verb understood by :meth:`Installer.apply` plus what it needs."""

    kind: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstallOptions:
    """What ``install`` should leave behind. ``None`` for the two recovery options keeps the realm's
    current setting (the default when there is none yet), so re-running a plain ``install`` after an
    upgrade never quietly switches a realm back to the defaults."""

    theme: str | None = THEME  # None: leave the login theme alone
    enable_brute_force: bool = False
    config: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONFIG))
    remember_device_days: int | None = None  # 0: always ask for the second factor
    reset_mode: str | None = None  # email+code | code-only

    def __post_init__(self) -> None:
        days = self.remember_device_days
        if days is not None and not 0 <= days <= MAX_REMEMBER_DEVICE_DAYS:
            raise RealmInstallError(
                f"remember devices: {days} is not between 0 and {MAX_REMEMBER_DEVICE_DAYS} days"
            )
        if self.reset_mode is not None and self.reset_mode not in RESET_MODES:
            raise RealmInstallError(f"reset mode '{self.reset_mode}' is not one of {', '.join(RESET_MODES)}")

    def resolved(self, state: RealmState) -> InstallOptions:
        """These options with the recovery settings filled in from the realm (or the defaults)."""
        days = self.remember_device_days
        if days is None:
            days = state.remember_device_days or 0
        mode = self.reset_mode or state.reset_mode or EMAIL_AND_CODE
        return replace(self, remember_device_days=days, reset_mode=mode)


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
    config_change = Change(
        "create_config", f"configure the step ({_format_config(options.config)})", {"config": options.config}
    )
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
            config_change,
            condition,
            password_form,
            remember,
        ]
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
    if ours is None or not ours.raw.get("authenticationConfig"):
        changes.append(config_change)
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
    remembered = attributes.get(ATTR_PREVIOUS_RESET_FLOW, "")
    if state.reset_flow != RESET_FLOW_ALIAS:
        previous = state.reset_flow
    elif remembered in state.flow_aliases and remembered != RESET_FLOW_ALIAS:
        previous = remembered
    else:
        previous = FALLBACK_RESET_FLOW
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
                {"mode": mode, "config": options.config},
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
                f"set {ATTR_REMEMBER_DEVICE_DAYS}={days} ({_describe_days(int(days))})",
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


def _describe_days(days: int) -> str:
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
            copy = tuple(self._executions(FLOW_ALIAS))
            subflow = find_second_factor_flow(copy)
            ours = subflow.child(AUTHENTICATOR_ID) if subflow else None
            if ours is not None and ours.raw.get("authenticationConfig"):
                config = self.admin.get_authenticator_config(ours.raw["authenticationConfig"])
        reset = tuple(self._executions(RESET_FLOW_ALIAS)) if RESET_FLOW_ALIAS in aliases else None
        registered = {
            str(a.get("providerId") or a.get("alias")): a for a in self.admin.get_required_actions()
        }
        unregistered = {
            str(a.get("providerId")) for a in self._get("authentication/unregistered-required-actions")
        }
        server = self._server_info()
        return RealmState(
            realm=realm,
            flow_aliases=aliases,
            copy_executions=copy,
            reset_executions=reset,
            required_actions={k: v for k, v in registered.items() if k in REQUIRED_ACTIONS},
            required_actions_available=frozenset(
                a for a in REQUIRED_ACTIONS if a in registered or a in unregistered
            ),
            authenticators=frozenset(a for a in AUTHENTICATORS if a in server["authenticators"]),
            event_listeners=frozenset(server["event_listeners"] & {EVENT_LISTENER_ID}),
            theme_available=THEME in server["login_themes"],
            config=config,
        )

    def _server_info(self) -> dict[str, set[str]]:
        info = self.admin.connection.raw_get("admin/serverinfo")
        info.raise_for_status()
        body = info.json()
        providers = body.get("providers", {})
        themes = body.get("themes", {}).get("login", [])
        return {
            "authenticators": set(providers.get("authenticator", {}).get("providers", {})),
            "event_listeners": set(providers.get("eventsListener", {}).get("providers", {})),
            "login_themes": {t.get("name") for t in themes},
        }

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

    def _executions(self, flow_alias: str = FLOW_ALIAS) -> list[Execution]:
        return [Execution(e) for e in self.admin.get_authentication_flow_executions(flow_alias)]

    def _subflow(self) -> SubFlow:
        subflow = find_second_factor_flow(self._executions())
        if subflow is None:
            raise RealmInstallError(f"flow '{FLOW_ALIAS}' has no conditional 2FA sub-flow")
        return subflow

    def _forms(self) -> SubFlow:
        forms = find_login_form_flow(self._executions())
        if forms is None:
            raise RealmInstallError(
                f"flow '{FLOW_ALIAS}' has no sub-flow holding both the username/password form and the "
                "conditional 2FA sub-flow"
            )
        return forms

    def _put_execution(self, flow_alias: str, execution: Execution, **changed: Any) -> None:
        # Round-trip the dict Keycloak sent, priority included, with only the named fields changed.
        if all(execution.raw.get(k) == v for k, v in changed.items()):
            return
        self.admin.update_authentication_flow_executions({**execution.raw, **changed}, flow_alias)

    def _add_execution(self, flow_alias: str, provider_id: str) -> None:
        self.admin.create_authentication_flow_execution({"provider": provider_id}, flow_alias)

    def _create_config(self, execution: Execution, config: dict[str, str]) -> None:
        self.admin.create_execution_config(
            execution.id, {"alias": f"{CONFIG_ALIAS}-{execution.id[:8]}", "config": config}
        )

    def _do_register_required_action(self, provider_id: str, name: str) -> None:
        response = self.admin.connection.raw_post(
            self._path("authentication/register-required-action"),
            data=json.dumps({"providerId": provider_id, "name": name}),
        )
        _raise_for(response, "register-required-action")
        self._do_enable_required_action(provider_id)

    def _do_enable_required_action(self, provider_id: str) -> None:
        action = self.admin.get_required_action_by_alias(provider_id)
        self.admin.update_required_action(provider_id, {**action, "enabled": True})

    def _do_disable_required_action(self, provider_id: str) -> None:
        action = self.admin.get_required_action_by_alias(provider_id)
        self.admin.update_required_action(provider_id, {**action, "enabled": False, "defaultAction": False})

    # browser flow

    def _do_copy_flow(self, source: str) -> None:
        self.admin.copy_authentication_flow({"newName": FLOW_ALIAS}, source)
        if find_login_form_flow(self._executions()) is None:
            self._do_delete_flow()
            raise RealmInstallError(
                f"browser flow '{source}' has no conditional 2FA sub-flow (one holding 'Condition - user "
                "configured' and an OTP or WebAuthn form, next to the username/password form); bind the "
                "built-in 'browser' flow or add such a sub-flow, then run install again"
            )

    def _do_add_execution(self) -> None:
        self._add_execution(self._subflow().alias, AUTHENTICATOR_ID)

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
        self._create_config(ours, config)

    def _do_add_condition(self) -> None:
        """REQUIRED next to 'Condition - user configured': both must hold for the 2FA sub-flow to run."""
        subflow = self._subflow()
        if subflow.child(CONDITION_ID) is None:
            self._add_execution(subflow.alias, CONDITION_ID)
            subflow = self._subflow()
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
        self._put_execution(subflow.alias, ours, requirement="REQUIRED", priority=priority)

    def _do_replace_password_form(self) -> None:
        forms = self._forms()
        builtin = forms.child(BUILTIN_PASSWORD_FORM_ID)
        if forms.child(PASSWORD_FORM_ID) is None:
            self._add_execution(forms.alias, PASSWORD_FORM_ID)
        if builtin is not None:
            self.admin.delete_authentication_flow_execution(builtin.id)
        forms = self._forms()
        ours = forms.child(PASSWORD_FORM_ID)
        if ours is None:
            raise RealmInstallError(f"'{PASSWORD_FORM_ID}' vanished from '{forms.alias}'")
        first_other = min((c.priority for c in forms.children if c.id != ours.id), default=ours.priority + 1)
        priority = builtin.priority if builtin is not None else ours.priority
        if priority >= first_other:
            priority = first_other - 1
        self._put_execution(forms.alias, ours, requirement="REQUIRED", priority=priority)

    def _do_add_remember_device(self) -> None:
        forms = self._forms()
        if forms.child(REMEMBER_DEVICE_ID) is None:
            self._add_execution(forms.alias, REMEMBER_DEVICE_ID)
            forms = self._forms()
        ours = forms.child(REMEMBER_DEVICE_ID)
        assert ours is not None
        last_other = max((c.priority for c in forms.children if c.id != ours.id), default=ours.priority - 1)
        priority = ours.priority if ours.priority > last_other else last_other + 10
        self._put_execution(forms.alias, ours, requirement="REQUIRED", priority=priority)

    # reset-credentials flow

    def _do_copy_reset_flow(self, source: str) -> None:
        self.admin.copy_authentication_flow({"newName": RESET_FLOW_ALIAS}, source)

    def _do_add_reset_step(self, mode: str, config: dict[str, str]) -> None:
        rows = self._executions(RESET_FLOW_ALIAS)
        email = _top_level(rows, RESET_EMAIL_ID)
        password = _top_level(rows, RESET_PASSWORD_ID)
        choose = _top_level(rows, CHOOSE_USER_ID)
        if (
            email is None
            or password is None
            or choose is None
            or not (choose.priority < email.priority < password.priority)
        ):
            self._do_delete_reset_flow()
            raise RealmInstallError(
                "the copied reset-credentials flow has no 'Choose User', 'Send Reset Email', "
                "'Reset Password' sequence to add the backup-code step to; bind the built-in "
                "'reset credentials' flow, then run install again"
            )
        alias = RESET_STEP_ALIAS[mode]
        if mode == EMAIL_AND_CODE:
            if password.priority - email.priority < 2:
                raise RealmInstallError(
                    f"no room between 'Send Reset Email' ({email.priority}) and 'Reset Password' "
                    f"({password.priority}) in '{RESET_FLOW_ALIAS}'"
                )
            requirement, priority = "CONDITIONAL", (email.priority + password.priority) // 2
            steps = ((USER_CONFIGURED_ID, "REQUIRED"), (AUTHENTICATOR_ID, "REQUIRED"))
        else:
            # The email step moves into the sub-flow, as the second way through it.
            self.admin.delete_authentication_flow_execution(email.id)
            requirement, priority = "REQUIRED", email.priority
            steps = ((AUTHENTICATOR_ID, "ALTERNATIVE"), (RESET_EMAIL_ID, "ALTERNATIVE"))
        self.admin.create_authentication_flow_subflow(
            {
                "alias": alias,
                "type": "basic-flow",
                "provider": "registration-page-form",
                "description": f"backup codes in the password reset ({mode})",
            },
            RESET_FLOW_ALIAS,
        )
        step = next(r for r in self._executions(RESET_FLOW_ALIAS) if r.is_flow and r.display_name == alias)
        self._put_execution(RESET_FLOW_ALIAS, step, requirement=requirement, priority=priority)
        for provider_id, _ in steps:
            self._add_execution(alias, provider_id)
        children = {e.provider_id: e for e in self._executions(alias)}
        for index, (provider_id, child_requirement) in enumerate(steps, start=1):
            self._put_execution(
                alias, children[provider_id], requirement=child_requirement, priority=index * 10
            )
        self._create_config(children[AUTHENTICATOR_ID], config)

    def _do_delete_reset_flow(self) -> None:
        realm = self.admin.get_realm(self.realm)
        if realm.get("resetCredentialsFlow") == RESET_FLOW_ALIAS:
            # Keycloak refuses to delete a bound flow.
            previous = (realm.get("attributes") or {}).get(ATTR_PREVIOUS_RESET_FLOW) or FALLBACK_RESET_FLOW
            if previous == RESET_FLOW_ALIAS:
                previous = FALLBACK_RESET_FLOW
            self._update_realm(resetCredentialsFlow=previous)
        self._delete_flow(RESET_FLOW_ALIAS)

    def _do_bind_reset_flow(self, previous: str) -> None:
        attributes = self._attributes()
        if previous != RESET_FLOW_ALIAS:
            attributes.setdefault(ATTR_PREVIOUS_RESET_FLOW, previous)
        self._update_realm(resetCredentialsFlow=RESET_FLOW_ALIAS, attributes=attributes)

    def _do_restore_reset_flow(self, flow: str) -> None:
        self._update_realm(resetCredentialsFlow=flow)

    # realm

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

    def _do_add_event_listener(self) -> None:
        realm = self.admin.get_realm(self.realm)
        listeners = [str(name) for name in realm.get("eventsListeners") or []]
        attributes = dict(realm.get("attributes") or {})
        attributes.setdefault(ATTR_PREVIOUS_EVENT_LISTENERS, json.dumps(listeners))
        if EVENT_LISTENER_ID not in listeners:
            listeners.append(EVENT_LISTENER_ID)
        self._update_realm(eventsListeners=listeners, attributes=attributes)

    def _do_remove_event_listener(self) -> None:
        listeners = self.admin.get_realm(self.realm).get("eventsListeners") or []
        self._update_realm(eventsListeners=[name for name in listeners if name != EVENT_LISTENER_ID])

    def _do_set_remember_devices(self, days: str) -> None:
        attributes = self._attributes()
        attributes[ATTR_REMEMBER_DEVICE_DAYS] = days
        self._update_realm(attributes=attributes)

    def _do_enable_languages(self, locales: list[str], default: str) -> None:
        self._update_realm(internationalizationEnabled=True, supportedLocales=locales, defaultLocale=default)

    def _do_enable_brute_force(self) -> None:
        self._update_realm(bruteForceProtected=True)

    def _do_restore_flow(self, flow: str) -> None:
        self._update_realm(browserFlow=flow)

    def _do_restore_theme(self, theme: str) -> None:
        self._update_realm(loginTheme=theme)

    def _delete_flow(self, alias: str) -> None:
        flow = next(f for f in self.admin.get_authentication_flows() if f["alias"] == alias)
        self.admin.delete_authentication_flow(flow["id"])

    def _do_delete_flow(self) -> None:
        self._delete_flow(FLOW_ALIAS)

    def _do_forget(self) -> None:
        attributes = self._attributes()
        for name in REMEMBERED_ATTRIBUTES:
            attributes.pop(name, None)
        self._update_realm(attributes=attributes)


def _raise_for(response: Any, what: str) -> None:
    if response.status_code >= 400:
        raise RealmInstallError(f"Keycloak refused {what}: HTTP {response.status_code} {response.text[:300]}")


# -------------------------------------------------------------------------------------------- status


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
    if state.config is not None:
        lines.append(f"  step config: {_format_config(state.config.get('config', {}))}")
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
    install.add_argument("--low-threshold", type=int, default=int(DEFAULT_CONFIG["low_threshold"]))
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
        "password); default: keep the realm's mode",
    )
    install.set_defaults(func=_cli_install)

    uninstall = commands.add_parser("uninstall", help="restore the previous bindings and remove our flows")
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
            remember_device_days=args.remember_devices,
            reset_mode=args.reset_mode,
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
        f"  options: remember devices {days} day{'s' if days != 1 else ''} ({_describe_days(days)}); "
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
            created = auth.create_key(conn, name=f"keycloak-{realm}", actor="realm-installer", realms=[realm])
    except auth.ApiKeyError as exc:  # a realm name the bridge's API cannot address
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


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
