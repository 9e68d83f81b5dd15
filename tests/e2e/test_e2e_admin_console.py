"""The realm's policy in Keycloak's own admin console: Realm settings -> "Backup codes", in the real browser.

A realm admin (not the master admin) signs in to the console of their realm. The tab shows the bridge's
policy and saving writes through to the bridge, in the admin's name; a refused value names the field and
its range and the bridge keeps what it had. The password-reset mode switches the realm's reset-credentials
flow. The bridge is checked through its own HTTP API, the flow through Keycloak's admin API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bridge import contract
from bridge import realm as installer
from tests.e2e import pages
from tests.e2e.conftest import APP_ORIGIN, PASSWORD, Stack, backup_codes_cli, build_stack, enrol, wait_until

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]

TAB_PROVIDER = "org.keycloak.services.ui.extend.UiTabProvider"


class ResetFlowShown:
    """What the tab shows for a reset flow realm install did not make (the provider's ResetFlowMode)."""

    NOT_INSTALLED = "none (the realm's reset flow has no backup-code step)"


@pytest.fixture(scope="module")
def console_realm(keycloak: Any, e2e_bridge: Any) -> Stack:
    """A realm of its own (its policy changes here), installed by the realm installer, with a realm admin."""
    stack = build_stack(keycloak, e2e_bridge, "console")
    admin = stack.admin()
    user_id = keycloak.create_user(stack.realm, "realmadmin", PASSWORD)
    client_id = admin.get_client_id("realm-management")
    admin.assign_client_role(user_id, client_id, [admin.get_client_role(client_id, "realm-admin")])
    return stack


@pytest.fixture(scope="module")
def bridge_api(e2e_bridge: Any, console_realm: Stack) -> Iterator[httpx.Client]:
    """The bridge's own API with a key for the console realm: what the bridge stores, not Keycloak's view."""
    key = e2e_bridge.create_api_key("console-test", realms=[console_realm.realm])
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=e2e_bridge.url, headers=headers, timeout=30) as client:
        yield client


def bridge_policy(api: httpx.Client, realm: str) -> dict[str, Any]:
    response = api.get(f"/v1/realms/{realm}/policy")
    assert response.status_code == 200, response.text
    return response.json()


def tab_row(stack: Stack) -> dict[str, Any] | None:
    """The tab's component row as the console reads it (None until Keycloak made it from the bridge)."""
    rows = stack.admin().get_components({"type": TAB_PROVIDER})
    return next((row for row in rows if row["providerId"] == contract.ADMIN_TAB_ID), None)


def row_shows(stack: Stack, field: str, value: int) -> bool:
    row = tab_row(stack)
    return row is not None and row["config"].get(field) == [str(value)]


def open_tab(page: Page, stack: Stack) -> None:
    """Signed in as the realm admin, on Realm settings -> Backup codes (reached by clicking, as admins do)."""
    base = stack.keycloak.base_url
    page.goto(f"{base}/admin/{stack.realm}/console/#/{stack.realm}/realm-settings")
    page.fill("#username", "realmadmin")  # a fresh profile: the console sends the admin to sign in first
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    page.get_by_role("tab", name=contract.ADMIN_TAB_ID).click()
    expect(page.locator('[data-testid="max_failures"]')).to_be_visible()


def password_reset(page: Page) -> Any:
    """The "Password reset" field's form group (a select: its toggle shows the current mode)."""
    return (
        page.locator("[class*='form__group']")
        .filter(has=page.get_by_text("Password reset", exact=True))
        .first
    )


def choose_password_reset(page: Page, mode: str) -> None:
    password_reset(page).get_by_role("button").filter(
        has_text=re.compile(r"email\+code|code-only|none|edited")
    ).click()
    page.get_by_role("option", name=mode, exact=True).click()


def reset_mode(stack: Stack) -> str | None:
    """The realm's reset-credentials mode as the realm installer reads it (None: not its shape)."""
    state = installer.Installer(stack.admin(), stack.realm).read_state()
    return state.reset_mode if state.reset_flow == installer.RESET_FLOW_ALIAS else None


def save(page: Page) -> None:
    page.locator('[data-testid="save"]').click()


