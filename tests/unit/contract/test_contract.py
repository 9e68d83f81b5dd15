"""One contract for the bridge, the provider and the theme: bridge/contract.json.

The provider's side is checked by ContractTest (JUnit); here, every Python, spec and theme copy of a
shared name or limit must equal the contract, so changing one place alone fails a test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridge import contract
from bridge import realm as installer
from bridge.domain import codes
from bridge.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[3]
THEME = ROOT / "keycloak-theme" / "login"
SPEC = json.loads((ROOT / "bridge" / "http" / "openapi.json").read_text(encoding="utf-8"))


def theme_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(THEME.glob("*.ftl")))


def test_the_installer_wires_the_contracts_provider_ids() -> None:
    assert set(installer.AUTHENTICATORS) == {
        contract.AUTHENTICATOR_ID,
        contract.CONDITION_ID,
        contract.REMEMBER_DEVICE_ID,
        contract.PASSWORD_FORM_ID,
    }
    assert set(installer.REQUIRED_ACTIONS) == {contract.SETUP_ACTION_ID, contract.DEVICES_ACTION_ID}
    assert (installer.EVENT_LISTENER_ID, installer.THEME) == (contract.EVENT_LISTENER_ID, contract.THEME)


def test_the_contract_shapes_each_reset_mode_it_names() -> None:
    modes = {contract.RESET_EMAIL_AND_CODE, contract.RESET_CODE_ONLY}
    assert set(contract.RESET_SHAPES) == set(contract.RESET_STEP_ALIAS) == modes
    assert set(installer.RESET_MODES) == modes


@pytest.mark.parametrize("mode", sorted(contract.RESET_SHAPES))
def test_each_reset_shape_holds_the_backup_code_step_and_the_email_link_once(mode: str) -> None:
    shape = contract.RESET_SHAPES[mode]
    providers = [provider_id for provider_id, _ in shape.children]

    assert providers.count(contract.AUTHENTICATOR_ID) == 1
    assert providers.count(contract.RESET_EMAIL_ID) == (0 if shape.email_at_top_level else 1)
    assert installer.RESET_EMAIL_ID == contract.RESET_EMAIL_ID


@pytest.mark.parametrize("mode", sorted(contract.RESET_SHAPES))
def test_each_reset_shape_uses_only_keycloaks_requirements(mode: str) -> None:
    shape = contract.RESET_SHAPES[mode]
    used = {shape.requirement, *(requirement for _, requirement in shape.children)}

    assert used <= {"REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"}


def test_the_installer_caps_remembered_devices_at_the_contracts_days() -> None:
    installer.InstallOptions(remember_device_days=contract.REMEMBER_DEVICE_MAX_DAYS)
    with pytest.raises(installer.RealmInstallError):
        installer.InstallOptions(remember_device_days=contract.REMEMBER_DEVICE_MAX_DAYS + 1)


def test_the_bridge_caps_device_lifetime_at_the_contracts_days() -> None:
    Settings(device_ttl_days=contract.REMEMBER_DEVICE_MAX_DAYS).validate()
    with pytest.raises(SettingsError):
        Settings(device_ttl_days=contract.REMEMBER_DEVICE_MAX_DAYS + 1).validate()


def test_the_normaliser_refuses_input_over_the_contracts_cap() -> None:
    with pytest.raises(codes.MalformedCode):
        codes.normalise("0" * (contract.CODE_INPUT_MAX_LENGTH + 1))


def test_openapi_caps_the_verified_code_at_the_contracts_length() -> None:
    code = SPEC["components"]["schemas"]["VerifyRequest"]["properties"]["code"]
    assert code["maxLength"] == contract.CODE_INPUT_MAX_LENGTH


def test_the_theme_caps_the_code_field_at_the_contracts_length() -> None:
    login = (THEME / contract.TEMPLATES["login"]).read_text(encoding="utf-8")
    field = re.search(rf'<input[^>]*name="{contract.FORM_FIELDS["code"]}"[^>]*>', login, re.S)
    assert field is not None
    assert f'maxlength="{contract.CODE_INPUT_MAX_LENGTH}"' in field.group(0)


@pytest.mark.parametrize("field", sorted(contract.FORM_FIELDS.values()))
def test_the_theme_posts_every_form_field_of_the_contract(field: str) -> None:
    assert f'name="{field}"' in theme_text()


@pytest.mark.parametrize("template", sorted(contract.TEMPLATES.values()))
def test_the_theme_has_every_template_of_the_contract(template: str) -> None:
    assert (THEME / template).is_file()


def test_the_end_to_end_pages_read_the_contracts_cookie_name() -> None:
    from tests.e2e import pages

    assert pages.DEVICE_COOKIE == contract.DEVICE_COOKIE


def test_openapi_bounds_each_policy_field_by_the_contracts_limits() -> None:
    fields = SPEC["components"]["schemas"]["PolicyUpdate"]["properties"]
    assert {name: (f["minimum"], f["maximum"]) for name, f in fields.items() if f["type"] == "integer"} == (
        contract.POLICY_LIMITS
    )
    assert tuple(fields["reset_mode"]["enum"]) == contract.POLICY_RESET_MODES


def test_the_bridge_policy_has_exactly_the_contracts_fields() -> None:
    from dataclasses import fields

    from bridge.domain.policy import RESET_MODES, Policy

    assert [f.name for f in fields(Policy)] == [*contract.POLICY_LIMITS, "reset_mode"]
    assert RESET_MODES == contract.POLICY_RESET_MODES


def test_the_bridge_refuses_each_policy_field_just_outside_the_contracts_limits() -> None:
    from bridge.domain.policy import Policy, PolicyError

    for name, (low, high) in contract.POLICY_LIMITS.items():
        base = Policy(code_count=50, lockout_seconds=1, lockout_max_seconds=31_536_000)
        for value in (low - 1, high + 1):
            if name == "lockout_seconds" and value > low:
                continue  # the bridge bounds it by lockout_max_seconds, which the contract caps already
            if name == "lockout_max_seconds" and value > low:
                continue  # only the schema caps it; the bridge's own rule is the floor
            with pytest.raises(PolicyError, match=name):
                Policy.from_dict({name: value}, base)
