"""Helpdesk work in Keycloak's own admin console (issue 17, items 2 to 6): a user's codes on the Credentials
tab, deleting the credential as the audited helpdesk reset, "unlock user" and "unlock all users", the realm's
events, and what an admin with view-only or no user rights can do. Two admin accounts of the realm: ``viewer``
(realm-management ``view-users``) and ``helper`` (``manage-users``), plus ``outsider`` without either.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from bridge import contract
from bridge import realm as installer
from tests.e2e import pages
from tests.e2e.conftest import (
    BRUTE_FORCE,
    PASSWORD,
    REDIRECT_URI,
    REPO,
    Mailbox,
    Stack,
    User,
    build_stack,
    enrol,
    random_wrong_code,
    wait_until,
)

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]

DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"


@dataclass
class Helpdesk:
    stack: Stack
    viewer: str
    helper: str
    outsider: str


def make_admin(stack: Stack, username: str, roles: list[str]) -> str:
    """A user of the realm who administers it with these realm-management roles."""
    admin = stack.admin()
    user_id = stack.keycloak.create_user(stack.realm, username, PASSWORD)
    if roles:
        client = admin.get_client_id("realm-management")
        wanted = [admin.get_client_role(client, role) for role in roles]
        admin.assign_client_role(user_id, client, wanted)
    return username


@pytest.fixture(scope="module")
def helpdesk(keycloak: Any, e2e_bridge: Any, e2e_mail: Mailbox, notifier: Any) -> Helpdesk:
    """A realm that stores user and admin events, locks after 3 failures, and mails (bridge and Keycloak)."""
    stack = build_stack(
        keycloak,
        e2e_bridge,
        "helpdesk",
        mail=e2e_mail,
        eventsEnabled=True,
        adminEventsEnabled=True,
        permanentLockout=False,
        **BRUTE_FORCE,
    )
    return Helpdesk(
        stack=stack,
        viewer=make_admin(stack, "viewer", ["view-users"]),
        helper=make_admin(stack, "helper", ["manage-users", "view-users"]),
        outsider=make_admin(stack, "outsider", []),
    )


def rest_as(helpdesk: Helpdesk, username: str) -> KeycloakAdmin:
    """The Admin REST API as one of the realm's own admins (admin-cli of that realm)."""
    stack = helpdesk.stack
    return KeycloakAdmin(
        server_url=stack.keycloak.base_url,
        username=username,
        password=PASSWORD,
        realm_name=stack.realm,
        user_realm_name=stack.realm,
        client_id="admin-cli",
    )


def marker(stack: Stack, user: User) -> dict[str, Any] | None:
    credentials = stack.admin().get_credentials(user.id)
    return next((c for c in credentials if c["type"] == contract.CREDENTIAL_TYPE), None)


def bridge_get(stack: Stack, path: str) -> Any:
    response = requests.get(f"{stack.bridge.url}{path}", headers=stack.bridge.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def bridge_put(stack: Stack, path: str, body: dict[str, Any]) -> None:
    response = requests.put(f"{stack.bridge.url}{path}", json=body, headers=stack.bridge.headers, timeout=10)
    assert response.status_code == 200, response.text


def codes_status(stack: Stack, user: User) -> Any:
    return bridge_get(stack, f"/v1/realms/{stack.realm}/users/{user.id}/codes")


def audit(stack: Stack, user: User, event: str) -> list[dict[str, Any]]:
    return bridge_get(stack, f"/v1/audit?realm={stack.realm}&user_id={user.id}&event={event}")["events"]


def admin_events(stack: Stack, resource_path: str) -> list[dict[str, Any]]:
    return stack.admin().get_admin_events({"resourcePath": resource_path})


def user_events(stack: Stack, user: User, event_type: str) -> list[dict[str, Any]]:
    return stack.admin().get_events({"user": user.id, "type": event_type})


def fail_a_password(page: Any, stack: Stack, user: User) -> None:
    """One wrong password: Keycloak's brute-force detection has a record to unlock (else no admin event)."""
    pages.sign_in_with_password(page, stack.login_url, user.username, "not the password")
    assert pages.on_login_form(page)


def sign_in_with_code(page: Any, stack: Stack, user: User, code: str) -> None:
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    assert pages.on_code_page(page), f"expected the backup-code page, got {page.url}"
    pages.enter_code(page, code)
    if pages.on_low_page(page):
        page.click("#backup-code-later")
        page.wait_for_load_state()


def open_credentials_tab(page: Any, helpdesk: Helpdesk, admin: str, user: User) -> None:
    """The admin console (of the realm itself), signed in as ``admin``, on the user's Credentials tab."""
    stack = helpdesk.stack
    base = stack.keycloak.base_url
    page.goto(f"{base}/admin/{stack.realm}/console/#/{stack.realm}/users/{user.id}/credentials")
    page.fill("#username", admin)
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    page.wait_for_load_state()


def credential_row(page: Any) -> Any:
    return page.locator("tr").filter(has_text=" left · ").first


def save_row_screenshot(row: Any, name: str) -> None:
    """The credential row for people to look at (and for the README when UPDATE_SCREENSHOTS=1)."""
    pages.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = pages.SCREENSHOTS / f"{name}-desktop.png"
    row.page.mouse.move(0, 0)
    row.locator("xpath=ancestor::table[1]").screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)


