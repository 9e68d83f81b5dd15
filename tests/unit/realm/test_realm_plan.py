"""The installer's pure planning: reading Keycloak's flat execution list and deciding what to change."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bridge import realm as installer
from bridge.realm import model


def row(
    level: int, name: str, requirement: str, priority: int, provider: str = "", flow: bool = False
) -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "level": level,
        "displayName": name,
        "requirement": requirement,
        "priority": priority,
        "providerId": provider,
        "authenticationFlow": flow,
    }


def browser_copy(
    *,
    ours: str | None = "ALTERNATIVE",
    otp: str = "ALTERNATIVE",
    ours_priority: int = 60,
    condition_priority: int | None = 15,
    form: str = installer.PASSWORD_FORM_ID,
    remember_priority: int | None = 30,
) -> list[dict]:
    rows = [
        row(0, "Cookie", "ALTERNATIVE", 10, "auth-cookie"),
        row(0, "c forms", "ALTERNATIVE", 30, flow=True),
        row(1, "Username Password Form", "REQUIRED", 10, form),
        row(1, "c Browser - Conditional 2FA", "CONDITIONAL", 20, flow=True),
        row(2, "Condition - user configured", "REQUIRED", 10, "conditional-user-configured"),
        row(2, "OTP Form", otp, 30, "auth-otp-form"),
        row(2, "WebAuthn Authenticator", "DISABLED", 40, "webauthn-authenticator"),
    ]
    if condition_priority is not None:
        rows.append(row(2, "Second factor needed", "REQUIRED", condition_priority, installer.CONDITION_ID))
    if ours:
        rows.append(row(2, "Backup Code Form", ours, ours_priority, installer.AUTHENTICATOR_ID))
    if remember_priority is not None:
        rows.append(
            row(1, "Remember this device", "REQUIRED", remember_priority, installer.REMEMBER_DEVICE_ID)
        )
    return rows


def reset_copy(mode: str | None = installer.EMAIL_AND_CODE) -> list[dict]:
    """The reset-credentials copy as the installer leaves it (or the plain copy when ``mode`` is None)."""
    step_alias = installer.RESET_STEP_ALIAS.get(mode or "", "")
    rows = [row(0, "Choose User", "REQUIRED", 10, installer.CHOOSE_USER_ID)]
    if mode != installer.CODE_ONLY:
        rows.append(row(0, "Send Reset Email", "REQUIRED", 20, installer.RESET_EMAIL_ID))
    if mode == installer.EMAIL_AND_CODE:
        rows += [
            row(0, step_alias, "CONDITIONAL", 25, flow=True),
            row(1, "Condition - user configured", "REQUIRED", 10, "conditional-user-configured"),
            row(1, "Backup Code Form", "REQUIRED", 20, installer.AUTHENTICATOR_ID),
        ]
    if mode == installer.CODE_ONLY:
        rows += [
            row(0, step_alias, "REQUIRED", 20, flow=True),
            row(1, "Backup Code Form", "ALTERNATIVE", 10, installer.AUTHENTICATOR_ID),
            row(1, "Send Reset Email", "ALTERNATIVE", 20, installer.RESET_EMAIL_ID),
        ]
    rows += [
        row(0, "Reset Password", "REQUIRED", 30, installer.RESET_PASSWORD_ID),
        row(0, "r Reset - Conditional OTP", "CONDITIONAL", 40, flow=True),
        row(1, "Condition - user configured", "REQUIRED", 10, "conditional-user-configured"),
        row(1, "Reset OTP", "REQUIRED", 20, "reset-otp"),
    ]
    return rows


def executions(rows: list[dict] | None) -> tuple[installer.Execution, ...] | None:
    return None if rows is None else tuple(installer.Execution(r) for r in rows)


def state(browser: list[dict] | None, reset: list[dict] | None = None, **realm: Any) -> installer.RealmState:
    aliases = {"browser", "reset credentials"}
    if browser is not None:
        aliases.add(installer.FLOW_ALIAS)
    if reset is not None:
        aliases.add(installer.RESET_FLOW_ALIAS)
    enabled = {a: {"alias": a, "providerId": a, "enabled": True} for a in installer.REQUIRED_ACTIONS}
    return installer.RealmState(
        realm={
            "realm": "r",
            "browserFlow": "browser",
            "resetCredentialsFlow": "reset credentials",
            "loginTheme": "",
            "eventsListeners": ["jboss-logging"],
            "attributes": {},
            **realm,
        },
        flow_aliases=frozenset(aliases),
        copy_executions=executions(browser),
        reset_executions=executions(reset),
        required_actions=enabled,
        required_actions_available=frozenset(installer.REQUIRED_ACTIONS),
        authenticators=frozenset(installer.AUTHENTICATORS),
        event_listeners=frozenset({installer.EVENT_LISTENER_ID}),
        theme_available=True,
    )


INSTALLED_ATTRIBUTES = {
    installer.ATTR_PREVIOUS_BROWSER_FLOW: "browser",
    installer.ATTR_PREVIOUS_LOGIN_THEME: "",
    installer.ATTR_PREVIOUS_RESET_FLOW: "reset credentials",
    installer.ATTR_PREVIOUS_EVENT_LISTENERS: '["jboss-logging"]',
    installer.ATTR_REMEMBER_DEVICE_DAYS: "0",
}


def installed_state(
    browser: list[dict] | None = None, reset: list[dict] | None = None, **realm: Any
) -> installer.RealmState:
    settings = {
        "browserFlow": installer.FLOW_ALIAS,
        "resetCredentialsFlow": installer.RESET_FLOW_ALIAS,
        "loginTheme": installer.THEME,
        "eventsListeners": ["jboss-logging", installer.EVENT_LISTENER_ID],
        "attributes": dict(INSTALLED_ATTRIBUTES),
        "internationalizationEnabled": True,
        "supportedLocales": list(installer.LANGUAGE_TAGS),
        "defaultLocale": "en",
        **realm,
    }
    return state(browser or browser_copy(), reset or reset_copy(), **settings)


def with_attributes(current: installer.RealmState, **changes: str) -> installer.RealmState:
    attributes = {**current.attributes, **changes}
    return replace(current, realm={**current.realm, "attributes": attributes})


def fresh_plan(**options: Any) -> list[installer.Change]:
    bare = replace(state(None), required_actions={})
    return installer.plan_install(bare, installer.InstallOptions(**options))


def kinds(changes: list[installer.Change]) -> list[str]:
    return [c.kind for c in changes]


# ------------------------------------------------------------------------------------- reading flows


def test_second_factor_flow_is_found_by_its_contents_not_its_name() -> None:
    rows = browser_copy()
    rows[3]["displayName"] = "renamed by an admin"

    subflow = installer.find_second_factor_flow(installer.Execution(r) for r in rows)

    assert subflow is not None and subflow.alias == "renamed by an admin"


def test_second_factor_flow_holds_only_its_direct_children() -> None:
    subflow = installer.find_second_factor_flow(installer.Execution(r) for r in browser_copy())

    assert subflow is not None
    assert [c.provider_id for c in subflow.children] == [
        "conditional-user-configured",
        "auth-otp-form",
        "webauthn-authenticator",
        installer.CONDITION_ID,
        installer.AUTHENTICATOR_ID,
    ]


def test_login_form_flow_is_the_sub_flow_holding_the_2fa_sub_flow() -> None:
    forms = installer.find_login_form_flow(installer.Execution(r) for r in browser_copy())

    assert forms is not None and forms.alias == "c forms"
    assert [c.provider_id for c in forms.children] == [
        installer.PASSWORD_FORM_ID,
        "",
        installer.REMEMBER_DEVICE_ID,
    ]


def test_our_condition_counts_as_a_condition_not_a_second_factor() -> None:
    assert installer.Execution(row(2, "c", "REQUIRED", 15, installer.CONDITION_ID)).is_condition


@pytest.mark.parametrize("mode", installer.RESET_MODES)
def test_reset_mode_is_read_back_from_the_flow_shape(mode: str) -> None:
    assert installer.reset_mode_of(executions(reset_copy(mode)) or ()) == mode


@pytest.mark.parametrize("mode", installer.RESET_MODES)
def test_the_reset_copy_these_tests_install_is_the_contracts_shape(mode: str) -> None:
    rows = executions(reset_copy(mode)) or ()
    step = installer.find_reset_step(rows)
    shape = installer.RESET_SHAPES[mode]

    assert step is not None and step.execution.requirement == shape.requirement
    assert [(c.provider_id, c.requirement) for c in step.children] == list(shape.children)
    assert (model.top_level(rows, installer.RESET_EMAIL_ID) is not None) == shape.email_at_top_level


@pytest.mark.parametrize("mode", installer.RESET_MODES)
def test_reset_mode_is_read_back_only_from_the_contracts_shapes(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model, "RESET_SHAPES", {})

    assert installer.reset_mode_of(executions(reset_copy(mode)) or ()) is None


def test_a_plain_reset_copy_has_no_mode() -> None:
    assert installer.reset_mode_of(executions(reset_copy(None)) or ()) is None


def test_a_reset_step_disabled_by_an_admin_has_no_mode() -> None:
    rows = reset_copy()
    next(r for r in rows if r["providerId"] == installer.AUTHENTICATOR_ID)["requirement"] = "DISABLED"

    assert installer.reset_mode_of(executions(rows) or ()) is None


def test_a_reset_step_before_the_email_is_not_email_and_code() -> None:
    rows = reset_copy()
    next(r for r in rows if r["displayName"] == installer.RESET_STEP_ALIAS[installer.EMAIL_AND_CODE])[
        "priority"
    ] = 15

    assert installer.reset_mode_of(executions(rows) or ()) is None


# ------------------------------------------------------------------------------------------- install


def test_a_fully_installed_realm_needs_no_change() -> None:
    assert installer.plan_install(installed_state(), installer.InstallOptions()) == []


def test_a_fresh_realm_gets_the_whole_plan_in_order() -> None:
    assert kinds(fresh_plan()) == [
        "register_required_action",
        "register_required_action",
        "copy_flow",
        "add_execution",
        "make_alternatives",
        "order_last",
        "add_condition",
        "replace_password_form",
        "add_remember_device",
        "copy_reset_flow",
        "add_reset_step",
        "bind_reset_flow",
        "bind_flow",
        "bind_theme",
        "add_event_listener",
        "set_remember_devices",
        "enable_languages",
    ]


def test_a_fresh_realm_registers_both_required_actions() -> None:
    registered = [c.params for c in fresh_plan() if c.kind == "register_required_action"]

    assert [p["provider_id"] for p in registered] == [
        installer.REQUIRED_ACTION_ID,
        installer.DEVICES_ACTION_ID,
    ]


def test_a_fresh_realm_resets_passwords_with_email_and_code_by_default() -> None:
    step = next(c for c in fresh_plan() if c.kind == "add_reset_step")

    assert step.params["mode"] == installer.EMAIL_AND_CODE


def test_a_fresh_realm_always_asks_for_the_second_factor_by_default() -> None:
    setting = next(c for c in fresh_plan() if c.kind == "set_remember_devices")

    assert setting.params == {"days": "0"}
    assert "always ask" in setting.description


def test_remember_devices_sets_the_realm_attribute() -> None:
    setting = next(c for c in fresh_plan(remember_device_days=30) if c.kind == "set_remember_devices")

    assert setting.params == {"days": "30"}
    assert "30 days" in setting.description


def test_code_only_reset_mode_is_planned_and_described() -> None:
    step = next(c for c in fresh_plan(reset_mode=installer.CODE_ONLY) if c.kind == "add_reset_step")

    assert step.params["mode"] == installer.CODE_ONLY
    assert "code-only" in step.description


def test_the_reset_flow_copy_starts_from_the_realms_current_reset_flow() -> None:
    custom = replace(state(None), realm={**state(None).realm, "resetCredentialsFlow": "my reset"})

    changes = installer.plan_install(custom, installer.InstallOptions())

    copy = next(c for c in changes if c.kind == "copy_reset_flow")
    bind = next(c for c in changes if c.kind == "bind_reset_flow")
    assert copy.params == {"source": "my reset"} and bind.params == {"previous": "my reset"}


def test_switching_the_reset_mode_rebuilds_the_reset_flow() -> None:
    changes = installer.plan_install(
        installed_state(), installer.InstallOptions(reset_mode=installer.CODE_ONLY)
    )

    assert kinds(changes) == ["delete_reset_flow", "copy_reset_flow", "add_reset_step", "bind_reset_flow"]
    assert changes[1].params == {"source": "reset credentials"}


def test_without_a_reset_mode_the_realms_mode_is_kept() -> None:
    code_only = installed_state(reset=reset_copy(installer.CODE_ONLY))

    assert installer.plan_install(code_only, installer.InstallOptions()) == []


def test_without_remember_devices_the_realms_setting_is_kept() -> None:
    remembering = with_attributes(installed_state(), **{installer.ATTR_REMEMBER_DEVICE_DAYS: "30"})

    assert installer.plan_install(remembering, installer.InstallOptions()) == []


def test_changing_remember_devices_changes_only_the_attribute() -> None:
    changes = installer.plan_install(installed_state(), installer.InstallOptions(remember_device_days=7))

    assert kinds(changes) == ["set_remember_devices"]


def test_an_edited_reset_flow_is_rebuilt() -> None:
    rows = reset_copy()
    next(r for r in rows if r["providerId"] == installer.AUTHENTICATOR_ID)["requirement"] = "DISABLED"

    changes = installer.plan_install(installed_state(reset=rows), installer.InstallOptions())

    assert kinds(changes) == ["delete_reset_flow", "copy_reset_flow", "add_reset_step", "bind_reset_flow"]


@pytest.mark.parametrize("days", [-1, installer.MAX_REMEMBER_DEVICE_DAYS + 1])
def test_remember_devices_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(installer.RealmInstallError, match="remember devices"):
        installer.InstallOptions(remember_device_days=days)


def test_an_unknown_reset_mode_is_refused() -> None:
    with pytest.raises(installer.RealmInstallError, match="reset mode"):
        installer.InstallOptions(reset_mode="sms")


def stale_config(**config: str) -> dict[str, Any]:
    """Our step's authenticator config as an earlier version of the installer left it."""
    return {"id": "cfg", "alias": "backup-codes-cfg", "config": config}


