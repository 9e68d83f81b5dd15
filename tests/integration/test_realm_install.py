"""The realm installer against a real Keycloak with the provider deployed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge import realm as installer

pytestmark = pytest.mark.keycloak


def run_cli(keycloak: Any, *args: str) -> int:
    return installer.main(
        [
            *args[:2],
            "--keycloak-url",
            keycloak.base_url,
            "--admin-user",
            keycloak.admin_username,
            "--admin-password",
            keycloak.admin_password,
            *args[2:],
        ]
    )


def install(keycloak: Any, realm: str, *extra: str) -> int:
    return run_cli(keycloak, "realm", "install", "--realm", realm, *extra)


def second_factor_flow(keycloak: Any, realm: str) -> installer.SubFlow:
    executions = keycloak.admin(realm).get_authentication_flow_executions(installer.FLOW_ALIAS)
    subflow = installer.find_second_factor_flow(installer.Execution(e) for e in executions)
    assert subflow is not None
    return subflow


@pytest.fixture
def fresh_realm(keycloak: Any) -> str:
    return keycloak.create_realm("inst")


def test_install_binds_the_copied_flow_and_the_theme(keycloak: Any, fresh_realm: str) -> None:
    assert install(keycloak, fresh_realm) == 0

    realm = keycloak.admin(fresh_realm).get_realm(fresh_realm)
    assert realm["browserFlow"] == installer.FLOW_ALIAS
    assert realm["loginTheme"] == installer.THEME


def test_install_adds_backup_code_as_alternative_in_the_conditional_2fa_subflow(
    keycloak: Any, fresh_realm: str
) -> None:
    install(keycloak, fresh_realm)

    subflow = second_factor_flow(keycloak, fresh_realm)
    ours = subflow.child(installer.AUTHENTICATOR_ID)
    assert ours is not None and ours.requirement == "ALTERNATIVE"
    assert subflow.execution.requirement == "CONDITIONAL"
    assert subflow.child("conditional-user-configured") is not None


def test_install_orders_backup_code_after_otp(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    subflow = second_factor_flow(keycloak, fresh_realm)
    otp, ours = subflow.child("auth-otp-form"), subflow.child(installer.AUTHENTICATOR_ID)
    assert otp is not None and ours is not None
    assert otp.requirement == "ALTERNATIVE"
    assert otp.priority < ours.priority


def test_install_gives_the_step_no_config(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    ours = second_factor_flow(keycloak, fresh_realm).child(installer.AUTHENTICATOR_ID)
    assert ours is not None and not ours.raw.get("authenticationConfig")


def test_install_removes_the_low_threshold_an_earlier_version_configured(
    keycloak: Any, fresh_realm: str
) -> None:
    install(keycloak, fresh_realm)
    ours = second_factor_flow(keycloak, fresh_realm).child(installer.AUTHENTICATOR_ID)
    assert ours is not None
    keycloak.admin(fresh_realm).create_execution_config(
        ours.id, {"alias": "backup-codes-old", "config": {"low_threshold": "4"}}
    )

    assert install(keycloak, fresh_realm) == 0

    ours = second_factor_flow(keycloak, fresh_realm).child(installer.AUTHENTICATOR_ID)
    assert ours is not None and not ours.raw.get("authenticationConfig")


def test_install_registers_and_enables_the_required_action(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    action = keycloak.admin(fresh_realm).get_required_action_by_alias(installer.REQUIRED_ACTION_ID)
    assert action is not None and action["enabled"] is True


def test_install_leaves_the_built_in_browser_flow_alone(keycloak: Any, fresh_realm: str) -> None:
    admin = keycloak.admin(fresh_realm)
    before = admin.get_authentication_flow_executions("browser")

    install(keycloak, fresh_realm)

    assert admin.get_authentication_flow_executions("browser") == before


def test_install_remembers_the_previous_bindings(keycloak: Any, fresh_realm: str) -> None:
    keycloak.admin(fresh_realm).update_realm(fresh_realm, {"loginTheme": "keycloak.v2"})

    install(keycloak, fresh_realm)

    attributes = keycloak.admin(fresh_realm).get_realm(fresh_realm)["attributes"]
    assert attributes[installer.ATTR_PREVIOUS_BROWSER_FLOW] == "browser"
    assert attributes[installer.ATTR_PREVIOUS_LOGIN_THEME] == "keycloak.v2"


def test_second_install_changes_nothing(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(keycloak, fresh_realm)
    admin = keycloak.admin(fresh_realm)
    realm_before = admin.get_realm(fresh_realm)
    flow_before = admin.get_authentication_flow_executions(installer.FLOW_ALIAS)
    capsys.readouterr()

    assert install(keycloak, fresh_realm) == 0

    assert "nothing to change" in capsys.readouterr().out
    assert admin.get_realm(fresh_realm) == realm_before
    assert admin.get_authentication_flow_executions(installer.FLOW_ALIAS) == flow_before


def test_dry_run_prints_the_plan_and_changes_nothing(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = keycloak.admin(fresh_realm)
    realm_before = admin.get_realm(fresh_realm)
    flows_before = admin.get_authentication_flows()

    assert install(keycloak, fresh_realm, "--dry-run") == 0

    out = capsys.readouterr().out
    assert f"copy browser flow 'browser' to '{installer.FLOW_ALIAS}'" in out
    assert admin.get_realm(fresh_realm) == realm_before
    assert admin.get_authentication_flows() == flows_before
    assert admin.get_required_action_by_alias(installer.REQUIRED_ACTION_ID) is None


def test_uninstall_restores_the_previous_bindings(keycloak: Any, fresh_realm: str) -> None:
    admin = keycloak.admin(fresh_realm)
    admin.update_realm(fresh_realm, {"loginTheme": "keycloak.v2"})
    install(keycloak, fresh_realm)

    assert run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm) == 0

    realm = admin.get_realm(fresh_realm)
    assert realm["browserFlow"] == "browser"
    assert realm["loginTheme"] == "keycloak.v2"
    assert installer.ATTR_PREVIOUS_BROWSER_FLOW not in realm.get("attributes", {})


def test_uninstall_deletes_the_flow_copy_and_disables_the_required_action(
    keycloak: Any, fresh_realm: str
) -> None:
    admin = keycloak.admin(fresh_realm)
    install(keycloak, fresh_realm)

    run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm)

    assert installer.FLOW_ALIAS not in {f["alias"] for f in admin.get_authentication_flows()}
    assert admin.get_required_action_by_alias(installer.REQUIRED_ACTION_ID)["enabled"] is False


def test_uninstall_twice_changes_nothing(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(keycloak, fresh_realm)
    run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm)
    capsys.readouterr()

    assert run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm) == 0

    assert "nothing to change" in capsys.readouterr().out


def test_install_after_uninstall_installs_again(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)
    run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm)

    assert install(keycloak, fresh_realm) == 0

    state = installer.Installer(keycloak.admin(fresh_realm), fresh_realm).read_state()
    assert installer.plan_install(state, installer.InstallOptions()) == []


def test_status_shows_what_is_installed(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(keycloak, fresh_realm)
    capsys.readouterr()

    assert run_cli(keycloak, "realm", "status", "--realm", fresh_realm) == 0

    out = capsys.readouterr().out
    assert f"browser flow: '{installer.FLOW_ALIAS}'" in out
    assert f"'{installer.AUTHENTICATOR_ID}' ALTERNATIVE in" in out
    assert "brute-force detection is off" in out


def test_install_can_enable_brute_force_detection(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm, "--enable-brute-force")

    assert keycloak.admin(fresh_realm).get_realm(fresh_realm)["bruteForceProtected"] is True


def test_install_leaves_brute_force_detection_alone_by_default(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    assert keycloak.admin(fresh_realm).get_realm(fresh_realm)["bruteForceProtected"] is False


def test_install_turns_on_the_41_languages_of_the_theme(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    realm = keycloak.admin(fresh_realm).get_realm(fresh_realm)
    assert realm["internationalizationEnabled"] is True
    assert set(realm["supportedLocales"]) == set(installer.LANGUAGE_TAGS)
    assert realm["defaultLocale"] == "en"


def test_install_into_an_unknown_realm_fails_clearly(
    keycloak: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert install(keycloak, "no-such-realm") == 1

    assert "realm 'no-such-realm' not found" in capsys.readouterr().err


def test_install_converts_a_pre_26_3_required_otp_subflow(keycloak: Any, fresh_realm: str) -> None:
    """Realms created before 26.3 keep 'Conditional OTP' with OTP as REQUIRED; mixing is not allowed."""
    admin = keycloak.admin(fresh_realm)
    admin.copy_authentication_flow({"newName": "legacy"}, "browser")
    subflow = installer.find_second_factor_flow(
        installer.Execution(e) for e in admin.get_authentication_flow_executions("legacy")
    )
    assert subflow is not None
    otp = subflow.child("auth-otp-form")
    assert otp is not None
    admin.update_authentication_flow_executions({**otp.raw, "requirement": "REQUIRED"}, subflow.alias)
    admin.update_realm(fresh_realm, {"browserFlow": "legacy"})

    install(keycloak, fresh_realm)

    copied = second_factor_flow(keycloak, fresh_realm)
    assert copied.child("auth-otp-form").requirement == "ALTERNATIVE"  # type: ignore[union-attr]
    assert copied.child(installer.AUTHENTICATOR_ID).requirement == "ALTERNATIVE"  # type: ignore[union-attr]
    attributes = admin.get_realm(fresh_realm)["attributes"]
    assert attributes[installer.ATTR_PREVIOUS_BROWSER_FLOW] == "legacy"


def test_install_can_create_a_bridge_api_key_for_that_realm_only(
    keycloak: Any,
    fresh_realm: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bridge.settings import Settings
    from bridge.store import api_keys, migrations
    from bridge.store.db import make_engine

    database_url = f"sqlite:///{tmp_path / 'bridge.db'}"
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKUP_CODES_DATA_DIR", str(tmp_path))
    engine = make_engine(Settings.from_env())
    migrations.upgrade(engine)
    capsys.readouterr()

    assert install(keycloak, fresh_realm, "--create-api-key") == 0

    key = api_keys.authenticate(engine, capsys.readouterr().out.strip().splitlines()[-1].strip())
    engine.dispose()
    assert key is not None and key.realms == (fresh_realm,)


def test_install_says_when_the_bridge_does_not_answer(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.keycloak_dist import free_port

    install(keycloak, fresh_realm, "--bridge-url", f"http://127.0.0.1:{free_port()}")

    assert "not reachable" in capsys.readouterr().out


# ------------------------------------------------------------------------------------ recovery (issue 4)


def reset_flow(keycloak: Any, realm: str) -> list[installer.Execution]:
    return [
        installer.Execution(e)
        for e in keycloak.admin(realm).get_authentication_flow_executions(installer.RESET_FLOW_ALIAS)
    ]


def top_level(rows: list[installer.Execution]) -> list[str]:
    return [r.provider_id or r.display_name for r in rows if r.level == 0]


def test_install_binds_a_reset_flow_with_the_code_after_the_email(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    rows = reset_flow(keycloak, fresh_realm)
    assert (
        keycloak.admin(fresh_realm).get_realm(fresh_realm)["resetCredentialsFlow"]
        == installer.RESET_FLOW_ALIAS
    )
    assert top_level(rows)[:4] == [
        installer.CHOOSE_USER_ID,
        installer.RESET_EMAIL_ID,
        installer.RESET_STEP_ALIAS[installer.EMAIL_AND_CODE],
        installer.RESET_PASSWORD_ID,
    ]
    assert installer.reset_mode_of(rows) == installer.EMAIL_AND_CODE


def test_install_with_code_only_reset_offers_the_code_or_the_email(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm, "--reset-mode", "code-only")

    rows = reset_flow(keycloak, fresh_realm)
    step = installer.find_reset_step(rows)
    assert step is not None and step.execution.requirement == "REQUIRED"
    assert [(c.provider_id, c.requirement) for c in step.children] == [
        (installer.AUTHENTICATOR_ID, "ALTERNATIVE"),
        (installer.RESET_EMAIL_ID, "ALTERNATIVE"),
    ]
    assert installer.RESET_EMAIL_ID not in top_level(rows)


def test_switching_the_reset_mode_rebuilds_the_bound_reset_flow(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    assert install(keycloak, fresh_realm, "--reset-mode", "code-only") == 0

    assert installer.reset_mode_of(reset_flow(keycloak, fresh_realm)) == installer.CODE_ONLY
    realm = keycloak.admin(fresh_realm).get_realm(fresh_realm)
    assert realm["resetCredentialsFlow"] == installer.RESET_FLOW_ALIAS
    assert realm["attributes"][installer.ATTR_PREVIOUS_RESET_FLOW] == "reset credentials"


def test_install_puts_lock_recovery_and_device_steps_into_the_browser_flow(
    keycloak: Any, fresh_realm: str
) -> None:
    install(keycloak, fresh_realm)

    executions = keycloak.admin(fresh_realm).get_authentication_flow_executions(installer.FLOW_ALIAS)
    forms = installer.find_login_form_flow(installer.Execution(e) for e in executions)
    assert forms is not None
    assert [(c.provider_id or "2fa", c.requirement) for c in forms.children] == [
        (installer.PASSWORD_FORM_ID, "REQUIRED"),
        ("2fa", "CONDITIONAL"),
        (installer.REMEMBER_DEVICE_ID, "REQUIRED"),
    ]
    condition = second_factor_flow(keycloak, fresh_realm).child(installer.CONDITION_ID)
    assert condition is not None and condition.requirement == "REQUIRED"


def test_install_lists_the_condition_with_the_other_conditions(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    children = second_factor_flow(keycloak, fresh_realm).children
    kinds = ["condition" if c.is_condition else "form" for c in children]
    assert kinds == sorted(kinds)  # every condition before every form
    assert installer.CONDITION_ID in [c.provider_id for c in children]


def test_install_registers_the_devices_required_action(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    action = keycloak.admin(fresh_realm).get_required_action_by_alias(installer.DEVICES_ACTION_ID)
    assert action is not None and action["enabled"] is True and action["defaultAction"] is False


def test_install_adds_the_event_listener_and_keeps_the_others(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    listeners = keycloak.admin(fresh_realm).get_realm(fresh_realm)["eventsListeners"]
    assert sorted(listeners) == sorted(["jboss-logging", installer.EVENT_LISTENER_ID])


def test_install_always_asks_for_the_second_factor_by_default(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm)

    attributes = keycloak.admin(fresh_realm).get_realm(fresh_realm)["attributes"]
    assert attributes[installer.ATTR_REMEMBER_DEVICE_DAYS] == "0"


def test_install_can_remember_devices(keycloak: Any, fresh_realm: str) -> None:
    install(keycloak, fresh_realm, "--remember-devices", "30")

    attributes = keycloak.admin(fresh_realm).get_realm(fresh_realm)["attributes"]
    assert attributes[installer.ATTR_REMEMBER_DEVICE_DAYS] == "30"


def test_a_plain_second_install_keeps_the_recovery_options(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(keycloak, fresh_realm, "--remember-devices", "30", "--reset-mode", "code-only")
    capsys.readouterr()

    assert install(keycloak, fresh_realm) == 0

    assert "nothing to change" in capsys.readouterr().out


def test_remember_devices_out_of_range_is_refused_by_the_cli(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        install(keycloak, fresh_realm, "--remember-devices", "401")

    assert exit_info.value.code == 2
    assert "between 0 and 400" in capsys.readouterr().err


def test_dry_run_prints_the_recovery_options(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        install(keycloak, fresh_realm, "--dry-run", "--remember-devices", "30", "--reset-mode", "code-only")
        == 0
    )

    out = capsys.readouterr().out
    assert f"{installer.ATTR_REMEMBER_DEVICE_DAYS}=30" in out
    assert "reset mode code-only" in out
    assert "options: remember devices 30 days" in out
    assert installer.RESET_FLOW_ALIAS not in {
        f["alias"] for f in keycloak.admin(fresh_realm).get_authentication_flows()
    }


def test_status_shows_the_recovery_settings(
    keycloak: Any, fresh_realm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install(keycloak, fresh_realm, "--remember-devices", "30")
    capsys.readouterr()

    assert run_cli(keycloak, "realm", "status", "--realm", fresh_realm) == 0

    out = capsys.readouterr().out
    assert "remember devices: 30 days" in out
    assert f"reset-credentials flow: '{installer.RESET_FLOW_ALIAS}'" in out
    assert "reset mode email+code" in out
    assert f"event listeners: {installer.EVENT_LISTENER_ID}, jboss-logging" in out


def test_uninstall_restores_the_reset_flow_and_the_event_listeners(keycloak: Any, fresh_realm: str) -> None:
    admin = keycloak.admin(fresh_realm)
    admin.update_realm(fresh_realm, {"eventsListeners": ["jboss-logging", "email"]})
    install(keycloak, fresh_realm, "--remember-devices", "30")

    assert run_cli(keycloak, "realm", "uninstall", "--realm", fresh_realm) == 0

    realm = admin.get_realm(fresh_realm)
    assert realm["resetCredentialsFlow"] == "reset credentials"
    assert sorted(realm["eventsListeners"]) == ["email", "jboss-logging"]
    assert installer.RESET_FLOW_ALIAS not in {f["alias"] for f in admin.get_authentication_flows()}
    assert not any(name.startswith("backupCodes.") for name in realm.get("attributes", {}))
    assert admin.get_required_action_by_alias(installer.DEVICES_ACTION_ID)["enabled"] is False


# ------------------------------------------------------------------------ the realm's bridge time budget


def save_setup_action_config(keycloak: Any, realm: str, config: dict[str, str]) -> Any:
    """Save the "Set up backup codes" required action's config as the admin console does."""
    admin = keycloak.admin(realm)
    return admin.connection.raw_put(
        f"admin/realms/{realm}/authentication/required-actions/{installer.REQUIRED_ACTION_ID}/config",
        data=json.dumps({"config": config}),
    )


@pytest.mark.parametrize("value", ["50", "20000", "3s"])
def test_a_bridge_budget_out_of_range_is_refused_naming_the_field_and_range(
    keycloak: Any, fresh_realm: str, value: str
) -> None:
    assert install(keycloak, fresh_realm) == 0

    response = save_setup_action_config(keycloak, fresh_realm, {"bridge_budget_ms": value})

    assert response.status_code == 400, response.text
    assert "bridge_budget_ms" in response.text
    assert "from 100 to 15000" in response.text
