"""Recovery scenarios end to end (issue 4): Chromium → Keycloak (our providers, installed by the realm
installer with --remember-devices 30 and the email+code reset) → bridge → SMTP sink.

Each scenario has its negative twin, which leaves the account as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e import pages
from tests.e2e.conftest import (
    REDIRECT_URI,
    Stack,
    User,
    backup_codes_cli,
    enrol,
    random_wrong_code,
    reset_link,
    wait_until,
)

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]

NEW_PASSWORD = "a brand new passphrase for tests"
SUBJECT_RESET = "reset password"  # Keycloak's own mail
SUBJECT_NEW_DEVICE = "unrecognised device"
SUBJECT_RECOVERED = "recovered with a backup code"
SUBJECT_EMAIL_CHANGED = "email address"
SUBJECT_HELPDESK = "reset by the help desk"


def email_of(user: User) -> str:
    return f"{user.username}@example.test"


def sign_in_with_code(page: Any, stack: Stack, user: User, code: str, password: str | None = None) -> None:
    pages.sign_in_with_password(page, stack.login_url, user.username, password or user.password)
    assert pages.on_code_page(page), f"expected the backup-code page, got {page.url}"
    pages.enter_code(page, code)


def brute_force_status(stack: Stack, user: User) -> dict[str, Any]:
    return dict(stack.admin().get_bruteforce_detection_status(user.id))


def lock_out(page: Any, stack: Stack, user: User) -> None:
    """Three wrong passwords: Keycloak's brute-force detection locks the user (failureFactor 3)."""
    for _ in range(3):
        pages.sign_in_with_password(page, stack.login_url, user.username, "not the password")
        assert not pages.is_signed_in(page, REDIRECT_URI)
    wait_until(lambda: brute_force_status(stack, user).get("disabled"), "Keycloak's temporary lock")


def locked_user(stack: Stack, new_page: Any) -> tuple[User, Any]:
    """An enrolled user whom Keycloak has temporarily locked, and the page on which it happened."""
    user = enrol(stack, new_page)
    page = new_page()
    lock_out(page, stack, user)
    return user, page


def reset_password_with_code(page: Any, stack: Stack, user: User, code: str) -> None:
    """Forgot password → mail link → backup code; leaves the page wherever Keycloak goes next."""
    assert stack.mail is not None
    before = len(stack.mail.to(email_of(user)))
    pages.ask_for_password_reset(page, stack.login_url, user.username)
    mail = wait_until(
        lambda: [
            m for m in stack.mail.to(email_of(user))[before:] if SUBJECT_RESET in str(m["Subject"]).lower()
        ],
        "Keycloak's reset mail",
    )[0]
    page.goto(reset_link(mail))
    page.wait_for_load_state()
    assert pages.on_code_page(page), f"expected the backup-code page after the mail link, got {page.url}"
    pages.enter_code(page, code)


# ------------------------------------------------------------------------------------ forgot password