def test_a_low_threshold_left_in_the_step_config_is_removed() -> None:
    realm = replace(installed_state(), step_configs=(stale_config(low_threshold="3"),))

    changes = installer.plan_install(realm, installer.InstallOptions())

    assert [(c.kind, c.params) for c in changes] == [("drop_stale_config", {"config_id": "cfg"})]
    assert "low_threshold" in changes[0].description


def test_a_step_config_without_stale_keys_is_left_alone() -> None:
    realm = replace(installed_state(), step_configs=(stale_config(someone_elses="1"),))

    assert installer.plan_install(realm, installer.InstallOptions()) == []


def test_a_required_otp_form_is_made_alternative() -> None:
    changes = installer.plan_install(
        installed_state(browser_copy(otp="REQUIRED")), installer.InstallOptions()
    )

    assert kinds(changes) == ["make_alternatives"]


def test_backup_code_placed_before_otp_is_moved_after_it() -> None:
    changes = installer.plan_install(
        installed_state(browser_copy(ours_priority=25)), installer.InstallOptions()
    )

    assert kinds(changes) == ["order_last"]


def test_the_built_in_password_form_is_replaced() -> None:
    rows = browser_copy(form=installer.BUILTIN_PASSWORD_FORM_ID)

    changes = installer.plan_install(installed_state(rows), installer.InstallOptions())

    assert kinds(changes) == ["replace_password_form"]


