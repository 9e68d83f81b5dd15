"""The installer's model: provider ids, Keycloak's execution tree, the realm's state, a plan's steps.

:class:`RealmState` is a read-only snapshot of what the installer looks at (current state);
:class:`InstallOptions` is what ``install`` should leave behind (desired state); :class:`Change` is one
step between them. Nothing here talks to Keycloak, so the planner built on it is unit-testable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bridge import contract
from bridge.domain.locales import KEYCLOAK_LOGIN_LOCALES, language_tag

FLOW_ALIAS = "browser-backup-codes"
RESET_FLOW_ALIAS = contract.RESET_FLOW_ALIAS
AUTHENTICATOR_ID = contract.AUTHENTICATOR_ID
CONDITION_ID = contract.CONDITION_ID
REMEMBER_DEVICE_ID = contract.REMEMBER_DEVICE_ID
PASSWORD_FORM_ID = contract.PASSWORD_FORM_ID
BUILTIN_PASSWORD_FORM_ID = "auth-username-password-form"  # noqa: S105 (a provider id)
REQUIRED_ACTION_ID = contract.SETUP_ACTION_ID
REQUIRED_ACTION_NAME = "Set up backup codes"
DEVICES_ACTION_ID = contract.DEVICES_ACTION_ID
DEVICES_ACTION_NAME = "Remembered devices"
EVENT_LISTENER_ID = contract.EVENT_LISTENER_ID
THEME = contract.THEME
# The step has no config of its own: the "few codes left" threshold is the bridge's policy and the
# bridge time budget is realm-wide, in the required action's config (validated by Keycloak).
STALE_CONFIG_KEYS = contract.STALE_AUTHENTICATOR_CONFIG
ATTR_PREVIOUS_BROWSER_FLOW = "backupCodes.previous.browserFlow"
ATTR_PREVIOUS_LOGIN_THEME = "backupCodes.previous.loginTheme"
ATTR_PREVIOUS_RESET_FLOW = "backupCodes.previous.resetCredentialsFlow"
ATTR_PREVIOUS_EVENT_LISTENERS = "backupCodes.previous.eventsListeners"
ATTR_REMEMBER_DEVICE_DAYS = contract.ATTR_REMEMBER_DEVICE_DAYS
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
RESET_EMAIL_ID = contract.RESET_EMAIL_ID
RESET_PASSWORD_ID = "reset-password"  # noqa: S105 (a provider id)

EMAIL_AND_CODE = contract.RESET_EMAIL_AND_CODE
CODE_ONLY = contract.RESET_CODE_ONLY
RESET_MODES = (EMAIL_AND_CODE, CODE_ONLY)
RESET_MODE_TEXT = {
    EMAIL_AND_CODE: "email link, then a backup code for users who have codes",
    CODE_ONLY: "a backup code or the email link (one factor: users who lost their mailbox can reset)",
}
RESET_STEP_ALIAS = contract.RESET_STEP_ALIAS  # the provider's console tab switches between the same two
RESET_SHAPES = contract.RESET_SHAPES  # what install builds in each mode; the console tab reads the same
MAX_REMEMBER_DEVICE_DAYS = contract.REMEMBER_DEVICE_MAX_DAYS  # the bridge's device lifetime has the same cap
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


def top_level(rows: Iterable[Execution], provider_id: str) -> Execution | None:
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
    choose = top_level(rows, CHOOSE_USER_ID)
    password = top_level(rows, RESET_PASSWORD_ID)
    if step is None or choose is None or password is None:
        return None
    if not choose.priority < step.execution.priority < password.priority:
        return None
    email_top = top_level(rows, RESET_EMAIL_ID)
    return next(
        (mode for mode, shape in RESET_SHAPES.items() if _has_shape(step, email_top, shape)),
        None,
    )


def _has_shape(step: SubFlow, email_top: Execution | None, shape: contract.ResetShape) -> bool:
    """Whether our sub-flow (and the email step) are in ``shape``.

    The other children must be the shape's in its order; ours must come before each child the shape
    puts after it (a condition may sit anywhere: Keycloak evaluates conditions first).
    """
    ours = step.child(AUTHENTICATOR_ID)
    assert ours is not None
    if step.execution.requirement != shape.requirement:
        return False
    if shape.email_at_top_level:
        if email_top is None or not email_top.priority < step.execution.priority:
            return False
    elif email_top is not None:
        return False
    expected = list(shape.children)
    at = next(i for i, (provider_id, _) in enumerate(expected) if provider_id == AUTHENTICATOR_ID)
    others = [c for c in step.children if c.id != ours.id]
    return (
        ours.requirement == expected[at][1]
        and [(c.provider_id, c.requirement) for c in others] == expected[:at] + expected[at + 1 :]
        and all(ours.priority < c.priority for c in others[at:])
    )


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
    step_configs: tuple[dict[str, Any], ...] = ()  # our steps' authenticator configs (browser, reset)

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
    """One step of a plan: a verb of ``bridge.realm.apply.VERBS`` (by ``kind``) plus what it needs."""

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
