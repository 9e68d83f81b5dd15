"""The least-privilege sync account of docs/ldap-sync.md, against the real slapd (ACL from the fixture)."""

from __future__ import annotations

import pytest
from ldap3 import MODIFY_DELETE, MODIFY_REPLACE, Connection, Server

pytestmark = pytest.mark.ldap


def _as_sync(slapd) -> Connection:
    return Connection(Server(slapd.url), slapd.sync_dn, slapd.sync_pw, auto_bind=True)


def test_three_bad_binds_lock_the_entry(slapd, ldap_user) -> None:
    user = ldap_user()
    slapd.bad_binds(user.dn, 3)
    assert slapd.locked_time(user.dn) is not None
    assert not slapd.bind(user.dn, user.password)


def test_sync_account_reads_lock_state_and_contacts(slapd, ldap_user) -> None:
    user = ldap_user()
    slapd.bad_binds(user.dn, 3)
    conn = _as_sync(slapd)
    conn.search(user.dn, "(objectClass=*)", "BASE", attributes=["entryUUID", "mail", "pwdAccountLockedTime"])
    raw = conn.response[0]["raw_attributes"]
    assert raw["entryUUID"] and raw["mail"] and raw["pwdAccountLockedTime"]


def test_sync_account_can_clear_a_lock(slapd, ldap_user) -> None:
    user = ldap_user()
    slapd.bad_binds(user.dn, 3)
    conn = _as_sync(slapd)
    assert conn.modify(user.dn, {"pwdAccountLockedTime": [(MODIFY_DELETE, [slapd.locked_time(user.dn)])]})
    assert slapd.bind(user.dn, user.password)


def test_sync_account_cannot_change_contacts(slapd, ldap_user) -> None:
    user = ldap_user()
    conn = _as_sync(slapd)
    assert not conn.modify(user.dn, {"mobile": [(MODIFY_REPLACE, ["+15550199"])]})
    assert conn.result["result"] == 50  # insufficientAccessRights


def test_sync_account_cannot_read_passwords(slapd, ldap_user) -> None:
    user = ldap_user()
    conn = _as_sync(slapd)
    conn.search(user.dn, "(objectClass=*)", "BASE", attributes=["userPassword"])
    assert not conn.response[0]["raw_attributes"].get("userPassword")