def test_a_missing_condition_is_added() -> None:
    changes = installer.plan_install(
        installed_state(browser_copy(condition_priority=None)), installer.InstallOptions()
    )

    assert kinds(changes) == ["add_condition"]


def test_a_condition_listed_after_the_forms_is_moved_to_the_conditions() -> None:
    changes = installer.plan_install(
        installed_state(browser_copy(condition_priority=70)), installer.InstallOptions()
    )

    assert kinds(changes) == ["add_condition"]


def test_remember_device_placed_before_the_2fa_sub_flow_is_moved_after_it() -> None:
    changes = installer.plan_install(
        installed_state(browser_copy(remember_priority=15)), installer.InstallOptions()
    )

    assert kinds(changes) == ["add_remember_device"]


def test_a_fresh_realm_gets_internationalization_with_the_41_languages_of_the_theme() -> None:
    [step] = [c for c in fresh_plan() if c.kind == "enable_languages"]

    assert len(step.params["locales"]) == 41
    assert {"en", "ja", "ar", "pt-BR", "zh-CN", "zh-TW"} <= set(step.params["locales"])
    assert step.params["default"] == "en"


def test_enabling_languages_keeps_the_realms_own_locales_and_default() -> None:
    realm = installed_state(
        internationalizationEnabled=False, supportedLocales=["de", "gsw"], defaultLocale="de"
    )

    [step] = installer.plan_install(realm, installer.InstallOptions())

    assert step.kind == "enable_languages"
    assert "gsw" in step.params["locales"] and len(step.params["locales"]) == 42
    assert step.params["default"] == "de"