def test_forgot_password_asks_for_a_backup_code_after_the_email_link(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    pages.ask_for_password_reset(page, recovery.login_url, user.username)
    assert recovery.mail is not None
    mail = recovery.mail.wait_for(email_of(user), SUBJECT_RESET)

    page.goto(reset_link(mail))
    page.wait_for_load_state()

    assert pages.on_code_page(page)
    pages.screenshot(page, "reset-code")


def test_forgot_password_with_email_link_and_code_sets_the_new_password(
    new_page: Any, recovery: Stack
) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    reset_password_with_code(page, recovery, user, user.codes[0])
    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"
    pages.screenshot(page, "reset-new-password")

    pages.set_new_password(page, NEW_PASSWORD)
    pages.finish_setup_if_asked(page)
    pages.expect_signed_in(page, REDIRECT_URI)

    later = new_page()
    pages.sign_in_with_password(later, recovery.login_url, user.username, NEW_PASSWORD)
    assert pages.on_code_page(later), "the new password should lead to the backup-code step"


def test_after_a_reset_with_a_code_a_fresh_set_must_be_enrolled(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    reset_password_with_code(page, recovery, user, user.codes[0])
    pages.set_new_password(page, NEW_PASSWORD)

    pages.accept_regeneration_if_asked(page)
    assert pages.on_setup_page(page), f"expected the setup page after the reset, got {page.url}"
    pages.screenshot(page, "reset-new-codes")
    new_codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)

    pages.expect_signed_in(page, REDIRECT_URI)
    assert set(new_codes).isdisjoint(user.codes)


def test_remaining_codes_work_until_the_new_set_is_issued(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    reset_password_with_code(page, recovery, user, user.codes[0])
    assert pages.on_update_password_page(page)  # left here: no new set has been issued yet

    elsewhere = new_page()
    pages.sign_in_with_password(elsewhere, recovery.login_url, user.username, user.password)
    assert pages.on_code_page(elsewhere), "with codes left, the password alone must not be enough"
    pages.enter_code(elsewhere, user.codes[1])

    assert not pages.code_error(elsewhere), "an unused code of the old set should still be accepted"
    assert not pages.on_code_page(elsewhere)


def test_old_codes_are_refused_once_the_new_set_is_issued(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    reset_password_with_code(page, recovery, user, user.codes[0])
    pages.set_new_password(page, NEW_PASSWORD)
    new_codes = pages.finish_setup_if_asked(page)
    assert new_codes, "expected a fresh set after the reset"

    later = new_page()
    sign_in_with_code(later, recovery, user, user.codes[1], password=NEW_PASSWORD)

    assert pages.on_code_page(later) and pages.code_error(later)
    assert not pages.is_signed_in(later, REDIRECT_URI)


def test_forgot_password_with_a_wrong_code_changes_no_password(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()

    reset_password_with_code(page, recovery, user, random_wrong_code())

    assert pages.on_code_page(page) and pages.code_error(page)
    assert not pages.on_update_password_page(page)
    later = new_page()
    pages.sign_in_with_password(later, recovery.login_url, user.username, user.password)
    assert pages.on_code_page(later), "the old password should still be the password"


def test_forgot_password_for_a_user_without_codes_needs_only_the_email_link(
    new_page: Any, recovery: Stack
) -> None:
    user = recovery.new_user("nocodes", enrol=False)
    page = new_page()
    pages.ask_for_password_reset(page, recovery.login_url, user.username)
    assert recovery.mail is not None
    mail = recovery.mail.wait_for(email_of(user), SUBJECT_RESET)

    page.goto(reset_link(mail))
    page.wait_for_load_state()

    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"


def test_code_only_reset_lets_a_code_alone_set_a_new_password(new_page: Any, code_only_reset: Stack) -> None:
    user = enrol(code_only_reset, new_page)
    page = new_page()
    pages.ask_for_password_reset(page, code_only_reset.login_url, user.username)
    assert pages.on_code_page(page), f"expected the backup-code page right away, got {page.url}"
    pages.screenshot(page, "reset-code-only")

    pages.enter_code(page, user.codes[0])

    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"


def test_code_only_reset_still_offers_the_email_link(new_page: Any, code_only_reset: Stack) -> None:
    user = enrol(code_only_reset, new_page)
    page = new_page()
    pages.ask_for_password_reset(page, code_only_reset.login_url, user.username)
    pages.open_other_ways(page)

    page.locator(".select-auth-box-parent", has_text=re.compile("email", re.IGNORECASE)).first.click()
    page.wait_for_load_state()

    assert code_only_reset.mail is not None
    mail = code_only_reset.mail.wait_for(email_of(user), SUBJECT_RESET)
    page.goto(reset_link(mail))
    page.wait_for_load_state()
    assert not pages.on_code_page(page), "the email link alone should do in code-only mode"
    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"


def test_code_only_reset_with_a_wrong_code_changes_no_password(new_page: Any, code_only_reset: Stack) -> None:
    user = enrol(code_only_reset, new_page)
    page = new_page()
    pages.ask_for_password_reset(page, code_only_reset.login_url, user.username)

    pages.enter_code(page, random_wrong_code())

    assert pages.on_code_page(page) and pages.code_error(page)
    later = new_page()
    pages.sign_in_with_password(later, code_only_reset.login_url, user.username, user.password)
    assert pages.on_code_page(later), "the old password should still be the password"


# ---------------------------------------------------------------------------------- remembered devices


def sign_in_remembering(page: Any, stack: Stack, user: User, code: str) -> None:
    sign_in_with_code(page, stack, user, code)
    pages.expect_signed_in(page, REDIRECT_URI)


def remembered_user(stack: Stack, new_page: Any) -> tuple[User, Any]:
    """An enrolled user who signed in with a code, and the page (its browser now remembered)."""
    user = enrol(stack, new_page)
    page = new_page()
    sign_in_remembering(page, stack, user, user.codes[0])
    return user, page


def test_a_second_factor_sets_a_device_cookie(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()

    sign_in_remembering(page, recovery, user, user.codes[0])

    cookie = pages.device_cookie(page)
    assert cookie is not None, "expected the remembered-device cookie"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"].rstrip("/") == recovery.cookie_path.rstrip("/")
    assert cookie["expires"] > 0, "a remembered device outlives the browser session"


def test_a_sign_in_from_a_new_device_is_mailed(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()

    sign_in_remembering(page, recovery, user, user.codes[0])

    assert recovery.mail is not None
    mail = recovery.mail.wait_for(email_of(user), SUBJECT_NEW_DEVICE)
    assert user.codes[0] not in recovery.mail.text(mail)


def test_a_remembered_device_skips_the_second_factor(new_page: Any, recovery: Stack) -> None:
    user, page = remembered_user(recovery, new_page)
    pages.log_out(page, recovery.logout_url)

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)

    pages.expect_signed_in(page, REDIRECT_URI)


def test_a_fresh_browser_is_asked_for_a_code_again(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    sign_in_remembering(new_page(), recovery, user, user.codes[0])

    fresh = new_page()
    pages.sign_in_with_password(fresh, recovery.login_url, user.username, user.password)

    assert pages.on_code_page(fresh)


def test_another_users_device_cookie_is_not_accepted(new_page: Any, recovery: Stack) -> None:
    alice, bob = enrol(recovery, new_page, "alice"), enrol(recovery, new_page, "bob")
    alices = new_page()
    sign_in_remembering(alices, recovery, alice, alice.codes[0])
    stolen = pages.device_cookie(alices)
    assert stolen is not None

    bobs = new_page()
    bobs.context.add_cookies([{k: stolen[k] for k in ("name", "value", "domain", "path")}])
    pages.sign_in_with_password(bobs, recovery.login_url, bob.username, bob.password)

    assert pages.on_code_page(bobs), "a cookie of another user must not skip the second factor"


def test_a_tampered_device_cookie_is_not_accepted(new_page: Any, recovery: Stack) -> None:
    user, page = remembered_user(recovery, new_page)
    pages.log_out(page, recovery.logout_url)
    cookie = pages.device_cookie(page)
    assert cookie is not None
    value = cookie["value"]
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
    page.context.add_cookies([{**{k: cookie[k] for k in ("name", "domain", "path")}, "value": tampered}])

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)

    assert pages.on_code_page(page), "a tampered cookie must not skip the second factor"


def test_a_password_change_forgets_remembered_devices(new_page: Any, recovery: Stack) -> None:
    user, page = remembered_user(recovery, new_page)
    pages.log_out(page, recovery.logout_url)
    recovery.admin().update_user(user.id, {"requiredActions": ["UPDATE_PASSWORD"]})
    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)
    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"
    pages.set_new_password(page, NEW_PASSWORD)
    pages.expect_signed_in(page, REDIRECT_URI)
    pages.log_out(page, recovery.logout_url)

    pages.sign_in_with_password(page, recovery.login_url, user.username, NEW_PASSWORD)

    assert pages.on_code_page(page), "after a password change the device must prove the second factor again"


def test_the_devices_page_lists_the_remembered_device(new_page: Any, recovery: Stack) -> None:
    _user, page = remembered_user(recovery, new_page)

    page.goto(recovery.login_url_with(kc_action="backup-code-devices"))
    page.wait_for_load_state()

    assert pages.on_devices_page(page), f"expected the devices page, got {page.url}"
    pages.screenshot(page, "devices")
    assert len(pages.remembered_devices(page)) == 1


def test_forgetting_all_devices_asks_for_a_code_at_the_next_sign_in(new_page: Any, recovery: Stack) -> None:
    user, page = remembered_user(recovery, new_page)
    page.goto(recovery.login_url_with(kc_action="backup-code-devices"))
    page.wait_for_load_state()
    pages.forget_all_devices(page)
    pages.screenshot(page, "devices-forgotten")
    assert pages.remembered_devices(page) == []
    pages.log_out(page, recovery.logout_url)

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)

    assert pages.on_code_page(page)


# ------------------------------------------------------------------------------ temporary lockout


def test_a_temporarily_locked_user_gets_in_with_the_password_and_a_code(
    new_page: Any, recovery: Stack
) -> None:
    user, page = locked_user(recovery, new_page)

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)
    assert pages.on_locked_recovery_page(page), f"expected the lock-recovery code page, got {page.url}"
    pages.screenshot(page, "locked-recovery")
    pages.enter_code(page, user.codes[0])
    pages.finish_setup_if_asked(page)

    pages.expect_signed_in(page, REDIRECT_URI)


def test_a_lock_recovery_clears_keycloaks_lock_and_mails_the_user(new_page: Any, recovery: Stack) -> None:
    user, page = locked_user(recovery, new_page)

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)
    pages.enter_code(page, user.codes[0])

    assert brute_force_status(recovery, user).get("disabled") is False
    assert recovery.mail is not None
    recovery.mail.wait_for(email_of(user), SUBJECT_RECOVERED)


def test_a_wrong_code_leaves_the_temporary_lock_in_place(new_page: Any, recovery: Stack) -> None:
    user, page = locked_user(recovery, new_page)
    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)
    assert pages.on_locked_recovery_page(page)

    pages.enter_code(page, random_wrong_code())

    assert not pages.is_signed_in(page, REDIRECT_URI)
    assert brute_force_status(recovery, user).get("disabled") is True
    pages.screenshot(page, "locked-recovery-refused")