def keep_screenshot(page: Page, name: str) -> None:
    """The console at desktop size (the window, not the whole page) into test-artifacts, and, with
    UPDATE_SCREENSHOTS=1, into docs/screenshots when the README shows it."""
    pages.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(pages.DESKTOP)
    page.mouse.move(0, 0)
    page.screenshot(path=str(pages.SCREENSHOTS / f"{name}-desktop.png"))
    pages.publish(name)


@pytest.fixture
def console(chromium: Any, console_realm: Stack) -> Iterator[Page]:
    """A fresh browser profile on the tab, once Keycloak holds the bridge's policy for the realm."""
    wait_until(lambda: tab_row(console_realm), "the tab's copy of the bridge policy")
    page = pages.fresh_page(chromium, APP_ORIGIN)
    try:
        open_tab(page, console_realm)
        yield page
    finally:
        page.context.close()


def test_the_tab_shows_the_bridges_policy(
    console: Page, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    policy = bridge_policy(bridge_api, console_realm.realm)
    for field in contract.POLICY_LIMITS:
        expect(console.locator(f'[data-testid="{field}"]')).to_have_value(str(policy[field]))
    # realm install's default, read from the flow
    expect(password_reset(console).get_by_text(contract.RESET_EMAIL_AND_CODE, exact=True)).to_be_visible()
    keep_screenshot(console, "admin-backup-codes-tab")


def test_saving_max_failures_changes_the_bridges_policy(
    console: Page, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    before = bridge_policy(bridge_api, console_realm.realm)["max_failures"]
    wanted = 7 if before != 7 else 8
    console.locator('[data-testid="max_failures"]').fill(str(wanted))
    save(console)
    expect(console.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
    assert bridge_policy(bridge_api, console_realm.realm)["max_failures"] == wanted


def test_an_out_of_range_value_is_refused_naming_the_field_and_the_bridge_keeps_its_policy(
    console: Page, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    before = bridge_policy(bridge_api, console_realm.realm)
    console.locator('[data-testid="max_failures"]').fill("1000")
    save(console)
    expect(console.get_by_text(re.compile(r"max_failures.*between 1 and 100")).first).to_be_visible()
    keep_screenshot(console, "admin-backup-codes-refused")
    assert bridge_policy(bridge_api, console_realm.realm) == before
    assert row_shows(console_realm, "max_failures", before["max_failures"])


@pytest.mark.parametrize("mode", [contract.RESET_CODE_ONLY, contract.RESET_EMAIL_AND_CODE])
def test_choosing_a_password_reset_mode_switches_the_realms_reset_flow(
    console: Page, console_realm: Stack, mode: str
) -> None:
    choose_password_reset(console, mode)
    save(console)
    expect(console.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
    assert reset_mode(console_realm) == mode
    row = tab_row(console_realm)
    assert row is not None and row["config"]["password_reset"] == [mode]


def test_a_plain_realm_install_keeps_the_mode_chosen_in_the_tab(console: Page, console_realm: Stack) -> None:
    choose_password_reset(console, contract.RESET_CODE_ONLY)
    save(console)
    expect(console.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
    try:
        state = installer.Installer(console_realm.admin(), console_realm.realm).read_state()
        assert installer.plan_install(state, installer.InstallOptions()) == []
    finally:
        choose_password_reset(console, contract.RESET_EMAIL_AND_CODE)
        save(console)
        wait_until(lambda: reset_mode(console_realm) == contract.RESET_EMAIL_AND_CODE, "email+code again")


def test_after_the_tab_chose_code_only_a_backup_code_alone_resets_the_password(
    console: Page, console_realm: Stack, new_page: Any
) -> None:
    admin = console_realm.admin()
    admin.update_realm(console_realm.realm, {"resetPasswordAllowed": True})
    choose_password_reset(console, contract.RESET_CODE_ONLY)
    save(console)
    expect(console.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
    try:
        user = enrol(console_realm, new_page)
        page = new_page()
        pages.ask_for_password_reset(page, console_realm.login_url, user.username)
        assert pages.on_code_page(page), f"expected the backup-code page right away, got {page.url}"
        pages.enter_code(page, user.codes[0])
        assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"
    finally:
        # realm install --reset-mode takes the tab's flow back to email+code, as from its own
        realm_installer = installer.Installer(admin, console_realm.realm)
        options = installer.InstallOptions(reset_mode=installer.EMAIL_AND_CODE)
        realm_installer.apply(installer.plan_install(realm_installer.read_state(), options))
        admin.update_realm(console_realm.realm, {"resetPasswordAllowed": False})
    assert reset_mode(console_realm) == contract.RESET_EMAIL_AND_CODE


def test_a_realm_whose_reset_flow_is_not_ours_saves_its_policy_but_refuses_a_mode_change(
    chromium: Any, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    admin = console_realm.admin()
    admin.update_realm(console_realm.realm, {"resetCredentialsFlow": "reset credentials"})
    page = pages.fresh_page(chromium, APP_ORIGIN)
    try:
        wait_until(
            lambda: (
                (tab_row(console_realm) or {}).get("config", {}).get("password_reset")
                == [ResetFlowShown.NOT_INSTALLED]
            ),
            "the tab's copy to show the realm's own reset flow",
        )
        open_tab(page, console_realm)
        wanted = bridge_policy(bridge_api, console_realm.realm)["max_failures"] % 100 + 1
        page.locator('[data-testid="max_failures"]').fill(str(wanted))
        save(page)  # the mode left as shown: the policy is saved, the flow left alone
        expect(page.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
        saved = bridge_policy(bridge_api, console_realm.realm)
        assert saved["max_failures"] == wanted

        page.locator('[data-testid="max_failures"]').fill(str(wanted % 100 + 1))
        choose_password_reset(page, contract.RESET_CODE_ONLY)
        save(page)
        refusal = page.get_by_text(re.compile(r"Password reset \(password_reset\).*realm install"))
        expect(refusal.first).to_be_visible()
        assert bridge_policy(bridge_api, console_realm.realm) == saved
        assert admin.get_realm(console_realm.realm)["resetCredentialsFlow"] == "reset credentials"
    finally:
        page.context.close()
        admin.update_realm(console_realm.realm, {"resetCredentialsFlow": installer.RESET_FLOW_ALIAS})


def test_the_audit_names_the_admin_who_saved_the_tab(
    console: Page, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    wanted = bridge_policy(bridge_api, console_realm.realm)["max_failures"] % 100 + 1
    console.locator('[data-testid="max_failures"]').fill(str(wanted))
    save(console)
    expect(console.get_by_text(re.compile("saved", re.IGNORECASE)).first).to_be_visible()
    response = bridge_api.get("/v1/audit", params={"event": "policy_changed", "realm": console_realm.realm})
    assert response.status_code == 200, response.text
    last = response.json()["events"][-1]
    assert last["actor"] == f"keycloak-admin:{console_realm.realm}/realmadmin"
    assert last["details"]["new"]["max_failures"] == wanted


def test_a_change_made_on_the_bridge_shows_in_the_tab(
    chromium: Any, console_realm: Stack, bridge_api: httpx.Client
) -> None:
    wait_until(lambda: tab_row(console_realm), "the tab's copy of the bridge policy")
    realm = console_realm.realm
    result = backup_codes_cli(console_realm.bridge, "policy", "set", "--realm", realm, "max_failures=11")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: row_shows(console_realm, "max_failures", 11), "the tab's copy to follow the bridge")
    page = pages.fresh_page(chromium, APP_ORIGIN)
    try:
        open_tab(page, console_realm)
        expect(page.locator('[data-testid="max_failures"]')).to_have_value("11")
    finally:
        page.context.close()


def test_bridge_down_refuses_the_save_and_keycloak_keeps_the_bridges_values(
    console: Page, console_realm: Stack
) -> None:
    row_before = tab_row(console_realm)
    assert row_before is not None
    console_realm.bridge.stop()
    try:
        console.locator('[data-testid="max_failures"]').fill("42")
        choose_password_reset(console, contract.RESET_CODE_ONLY)
        save(console)
        refusal = console.get_by_text(re.compile("bridge is unreachable; nothing was saved"))
        expect(refusal.first).to_be_visible()
        assert tab_row(console_realm)["config"]["max_failures"] == row_before["config"]["max_failures"]
        assert reset_mode(console_realm) == contract.RESET_EMAIL_AND_CODE  # the flow switch was rolled back
    finally:
        console_realm.bridge.start()