def test_a_realm_missing_one_of_the_languages_gets_it_added() -> None:
    realm = installed_state(supportedLocales=[t for t in installer.LANGUAGE_TAGS if t != "ka"])

    [step] = installer.plan_install(realm, installer.InstallOptions())

    assert "ka" in step.params["locales"] and "adds 1" in step.description


def test_the_event_listener_is_added_next_to_the_existing_ones() -> None:
    without = installed_state(eventsListeners=["jboss-logging", "email"])

    changes = installer.plan_install(without, installer.InstallOptions())

    assert kinds(changes) == ["add_event_listener"]
    assert "jboss-logging, email" in changes[0].description


@pytest.mark.parametrize(
    ("field", "missing"),
    [
        ("authenticators", installer.CONDITION_ID),
        ("authenticators", installer.REMEMBER_DEVICE_ID),
        ("authenticators", installer.PASSWORD_FORM_ID),
        ("required_actions_available", installer.DEVICES_ACTION_ID),
        ("event_listeners", installer.EVENT_LISTENER_ID),
    ],
)
def test_a_missing_provider_stops_the_plan_with_a_hint(field: str, missing: str) -> None:
    fresh = state(None)
    lacking = replace(fresh, **{field: getattr(fresh, field) - {missing}})

    with pytest.raises(installer.RealmInstallError, match=f"'{missing}' is not deployed.*providers/"):
        installer.plan_install(lacking, installer.InstallOptions())