# ------------------------------------------------------------------------------ status on the Credentials tab


def test_credentials_tab_shows_the_codes_left_after_a_sign_in_with_a_code(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "tab")
    sign_in_with_code(new_page(), stack, user, user.codes[0])

    page = new_page()
    open_credentials_tab(page, helpdesk, helpdesk.viewer, user)
    row = credential_row(page)
    row.wait_for()
    assert "9 of 10 left · used " in row.inner_text()
    save_row_screenshot(row, "admin-credential-row")


def test_the_credential_data_carries_remaining_dates_and_lock(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "data")
    sign_in_with_code(new_page(), stack, user, user.codes[0])

    data = json.loads(marker(stack, user)["credentialData"])
    assert data["remaining"] == "9" and data["total"] == "10"
    assert data["createdAt"] and data["lastUsedAt"]
    assert data["lock"] == "none"
    assert not any(code in json.dumps(data) for code in user.codes)


def test_a_lock_shows_on_the_credential_after_the_next_sign_in(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "lockrow")
    body = {"kind": "temporary", "reason": "test", "duration_seconds": 600}
    bridge_put(stack, f"/v1/realms/{stack.realm}/users/{user.id}/locks/codes", body)

    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)

    label = wait_until(lambda: (marker(stack, user) or {}).get("userLabel", ""), "the marker label")
    assert "locked (codes, temporary) until" in label


# ------------------------------------------------------------------------------------- helpdesk reset


def test_deleting_the_credential_in_the_console_is_the_audited_helpdesk_reset(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "reset")

    page = new_page()
    open_credentials_tab(page, helpdesk, helpdesk.helper, user)
    row = credential_row(page)
    row.get_by_role("button", name="Kebab toggle").click()
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_test_id("confirm").click()

    events = wait_until(lambda: audit(stack, user, "helpdesk_reset"), "the bridge's helpdesk_reset audit")
    assert events[0]["actor"] == f"keycloak-admin:{stack.realm}/{helpdesk.helper}"
    assert codes_status(stack, user)["enrolled"] is False


def test_the_helpdesk_reset_mails_the_user(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "resetmail")
    rest_as(helpdesk, helpdesk.helper).delete_credential(user.id, marker(stack, user)["id"])

    assert stack.mail is not None
    stack.mail.wait_for(f"{user.username}@example.test", "reset by the help desk")


def test_after_the_helpdesk_reset_the_user_enrols_at_the_next_sign_in(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "reenrol")
    rest_as(helpdesk, helpdesk.helper).delete_credential(user.id, marker(stack, user)["id"])
    wait_until(lambda: audit(stack, user, "helpdesk_reset"), "the helpdesk reset")

    assert installer.REQUIRED_ACTION_ID in stack.admin().get_user(user.id)["requiredActions"]
    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    assert pages.on_setup_page(page)
    assert pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    pages.expect_signed_in(page, REDIRECT_URI)


def test_deleting_another_credential_is_not_a_helpdesk_reset(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "otherdel")
    password = next(c for c in stack.admin().get_credentials(user.id) if c["type"] == "password")
    rest_as(helpdesk, helpdesk.helper).delete_credential(user.id, password["id"])

    # Let the listener run (same request order as a reset), then nothing may have changed in the bridge.
    deleted = f"users/{user.id}/credentials/{password['id']}"
    wait_until(lambda: admin_events(stack, deleted), "the admin event")
    assert codes_status(stack, user)["enrolled"] is True
    assert audit(stack, user, "helpdesk_reset") == []


# --------------------------------------------------------------------------------------- unlock user


def test_unlock_user_lifts_the_temporary_codes_lock_in_the_admins_name(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "unlock")
    body = {"kind": "temporary", "reason": "test", "duration_seconds": 600}
    bridge_put(stack, f"/v1/realms/{stack.realm}/users/{user.id}/locks/codes", body)
    fail_a_password(new_page(), stack, user)

    rest_as(helpdesk, helpdesk.helper).connection.raw_delete(
        f"admin/realms/{stack.realm}/attack-detection/brute-force/users/{user.id}"
    )

    events = wait_until(lambda: audit(stack, user, "unlocked"), "the bridge's unlocked audit")
    assert events[0]["actor"] == f"keycloak-admin:{stack.realm}/{helpdesk.helper}"
    assert codes_status(stack, user)["lock"]["locked"] is False


def test_unlock_user_keeps_a_permanent_codes_lock(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "unlockperm")
    bridge_put(
        stack, f"/v1/realms/{stack.realm}/users/{user.id}/locks/codes", {"kind": "permanent", "reason": "x"}
    )
    fail_a_password(new_page(), stack, user)

    rest_as(helpdesk, helpdesk.helper).connection.raw_delete(
        f"admin/realms/{stack.realm}/attack-detection/brute-force/users/{user.id}"
    )
    unlocked = f"attack-detection/brute-force/users/{user.id}"
    wait_until(lambda: admin_events(stack, unlocked), "the admin event")

    assert codes_status(stack, user)["lock"]["kind"] == "permanent"
    assert audit(stack, user, "unlocked") == []


