"""The installer's pure planning: reading Keycloak's flat execution list and deciding what to change."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import realm as installer


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
    *, ours: str | None = "ALTERNATIVE", otp: str = "ALTERNATIVE", ours_priority: int = 60
) -> list[dict]:
    rows = [
        row(0, "Cookie", "ALTERNATIVE", 10, "auth-cookie"),
        row(0, "c forms", "ALTERNATIVE", 30, flow=True),
        row(1, "Username Password Form", "REQUIRED", 10, "auth-username-password-form"),
        row(1, "c Browser - Conditional 2FA", "CONDITIONAL", 20, flow=True),
        row(2, "Condition - user configured", "REQUIRED", 10, "conditional-user-configured"),
        row(2, "OTP Form", otp, 30, "auth-otp-form"),
        row(2, "WebAuthn Authenticator", "DISABLED", 40, "webauthn-authenticator"),
    ]
    if ours:
        rows.append(row(2, "Backup Code Form", ours, ours_priority, installer.AUTHENTICATOR_ID))
    return rows


def state(executions: list[dict] | None, **realm: Any) -> installer.RealmState:
    return installer.RealmState(
        realm={"realm": "r", "browserFlow": "browser", "loginTheme": "", "attributes": {}, **realm},
        flow_aliases=frozenset({"browser", installer.FLOW_ALIAS} if executions is not None else {"browser"}),
        copy_executions=None if executions is None else tuple(installer.Execution(e) for e in executions),
        required_action={"alias": installer.REQUIRED_ACTION_ID, "enabled": True},
        required_action_available=True,
        authenticator_available=True,
        theme_available=True,
        config=None,
    )


def installed_state() -> installer.RealmState:
    rows = browser_copy()
    rows[-1]["authenticationConfig"] = "cfg"
    return state(
        rows,
        browserFlow=installer.FLOW_ALIAS,
        loginTheme=installer.THEME,
        attributes={installer.ATTR_PREVIOUS_BROWSER_FLOW: "browser", installer.ATTR_PREVIOUS_LOGIN_THEME: ""},
    )


def kinds(changes: list[installer.Change]) -> list[str]:
    return [c.kind for c in changes]


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
        installer.AUTHENTICATOR_ID,
    ]


def test_a_fully_installed_realm_needs_no_change() -> None:
    assert installer.plan_install(installed_state(), installer.InstallOptions()) == []


def test_a_fresh_realm_gets_the_whole_plan_in_order() -> None:
    changes = installer.plan_install(state(None), installer.InstallOptions())

    assert kinds(changes) == [
        "copy_flow",
        "add_execution",
        "make_alternatives",
        "order_last",
        "create_config",
        "bind_flow",
        "bind_theme",
    ]


def test_a_required_otp_form_is_made_alternative() -> None:
    rows = browser_copy(otp="REQUIRED")
    rows[-1]["authenticationConfig"] = "cfg"

    changes = installer.plan_install(
        state(
            rows,
            browserFlow=installer.FLOW_ALIAS,
            loginTheme=installer.THEME,
            attributes={installer.ATTR_PREVIOUS_BROWSER_FLOW: "browser"},
        ),
        installer.InstallOptions(),
    )

    assert kinds(changes) == ["make_alternatives"]


def test_backup_code_placed_before_otp_is_moved_after_it() -> None:
    rows = browser_copy(ours_priority=5)
    rows[-1]["authenticationConfig"] = "cfg"

    changes = installer.plan_install(
        state(
            rows,
            browserFlow=installer.FLOW_ALIAS,
            loginTheme=installer.THEME,
            attributes={installer.ATTR_PREVIOUS_BROWSER_FLOW: "browser"},
        ),
        installer.InstallOptions(),
    )

    assert kinds(changes) == ["order_last"]


def test_a_missing_provider_stops_the_plan_with_a_hint() -> None:
    missing = installer.RealmState(**{**state(None).__dict__, "authenticator_available": False})

    with pytest.raises(installer.RealmInstallError, match="providers/"):
        installer.plan_install(missing, installer.InstallOptions())


def test_theme_is_left_alone_when_not_asked_for() -> None:
    changes = installer.plan_install(state(None), installer.InstallOptions(theme=None))

    assert "bind_theme" not in kinds(changes)


def test_uninstall_restores_the_remembered_flow_when_it_still_exists() -> None:
    installed = installed_state()
    legacy = installer.RealmState(
        **{
            **installed.__dict__,
            "realm": {**installed.realm, "attributes": {installer.ATTR_PREVIOUS_BROWSER_FLOW: "legacy"}},
            "flow_aliases": frozenset({"browser", "legacy", installer.FLOW_ALIAS}),
        }
    )

    restore = installer.plan_uninstall(legacy)[0]

    assert restore.kind == "restore_flow" and restore.params == {"flow": "legacy"}


def test_uninstall_falls_back_to_browser_when_the_remembered_flow_is_gone() -> None:
    installed = installed_state()
    gone = installer.RealmState(
        **{
            **installed.__dict__,
            "realm": {**installed.realm, "attributes": {installer.ATTR_PREVIOUS_BROWSER_FLOW: "x"}},
        }
    )

    assert installer.plan_uninstall(gone)[0].params == {"flow": "browser"}


def test_uninstall_of_a_realm_without_us_changes_nothing() -> None:
    bare = installer.RealmState(**{**state(None).__dict__, "required_action": None})

    assert installer.plan_uninstall(bare) == []