def test_theme_is_left_alone_when_not_asked_for() -> None:
    changes = installer.plan_install(state(None), installer.InstallOptions(theme=None))

    assert "bind_theme" not in kinds(changes)


# ----------------------------------------------------------------------------------------- uninstall


def test_uninstall_undoes_everything_in_order() -> None:
    assert kinds(installer.plan_uninstall(installed_state())) == [
        "restore_flow",
        "restore_reset_flow",
        "restore_theme",
        "remove_event_listener",
        "delete_flow",
        "delete_reset_flow",
        "disable_required_action",
        "disable_required_action",
        "forget",
    ]


def test_uninstall_restores_the_remembered_flow_when_it_still_exists() -> None:
    installed = installed_state()
    legacy = replace(
        with_attributes(installed, **{installer.ATTR_PREVIOUS_BROWSER_FLOW: "legacy"}),
        flow_aliases=installed.flow_aliases | {"legacy"},
    )

    restore = installer.plan_uninstall(legacy)[0]

    assert restore.kind == "restore_flow" and restore.params == {"flow": "legacy"}


def test_uninstall_falls_back_to_browser_when_the_remembered_flow_is_gone() -> None:
    gone = with_attributes(installed_state(), **{installer.ATTR_PREVIOUS_BROWSER_FLOW: "x"})

    assert installer.plan_uninstall(gone)[0].params == {"flow": "browser"}