def test_a_locked_user_who_forgot_the_password_resets_it_with_the_link_and_a_code(
    new_page: Any, recovery: Stack
) -> None:
    user, page = locked_user(recovery, new_page)

    reset_password_with_code(page, recovery, user, user.codes[0])
    assert pages.on_update_password_page(page), f"expected the new-password page, got {page.url}"
    pages.set_new_password(page, NEW_PASSWORD)
    pages.finish_setup_if_asked(page)
    pages.expect_signed_in(page, REDIRECT_URI)

    assert brute_force_status(recovery, user).get("disabled") is False
    later = new_page()
    pages.sign_in_with_password(later, recovery.login_url, user.username, NEW_PASSWORD)
    assert pages.on_code_page(later), "the new password should lead to the backup-code step"


def test_a_wrong_code_in_a_locked_users_reset_changes_no_password_and_keeps_the_lock(
    new_page: Any, recovery: Stack
) -> None:
    user, page = locked_user(recovery, new_page)

    reset_password_with_code(page, recovery, user, random_wrong_code())

    assert pages.on_code_page(page) and pages.code_error(page)
    assert not pages.on_update_password_page(page)
    assert brute_force_status(recovery, user).get("disabled") is True


def test_a_wrong_password_on_a_locked_account_is_not_let_in_by_a_right_code(
    new_page: Any, recovery: Stack
) -> None:
    user, page = locked_user(recovery, new_page)
    pages.sign_in_with_password(page, recovery.login_url, user.username, "still not the password")

    if pages.on_code_page(page):  # the page does not tell whether the password was right
        pages.enter_code(page, user.codes[0])

    assert not pages.is_signed_in(page, REDIRECT_URI)
    assert brute_force_status(recovery, user).get("disabled") is True