def lock_out_by_wrong_codes(page: Any, stack: Stack, user: User) -> None:
    """The bridge's max_failures wrong codes on the code page: the bridge's temporary codes lock."""
    max_failures = int(bridge_get(stack, f"/v1/realms/{stack.realm}/policy")["max_failures"])
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    for _ in range(max_failures):
        pages.enter_code(page, random_wrong_code())
    lock = codes_status(stack, user)["lock"]
    assert (lock["source"], lock["kind"]) == ("codes", "temporary"), lock


def test_unlock_all_users_lifts_every_temporary_codes_lock_in_the_admins_name(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    users = [enrol(stack, new_page, "unlockall") for _ in range(2)]
    for user in users:
        lock_out_by_wrong_codes(new_page(), stack, user)

    rest_as(helpdesk, helpdesk.helper).connection.raw_delete(
        f"admin/realms/{stack.realm}/attack-detection/brute-force/users"
    )

    for user in users:
        events = wait_until(lambda user=user: audit(stack, user, "unlocked"), "the bridge's unlocked audit")
        assert events[0]["actor"] == f"keycloak-admin:{stack.realm}/{helpdesk.helper}"
        page = new_page()
        sign_in_with_code(page, stack, user, user.codes[0])
        pages.expect_signed_in(page, REDIRECT_URI)


# -------------------------------------------------------------------------------------- realm events


def test_a_sign_in_with_a_code_is_a_login_event_with_the_codes_left(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "evlogin")
    sign_in_with_code(new_page(), stack, user, user.codes[0])

    logins = [
        e for e in user_events(stack, user, "LOGIN") if e["details"].get("credential_type") == "backup-code"
    ]
    assert logins and logins[0]["details"]["backup_codes_remaining"] == "9"


def test_a_wrong_code_is_a_login_error_event_without_the_code(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "evwrong")
    wrong = random_wrong_code()
    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    pages.enter_code(page, wrong)

    errors = user_events(stack, user, "LOGIN_ERROR")
    assert errors and errors[0]["error"] == "invalid_user_credentials"
    assert errors[0]["details"]["credential_type"] == "backup-code"
    assert wrong not in str(errors) and wrong.replace("-", "") not in str(errors)


def test_a_lockout_shows_in_the_login_error_events(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "evlock")
    policy = bridge_get(stack, f"/v1/realms/{stack.realm}/policy")
    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    for _ in range(int(policy["max_failures"])):
        pages.enter_code(page, random_wrong_code())

    errors = user_events(stack, user, "LOGIN_ERROR")
    assert any("backup_codes_locked_until" in e.get("details", {}) for e in errors)


def test_a_regeneration_is_an_update_credential_event(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "evregen")
    page = new_page()
    pages.sign_in_with_password(
        page, stack.login_url_with(kc_action=installer.REQUIRED_ACTION_ID), user.username, user.password
    )
    if pages.on_code_page(page):
        pages.enter_code(page, user.codes[0])
    pages.accept_regeneration_if_asked(page)
    pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)

    updates = user_events(stack, user, "UPDATE_CREDENTIAL")
    actions = [e["details"].get("backup_codes_action") for e in updates]
    assert "regenerate" in actions and "enrol" in actions


def test_the_helpdesk_reset_is_a_remove_credential_event_naming_the_admin(
    helpdesk: Helpdesk, new_page: Any
) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "evreset")
    rest_as(helpdesk, helpdesk.helper).delete_credential(user.id, marker(stack, user)["id"])

    removed = wait_until(lambda: user_events(stack, user, "REMOVE_CREDENTIAL"), "the REMOVE_CREDENTIAL event")
    details = removed[0]["details"]
    assert details["credential_type"] == "backup-code" and details["reason"] == "helpdesk_reset"
    assert details["admin"] == f"keycloak-admin:{stack.realm}/{helpdesk.helper}"


# ------------------------------------------------------------------------------- fine-grained rights


def test_a_view_only_admin_sees_the_status(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "viewsee")
    credentials = rest_as(helpdesk, helpdesk.viewer).get_credentials(user.id)
    labels = [c["userLabel"] for c in credentials if c["type"] == contract.CREDENTIAL_TYPE]
    assert labels and labels[0].startswith("10 of 10 left")


def test_a_view_only_admin_cannot_delete_the_credential(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "viewdel")
    with pytest.raises(KeycloakError) as refused:
        rest_as(helpdesk, helpdesk.viewer).delete_credential(user.id, marker(stack, user)["id"])
    assert refused.value.response_code == 403
    assert marker(stack, user) is not None
    assert codes_status(stack, user)["enrolled"] is True


def test_an_admin_without_view_rights_sees_nothing(helpdesk: Helpdesk, new_page: Any) -> None:
    stack = helpdesk.stack
    user = enrol(stack, new_page, "outside")
    with pytest.raises(KeycloakError) as refused:
        rest_as(helpdesk, helpdesk.outsider).get_credentials(user.id)
    assert refused.value.response_code == 403
