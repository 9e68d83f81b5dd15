"""The names and limits the bridge shares with the Keycloak provider and the login theme.

They live once, in ``contract.json`` next to this module: the provider's JAR packs the same file
(``plugin/pom.xml``) and reads it in ``io.github.backupcodes.keycloak.contract.Contract``. Before,
each side kept its own copy and nothing noticed when one changed. Read at import, so a missing or
broken file stops the bridge at start-up instead of at the first login.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, NamedTuple

PATH: Final = Path(__file__).with_name("contract.json")
_DATA: Final[dict[str, Any]] = json.loads(PATH.read_text(encoding="utf-8"))
_PROVIDERS: Final[dict[str, str]] = _DATA["providers"]

AUTHENTICATOR_ID: Final[str] = _PROVIDERS["authenticator"]
CONDITION_ID: Final[str] = _PROVIDERS["condition"]
REMEMBER_DEVICE_ID: Final[str] = _PROVIDERS["rememberDevice"]
PASSWORD_FORM_ID: Final[str] = _PROVIDERS["passwordForm"]
SETUP_ACTION_ID: Final[str] = _PROVIDERS["setupAction"]
DEVICES_ACTION_ID: Final[str] = _PROVIDERS["devicesAction"]
CREDENTIAL_TYPE: Final[str] = _PROVIDERS["credentialType"]
EVENT_LISTENER_ID: Final[str] = _PROVIDERS["eventListener"]
THEME: Final[str] = _PROVIDERS["theme"]
ADMIN_TAB_ID: Final[str] = _PROVIDERS["adminTab"]  # the console shows it as the Realm settings tab's title

RESET_FLOW_ALIAS: Final[str] = _DATA["resetFlow"]["alias"]
RESET_EMAIL_AND_CODE: Final[str] = _DATA["resetFlow"]["emailAndCode"]
RESET_CODE_ONLY: Final[str] = _DATA["resetFlow"]["codeOnly"]
RESET_STEP_ALIAS: Final[dict[str, str]] = {
    RESET_EMAIL_AND_CODE: _DATA["resetFlow"]["emailAndCodeStep"],
    RESET_CODE_ONLY: _DATA["resetFlow"]["codeOnlyStep"],
}
RESET_EMAIL_ID: Final[str] = _DATA["resetFlow"]["emailStep"]  # Keycloak's 'Send Reset Email'


class ResetShape(NamedTuple):
    """One mode's shape of the backup-code step in the reset flow copy.

    Data, not code, so realm install (which builds it), its ``reset_mode_of`` and the provider's
    console tab (which recognise it and switch between the two) cannot each keep their own idea of it.
    """

    requirement: str  # of the backup-code sub-flow at the top level
    email_at_top_level: bool  # True: RESET_EMAIL_ID stays before the sub-flow; False: it moves into it
    children: tuple[tuple[str, str], ...]  # the sub-flow's children in order: (provider id, requirement)


def _reset_shape(raw: dict[str, Any]) -> ResetShape:
    return ResetShape(
        str(raw["requirement"]),
        bool(raw["emailAtTopLevel"]),
        tuple((str(provider), str(requirement)) for provider, requirement in raw["children"]),
    )


RESET_SHAPES: Final[dict[str, ResetShape]] = {
    RESET_EMAIL_AND_CODE: _reset_shape(_DATA["resetFlow"]["shapes"]["emailAndCode"]),
    RESET_CODE_ONLY: _reset_shape(_DATA["resetFlow"]["shapes"]["codeOnly"]),
}

ATTR_REMEMBER_DEVICE_DAYS: Final[str] = _DATA["realmAttributes"]["rememberDeviceDays"]
STALE_AUTHENTICATOR_CONFIG: Final[tuple[str, ...]] = tuple(_DATA["staleAuthenticatorConfig"])
FORM_FIELDS: Final[dict[str, str]] = dict(_DATA["formFields"])
TEMPLATES: Final[dict[str, str]] = dict(_DATA["templates"])
DEVICE_COOKIE: Final[str] = _DATA["deviceCookie"]

CODE_INPUT_MAX_LENGTH: Final[int] = _DATA["limits"]["codeInputMaxLength"]
REMEMBER_DEVICE_MAX_DAYS: Final[int] = _DATA["limits"]["rememberDeviceMaxDays"]
# [min, max] of each numeric policy field (the console tab checks them before it calls PUT .../policy).
POLICY_LIMITS: Final[dict[str, tuple[int, int]]] = {
    name: (int(bounds[0]), int(bounds[1]))
    for name, bounds in _DATA["policyLimits"].items()
    if name != "$comment"
}
POLICY_RESET_MODES: Final[tuple[str, ...]] = tuple(_DATA["policyResetModes"])