def test_a_permanently_locked_user_is_offered_no_code(new_page: Any, permanent_lockout: Stack) -> None:
    user = enrol(permanent_lockout, new_page)
    page = new_page()
    lock_out(page, permanent_lockout, user)

    pages.sign_in_with_password(page, permanent_lockout.login_url, user.username, user.password)

    assert not pages.on_code_page(page)
    assert pages.on_login_form(page) and pages.login_message(page)
    assert not pages.is_signed_in(page, REDIRECT_URI)


def test_a_disabled_user_is_offered_no_code(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    recovery.admin().update_user(user.id, {"enabled": False})
    page = new_page()

    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)

    assert not pages.on_code_page(page)
    assert pages.on_login_form(page) and pages.login_message(page)
    assert not pages.is_signed_in(page, REDIRECT_URI)


# ---------------------------------------------------------------------------------------- lost email


def update_email_url(stack: Stack) -> str:
    """An application's "change my email" link (UPDATE_EMAIL, application-initiated)."""
    return stack.login_url_with(kc_action="UPDATE_EMAIL")


def test_a_user_who_lost_the_mailbox_changes_the_email_and_both_addresses_are_told(
    new_page: Any, recovery: Stack
) -> None:
    user = enrol(recovery, new_page)
    new_address = f"{user.username}.new@example.test"
    page = new_page()
    pages.sign_in_with_password(page, update_email_url(recovery), user.username, user.password)
    assert pages.on_code_page(page)
    pages.enter_code(page, user.codes[0])
    assert pages.on_update_email_page(page), f"expected the update-email page, got {page.url}"
    pages.screenshot(page, "update-email")

    pages.set_new_email(page, new_address)

    pages.expect_signed_in(page, REDIRECT_URI)
    assert recovery.admin().get_user(user.id)["email"] == new_address
    assert recovery.mail is not None
    recovery.mail.wait_for(email_of(user), SUBJECT_EMAIL_CHANGED)
    recovery.mail.wait_for(new_address, SUBJECT_EMAIL_CHANGED)


