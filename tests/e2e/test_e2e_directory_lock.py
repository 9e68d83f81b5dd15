"""Directory lock recovery end to end: slapd (ppolicy) → Keycloak LDAP federation → the bridge's LDAP sync →
Chromium. A user locked by too many wrong passwords in the directory gets in with the right password and a
backup code; the sync writes the unlock back. Permanent directory locks are never lifted this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e import pages
from tests.e2e.conftest import (
    REDIRECT_URI,
    Mailbox,
    Stack,
    backup_codes_cli,
    build_stack,
    random_wrong_code,
)
from tests.fixtures.slapd import PERMANENT

pytestmark = [pytest.mark.keycloak, pytest.mark.browser, pytest.mark.ldap]


@dataclass
class Directory:
    stack: Stack
    slapd: Any
    env: dict[str, str]  # the bridge's LDAP sync settings

    def sync(self, *extra: str) -> None:
        result = backup_codes_cli(self.stack.bridge, "ldap-sync", "once", *extra, env=self.env)
        assert result.returncode == 0, result.stdout + result.stderr


@dataclass
class DirectoryUser:
    uid: str
    dn: str
    password: str
    codes: list[str]


@pytest.fixture(scope="module")
def directory(keycloak: Any, e2e_bridge: Any, e2e_mail: Mailbox, notifier: Any, slapd: Any) -> Directory:
    stack = build_stack(keycloak, e2e_bridge, "directory", mail=e2e_mail)
    keycloak.federate_ldap(stack.realm, slapd)
    env = {
        "BACKUP_CODES_LDAP_URL": slapd.url,
        "BACKUP_CODES_LDAP_BIND_DN": slapd.sync_dn,
        "BACKUP_CODES_LDAP_BIND_PASSWORD": slapd.sync_pw,
        "BACKUP_CODES_LDAP_BASE_DN": slapd.base_dn,
        "BACKUP_CODES_LDAP_DEFAULT_POLICY_DN": slapd.default_policy,
        "BACKUP_CODES_LDAP_REALM": stack.realm,
        "BACKUP_CODES_LDAP_RESOLVER": "keycloak",
        "BACKUP_CODES_LDAP_WRITE_UNLOCKS": "true",
        "BACKUP_CODES_KEYCLOAK_URL": keycloak.base_url,
        "BACKUP_CODES_KEYCLOAK_ADMIN_USERNAME": keycloak.admin_username,
        "BACKUP_CODES_KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password,
    }
    return Directory(stack=stack, slapd=slapd, env=env)


def enrol_directory_user(directory: Directory, new_page: Any) -> DirectoryUser:
    """A directory user who signed in once through Keycloak (imported) and set up backup codes."""
    entry = directory.slapd.add_user(mail=None)
    page = new_page()
    setup = directory.stack.login_url_with(
        kc_action="backup-code-setup"
    )  # an application's "set up codes" link
    pages.sign_in_with_password(page, setup, entry.uid, entry.password)
    codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    pages.expect_signed_in(page, REDIRECT_URI)
    page.context.close()
    return DirectoryUser(uid=entry.uid, dn=entry.dn, password=entry.password, codes=codes)


def lock_in_directory(directory: Directory, user: DirectoryUser) -> None:
    directory.slapd.bad_binds(user.dn, 3)
    assert directory.slapd.locked_time(user.dn)
    directory.sync("--full")


def at_the_lock_recovery_page(directory: Directory, new_page: Any) -> tuple[DirectoryUser, Any]:
    """An enrolled directory user locked by the directory, after the password on a fresh page."""
    user = enrol_directory_user(directory, new_page)
    lock_in_directory(directory, user)
    page = new_page()
    pages.sign_in_with_password(page, directory.stack.login_url, user.uid, user.password)
    return user, page


def test_a_directory_locked_user_unlocks_with_the_password_and_a_code(
    new_page: Any, directory: Directory
) -> None:
    user, page = at_the_lock_recovery_page(directory, new_page)
    assert pages.on_locked_recovery_page(page), f"expected the lock-recovery code page, got {page.url}"
    pages.screenshot(page, "directory-locked-recovery")
    pages.enter_code(page, user.codes[0])

    assert pages.on_login_form(page), "after the unlock the user signs in again"
    assert "unlocked" in pages.login_message(page).lower()
    pages.screenshot(page, "directory-unlocked")


def test_a_directory_unlock_is_mailed_to_the_user(new_page: Any, directory: Directory) -> None:
    user, page = at_the_lock_recovery_page(directory, new_page)

    pages.enter_code(page, user.codes[0])

    assert directory.stack.mail is not None
    mail = directory.stack.mail.wait_for(f"{user.uid}@example.org", "recovered with a backup code")
    assert user.codes[0] not in directory.stack.mail.text(mail)


def test_the_sync_writes_the_unlock_back_to_the_directory(new_page: Any, directory: Directory) -> None:
    user, page = at_the_lock_recovery_page(directory, new_page)
    pages.enter_code(page, user.codes[0])

    directory.sync()

    assert directory.slapd.locked_time(user.dn) is None
    assert directory.slapd.bind(user.dn, user.password)


def test_after_a_directory_unlock_the_user_signs_in_with_a_second_code(
    new_page: Any, directory: Directory
) -> None:
    user, page = at_the_lock_recovery_page(directory, new_page)
    pages.enter_code(page, user.codes[0])
    directory.sync()

    pages.sign_in_with_password(page, directory.stack.login_url, user.uid, user.password)
    assert pages.on_code_page(page)
    pages.enter_code(page, user.codes[1])
    pages.finish_setup_if_asked(page)

    pages.expect_signed_in(page, REDIRECT_URI)


def test_a_wrong_code_leaves_the_directory_lock_in_place(new_page: Any, directory: Directory) -> None:
    user, page = at_the_lock_recovery_page(directory, new_page)
    assert pages.on_locked_recovery_page(page)

    pages.enter_code(page, random_wrong_code())
    directory.sync()

    assert not pages.is_signed_in(page, REDIRECT_URI)
    assert directory.slapd.locked_time(user.dn)


def test_a_permanent_directory_lock_is_offered_no_code(new_page: Any, directory: Directory) -> None:
    user = enrol_directory_user(directory, new_page)
    directory.slapd.replace(user.dn, pwdAccountLockedTime=PERMANENT)
    directory.sync("--full")
    page = new_page()

    pages.sign_in_with_password(page, directory.stack.login_url, user.uid, user.password)

    assert not pages.on_code_page(page)
    assert pages.on_login_form(page) and pages.login_message(page)
    assert directory.slapd.locked_time(user.dn) == PERMANENT