def test_uninstall_restores_the_remembered_reset_flow() -> None:
    installed = installed_state()
    custom = replace(
        with_attributes(installed, **{installer.ATTR_PREVIOUS_RESET_FLOW: "my reset"}),
        flow_aliases=installed.flow_aliases | {"my reset"},
    )

    restore = next(c for c in installer.plan_uninstall(custom) if c.kind == "restore_reset_flow")

    assert restore.params == {"flow": "my reset"}


def test_uninstall_keeps_our_event_listener_when_it_was_there_before_install() -> None:
    before = with_attributes(
        installed_state(),
        **{
            installer.ATTR_PREVIOUS_EVENT_LISTENERS: json.dumps(
                ["jboss-logging", installer.EVENT_LISTENER_ID]
            )
        },
    )

    assert "remove_event_listener" not in kinds(installer.plan_uninstall(before))


def test_uninstall_of_a_realm_without_us_changes_nothing() -> None:
    bare = replace(state(None), required_actions={})

    assert installer.plan_uninstall(bare) == []


# -------------------------------------------------------------------------------------------- status


def test_status_shows_the_recovery_settings() -> None:
    remembering = with_attributes(installed_state(), **{installer.ATTR_REMEMBER_DEVICE_DAYS: "30"})

    lines = "\n".join(installer.describe(remembering))

    assert "remember devices: 30 days" in lines
    assert f"reset mode {installer.EMAIL_AND_CODE}" in lines
    assert f"reset-credentials flow: '{installer.RESET_FLOW_ALIAS}'" in lines
    assert f"event listeners: {installer.EVENT_LISTENER_ID}, jboss-logging" in lines


def test_status_flags_a_realm_that_always_asks() -> None:
    lines = installer.describe(installed_state())

    assert "  remember devices: off (always ask for the second factor)" in lines


def test_status_flags_a_missing_event_listener() -> None:
    lines = installer.describe(installed_state(eventsListeners=["jboss-logging"]))

    assert any(line.startswith("! event listeners: jboss-logging") for line in lines)


# ------------------------------------------------------------------------------------------ applying


def every_kind_planned() -> set[str]:
    """The step kinds of plans that, together, take every branch of the planner."""
    disabled = {a: {"alias": a, "providerId": a, "enabled": False} for a in installer.REQUIRED_ACTIONS}
    plans = [
        fresh_plan(enable_brute_force=True),
        installer.plan_install(
            replace(installed_state(), required_actions=disabled), installer.InstallOptions()
        ),
        installer.plan_install(
            installed_state(attributes={}), installer.InstallOptions(reset_mode=installer.CODE_ONLY)
        ),
        installer.plan_uninstall(installed_state()),
        installer.plan_install(
            replace(installed_state(), step_configs=(stale_config(low_threshold="3"),)),
            installer.InstallOptions(),
        ),
    ]
    return {change.kind for plan in plans for change in plan}


def test_every_step_the_planner_plans_has_exactly_one_registered_verb() -> None:
    from bridge.realm.apply import VERBS

    assert every_kind_planned() == set(VERBS)


def test_a_step_without_a_verb_is_refused_before_anything_is_done() -> None:
    from bridge.realm.apply import Installer

    echoed: list[str] = []
    with pytest.raises(installer.RealmInstallError, match="no verb"):
        Installer(admin=None, realm="r").apply(
            [installer.Change("drop_realm", "drop it")], echo=echoed.append
        )
    assert echoed == []
