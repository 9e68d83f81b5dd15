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

The admin console's "Backup codes" tab switches an installed reset-credentials copy between the two modes
in place (the provider's ``admin/ResetFlowSwitch.java``) into the very shapes :func:`reset_mode_of` reads,
so a plain ``install`` afterwards keeps the tab's choice; change one shape and the other together.

The package, one concern per module, imports only downward (``cli`` → ``apply``/``describe`` → ``plan``
→ ``model``):

* ``model``: provider ids and names, Keycloak's execution tree (:class:`Execution`, :class:`SubFlow`),
  the current state (:class:`RealmState`), the desired state (:class:`InstallOptions`), a step
  (:class:`Change`);
* ``plan``: the pure planner (:func:`plan_install`, :func:`plan_uninstall`), unit-testable without Keycloak,
  ordering the steps of ``plan_flows`` (the flow copies, their bindings) and ``plan_settings`` (required
  actions, event listener, device days, brute force, languages, stale step config);
* ``keycloak``: reading a realm's state and the small admin-API operations (python-keycloak);
* ``apply``: the verbs, one per step kind in ``VERBS``, and :class:`Installer` that applies a plan;
* ``describe``: the ``status`` lines; ``cli``: ``realm install|uninstall|status``.

This module re-exports the names callers use (tests, the e2e set-up, benchmarks).
"""

from __future__ import annotations

from bridge.realm.apply import (
    VERBS,
    Installer,
)
from bridge.realm.cli import (
    add_cli,
    main,
)
from bridge.realm.describe import (
    describe,
)
from bridge.realm.keycloak import (
    connect,
)
from bridge.realm.model import (
    ATTR_PREVIOUS_BROWSER_FLOW,
    ATTR_PREVIOUS_EVENT_LISTENERS,
    ATTR_PREVIOUS_LOGIN_THEME,
    ATTR_PREVIOUS_RESET_FLOW,
    ATTR_REMEMBER_DEVICE_DAYS,
    AUTHENTICATOR_ID,
    AUTHENTICATORS,
    BUILTIN_PASSWORD_FORM_ID,
    CHOOSE_USER_ID,
    CODE_ONLY,
    CONDITION_ID,
    DEVICES_ACTION_ID,
    EMAIL_AND_CODE,
    EVENT_LISTENER_ID,
    FLOW_ALIAS,
    LANGUAGE_TAGS,
    MAX_REMEMBER_DEVICE_DAYS,
    PASSWORD_FORM_ID,
    REMEMBER_DEVICE_ID,
    REQUIRED_ACTION_ID,
    REQUIRED_ACTIONS,
    RESET_EMAIL_ID,
    RESET_FLOW_ALIAS,
    RESET_MODES,
    RESET_PASSWORD_ID,
    RESET_SHAPES,
    RESET_STEP_ALIAS,
    STALE_CONFIG_KEYS,
    THEME,
    Change,
    Execution,
    InstallOptions,
    RealmInstallError,
    RealmState,
    SubFlow,
    find_login_form_flow,
    find_reset_step,
    find_second_factor_flow,
    reset_mode_of,
    sub_flows,
)
from bridge.realm.plan import (
    check_providers,
    is_installed,
    plan_install,
    plan_uninstall,
)

__all__ = [
    "ATTR_PREVIOUS_BROWSER_FLOW",
    "ATTR_PREVIOUS_EVENT_LISTENERS",
    "ATTR_PREVIOUS_LOGIN_THEME",
    "ATTR_PREVIOUS_RESET_FLOW",
    "ATTR_REMEMBER_DEVICE_DAYS",
    "AUTHENTICATORS",
    "AUTHENTICATOR_ID",
    "BUILTIN_PASSWORD_FORM_ID",
    "CHOOSE_USER_ID",
    "CODE_ONLY",
    "CONDITION_ID",
    "DEVICES_ACTION_ID",
    "EMAIL_AND_CODE",
    "EVENT_LISTENER_ID",
    "FLOW_ALIAS",
    "LANGUAGE_TAGS",
    "MAX_REMEMBER_DEVICE_DAYS",
    "PASSWORD_FORM_ID",
    "REMEMBER_DEVICE_ID",
    "REQUIRED_ACTIONS",
    "REQUIRED_ACTION_ID",
    "RESET_EMAIL_ID",
    "RESET_FLOW_ALIAS",
    "RESET_MODES",
    "RESET_PASSWORD_ID",
    "RESET_SHAPES",
    "RESET_STEP_ALIAS",
    "STALE_CONFIG_KEYS",
    "THEME",
    "VERBS",
    "Change",
    "Execution",
    "InstallOptions",
    "Installer",
    "RealmInstallError",
    "RealmState",
    "SubFlow",
    "add_cli",
    "check_providers",
    "connect",
    "describe",
    "find_login_form_flow",
    "find_reset_step",
    "find_second_factor_flow",
    "is_installed",
    "main",
    "plan_install",
    "plan_uninstall",
    "reset_mode_of",
    "sub_flows",
]