def test_a_wrong_code_leaves_the_email_unchanged(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    page = new_page()
    pages.sign_in_with_password(page, update_email_url(recovery), user.username, user.password)

    pages.enter_code(page, random_wrong_code())

    assert pages.on_code_page(page) and pages.code_error(page)
    assert not pages.on_update_email_page(page)
    assert recovery.admin().get_user(user.id)["email"] == email_of(user)


# ---------------------------------------------------------------------------------------- lost codes


def helpdesk_reset(stack: Stack, user: User, *extra: str) -> Any:
    return backup_codes_cli(
        stack.bridge,
        "user",
        "reset",
        "--realm",
        stack.realm,
        "--user",
        user.id,
        "--reason",
        "lost the sheet",
        "--actor",
        "helpdesk-1",
        *extra,
    )


def test_helpdesk_reset_forces_enrolment_at_the_next_sign_in(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    result = helpdesk_reset(recovery, user, "--identity-check", "video call with badge")
    assert result.returncode == 0, result.stderr

    page = new_page()
    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)

    assert pages.on_setup_page(page), f"expected the setup page, got {page.url}"
    new_codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    pages.expect_signed_in(page, REDIRECT_URI)
    assert set(new_codes).isdisjoint(user.codes)


def test_helpdesk_reset_shows_in_user_status(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)
    assert helpdesk_reset(recovery, user, "--identity-check", "video call with badge").returncode == 0

    result = backup_codes_cli(recovery.bridge, "user", "status", "--realm", recovery.realm, "--user", user.id)

    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["enroll_required"] is True and status["remaining"] == 0
    assert status["recent_events"][0]["event"] == "helpdesk_reset"


def test_helpdesk_reset_mails_the_user(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)

    assert helpdesk_reset(recovery, user, "--identity-check", "video call with badge").returncode == 0

    assert recovery.mail is not None
    recovery.mail.wait_for(email_of(user), SUBJECT_HELPDESK)


def test_helpdesk_reset_without_an_identity_check_changes_nothing(new_page: Any, recovery: Stack) -> None:
    user = enrol(recovery, new_page)

    result = helpdesk_reset(recovery, user)

    assert result.returncode != 0 and "identity-check" in result.stderr
    page = new_page()
    sign_in_with_code(page, recovery, user, user.codes[0])
    pages.expect_signed_in(page, REDIRECT_URI)


# ------------------------------------------------------------------------------------ codes in flight


def own_attempts_in_flight(stack: Stack, user: User, count: int = 5) -> Callable[[], None]:
    """``count`` of the user's attempts admitted by the bridge and still being hashed (another tab, a
    double submit); returns what settles them. Filled in the bridge's database, so the test decides
    when they end instead of racing real requests."""
    from bridge.settings import Settings
    from bridge.store import db
    from bridge.store import locks as lockout

    engine = db.make_engine(Settings(database_url=stack.bridge.database_url))
    with engine.begin() as conn:
        batches = [
            lockout.admit(conn, stack.realm, user.id, max_failures=count, now=db.utcnow()).batch
            for _ in range(count)
        ]

    def settle() -> None:
        with engine.begin() as conn:
            for batch in batches:
                lockout.release(conn, stack.realm, user.id, batch)
        engine.dispose()

    return settle


def test_a_code_sent_while_the_users_other_attempts_are_checked_says_try_again_and_counts_nothing(
    new_page: Any, recovery: Stack
) -> None:
    user = enrol(recovery, new_page)
    settle = own_attempts_in_flight(recovery, user)
    page = new_page()
    pages.sign_in_with_password(page, recovery.login_url, user.username, user.password)
    for _ in range(3):  # Keycloak's failureFactor: three failed logins would lock the user
        pages.enter_code(page, user.codes[0])
        assert pages.on_code_page(page) and "try again" in pages.code_error(page)
    pages.screenshot(page, "busy")
    assert brute_force_status(recovery, user).get("numFailures") == 0

    settle()
    pages.enter_code(page, user.codes[0])  # the same code: nothing was used

    pages.expect_signed_in(page, REDIRECT_URI)
    assert brute_force_status(recovery, user).get("disabled") is False
