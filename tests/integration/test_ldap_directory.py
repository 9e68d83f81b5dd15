"""Directory attribute semantics per profile, on recorded entries (no server needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bridge.ldap.account import DirectoryAccount, LockInfo, MalformedEntry, PasswordPolicy
from bridge.ldap.profiles import (
    ActiveDirectoryProfile,
    DS389Profile,
    FreeIPAProfile,
    OpenLDAPProfile,
    profile_for,
)
from bridge.ldap.values import ad_interval, filetime_to_datetime, parse_generalized_time

NOW = datetime(2026, 11, 25, 18, 45, 0, tzinfo=UTC)
DEFAULT = "cn=default,ou=policies,dc=example,dc=org"
SHORT = "cn=short,ou=policies,dc=example,dc=org"
POLICIES = {
    DEFAULT: PasswordPolicy(lockout=True, duration=None, max_failures=3),
    SHORT: PasswordPolicy(lockout=True, duration=timedelta(seconds=300), max_failures=3),
}


def _raw(**attrs: str | bytes | list[str]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for name, value in attrs.items():
        values = value if isinstance(value, list) else [value]
        out[name.replace("_", "-")] = [v if isinstance(v, bytes) else v.encode() for v in values]
    return out


def _openldap(raw: dict[str, list[bytes]], policies: dict | None = None) -> DirectoryAccount:
    profile = OpenLDAPProfile()
    names = profile.attribute_names(ldap_id="", username="", mail="mail", mobile="mobile")
    return profile.parse(
        "uid=alice,ou=people,dc=example,dc=org",
        raw,
        names,
        policies=POLICIES if policies is None else policies,
        default_policy_dn=DEFAULT,
        now=NOW,
    )


ALICE = {
    "entryUUID": "7f0a1c52-1111-4a8e-9a41-0f6a3c1d9b21",
    "uid": "alice",
    "mail": "alice@example.org",
    "mobile": "+15550100",
}


# --- OpenLDAP --------------------------------------------------------------------------------


def test_openldap_entry_without_lock_attribute_is_not_locked() -> None:
    account = _openldap(_raw(**ALICE))
    assert account.lock.kind == "none"
    assert (account.username, account.email, account.mobile) == ("alice", "alice@example.org", "+15550100")


def test_openldap_permanent_marker_is_a_permanent_lock() -> None:
    account = _openldap(_raw(**ALICE, pwdAccountLockedTime="000001010000Z"))
    assert account.lock.kind == "permanent"
    assert not account.lock.clearable


def test_openldap_lock_under_policy_without_duration_is_permanent() -> None:
    account = _openldap(_raw(**ALICE, pwdAccountLockedTime="20261125184000Z"))
    assert account.lock.kind == "permanent"


def test_openldap_running_temporary_lock_expires_after_policy_duration() -> None:
    raw = _raw(**ALICE, pwdAccountLockedTime="20261125184300Z", pwdPolicySubentry=SHORT)
    lock = _openldap(raw).lock
    assert lock.kind == "temporary"
    assert lock.expires_at == datetime(2026, 11, 25, 18, 48, 0, tzinfo=UTC)
    assert lock.clearable


def test_openldap_expired_lock_still_present_on_the_entry_is_not_locked() -> None:
    raw = _raw(**ALICE, pwdAccountLockedTime="20261125183000Z", pwdPolicySubentry=SHORT)
    assert _openldap(raw).lock.kind == "none"


def test_openldap_policy_without_lockout_ignores_the_lock_time() -> None:
    policies = {DEFAULT: PasswordPolicy(lockout=False, duration=None)}
    assert _openldap(_raw(**ALICE, pwdAccountLockedTime="20261125184000Z"), policies).lock.kind == "none"


def test_openldap_unknown_policy_is_read_as_locked_until_reset() -> None:
    assert _openldap(_raw(**ALICE, pwdAccountLockedTime="20261125184000Z"), {}).lock.kind == "permanent"


def test_openldap_policy_entry_is_parsed_from_ppolicy_attributes() -> None:
    policy = OpenLDAPProfile().parse_policy(
        _raw(pwdLockout="TRUE", pwdLockoutDuration="120", pwdMaxFailure="3")
    )
    assert policy == PasswordPolicy(lockout=True, duration=timedelta(seconds=120), max_failures=3)
    assert OpenLDAPProfile().parse_policy(_raw(pwdLockout="TRUE", pwdLockoutDuration="0")).duration is None


def test_openldap_unlock_deletes_exactly_the_applied_lock_value() -> None:
    lock = LockInfo("temporary", NOW, "20261125184300Z")
    assert OpenLDAPProfile().unlock_changes(lock) == {
        "pwdAccountLockedTime": [("MODIFY_DELETE", ["20261125184300Z"])]
    }


def test_openldap_never_offers_to_clear_a_permanent_lock() -> None:
    assert OpenLDAPProfile().unlock_changes(LockInfo("permanent", None, "000001010000Z")) is None


def test_attribute_names_match_case_insensitively() -> None:
    raw = {"ENTRYUUID": [b"abc"], "Mail": [b"a@example.org"], "UID": [b"alice"]}
    account = _openldap(raw)
    assert (account.ldap_id, account.email, account.username) == ("abc", "a@example.org", "alice")


def test_entry_without_id_is_malformed() -> None:
    with pytest.raises(MalformedEntry):
        _openldap(_raw(uid="alice"))


def test_entry_with_unparsable_lock_time_is_malformed() -> None:
    with pytest.raises(MalformedEntry):
        _openldap(_raw(**ALICE, pwdAccountLockedTime="yesterday"))


def test_entry_with_non_utf8_mail_is_malformed() -> None:
    raw = _raw(**ALICE)
    raw["mail"] = [b"\xff\xfe"]
    with pytest.raises(MalformedEntry):
        _openldap(raw)


def test_fingerprint_ignores_attributes_that_are_not_synced() -> None:
    plain = _openldap(_raw(**ALICE))
    noisy = _openldap(_raw(**ALICE, pwdFailureTime=["20261125184000.1Z"], modifyTimestamp="20261125184000Z"))
    assert plain.fingerprint() == noisy.fingerprint()


def test_fingerprint_changes_with_the_mail_address() -> None:
    changed = dict(ALICE, mail="alice.new@example.org")
    assert _openldap(_raw(**ALICE)).fingerprint() != _openldap(_raw(**changed)).fingerprint()


# --- time values -----------------------------------------------------------------------------


def test_generalized_time_accepts_fractions_and_offsets() -> None:
    assert parse_generalized_time("20261125184332.371855Z") == datetime(
        2026, 11, 25, 18, 43, 32, 371855, tzinfo=UTC
    )
    assert parse_generalized_time("20261125204332+0200") == datetime(2026, 11, 25, 18, 43, 32, tzinfo=UTC)


def test_filetime_zero_means_not_locked_and_ticks_count_from_1601() -> None:
    assert filetime_to_datetime(0) is None
    assert filetime_to_datetime(116444736000000000) == datetime(
        1970, 1, 1, tzinfo=UTC
    )  # well-known Unix epoch


def test_ad_interval_forever_means_until_an_admin_unlocks() -> None:
    assert ad_interval(-(2**63)) is None
    assert ad_interval(0) is None
    assert ad_interval(-18_000_000_000) == timedelta(minutes=30)


# --- Active Directory ------------------------------------------------------------------------

AD_DOMAIN = "dc=corp,dc=example"
AD_POLICIES = {AD_DOMAIN: PasswordPolicy(lockout=True, duration=timedelta(minutes=30), max_failures=5)}
GUID = uuid.UUID("8f3c2a1e-5b6d-4c7e-9f80-a1b2c3d4e5f6")


def _filetime(value: datetime) -> str:
    return str(int((value - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000))


def _ad(**attrs: str | bytes) -> DirectoryAccount:
    profile = ActiveDirectoryProfile()
    names = profile.attribute_names(ldap_id="", username="", mail="mail", mobile="mobile")
    raw = _raw(objectGUID=GUID.bytes_le, sAMAccountName="alice", mail="alice@corp.example", **attrs)
    return profile.parse(
        "cn=Alice,ou=Users,dc=corp,dc=example",
        raw,
        names,
        policies=AD_POLICIES,
        default_policy_dn=AD_DOMAIN,
        now=NOW,
    )


def test_ad_object_guid_is_spelled_like_keycloaks_ldap_id() -> None:
    assert _ad(userAccountControl="512").ldap_id == str(GUID)


def test_ad_disable_bit_is_a_disabled_account() -> None:
    lock = _ad(userAccountControl="514").lock
    assert lock.kind == "disabled"
    assert ActiveDirectoryProfile().unlock_changes(lock) is None


def test_ad_lockout_within_duration_is_a_temporary_lock() -> None:
    lock = _ad(userAccountControl="512", lockoutTime=_filetime(NOW - timedelta(minutes=10))).lock
    assert lock.kind == "temporary"
    assert lock.expires_at == NOW + timedelta(minutes=20)
    assert ActiveDirectoryProfile().unlock_changes(lock) == {"lockoutTime": [("MODIFY_REPLACE", ["0"])]}


def test_ad_expired_lockout_time_still_present_is_not_locked() -> None:
    assert _ad(userAccountControl="512", lockoutTime=_filetime(NOW - timedelta(hours=2))).lock.kind == "none"


def test_ad_lockout_time_zero_is_not_locked() -> None:
    assert _ad(userAccountControl="512", lockoutTime="0").lock.kind == "none"


def test_ad_computed_attribute_without_lockout_bit_overrides_lockout_time() -> None:
    lock = _ad(
        userAccountControl="512",
        lockoutTime=_filetime(NOW - timedelta(minutes=1)),
        **{"msDS_User_Account_Control_Computed": "0"},
    ).lock
    assert lock.kind == "none"


def test_ad_fine_grained_policy_duration_wins_over_the_domain() -> None:
    pso = ActiveDirectoryProfile().parse_policy(
        _raw(**{"msDS_LockoutDuration": "-6000000000", "msDS_LockoutThreshold": "3"})
    )
    assert pso == PasswordPolicy(lockout=True, duration=timedelta(minutes=10), max_failures=3)


def test_ad_domain_without_threshold_never_locks() -> None:
    assert (
        not ActiveDirectoryProfile()
        .parse_policy(_raw(lockoutDuration="-18000000000", lockoutThreshold="0"))
        .lockout
    )


# --- 389-DS ----------------------------------------------------------------------------------


def _ds389(**attrs: str) -> LockInfo:
    profile = DS389Profile()
    names = profile.attribute_names(ldap_id="", username="", mail="mail", mobile="mobile")
    raw = _raw(nsUniqueId="a1b2c3d4-11111111-22222222-33333333", uid="alice", **attrs)
    return profile.parse(
        "uid=alice,ou=people,dc=example,dc=org", raw, names, policies={}, default_policy_dn="", now=NOW
    ).lock


def test_389_ns_account_lock_is_a_disabled_account() -> None:
    assert _ds389(nsAccountLock="true").kind == "disabled"


def test_389_future_account_unlock_time_is_a_temporary_lock_until_then() -> None:
    lock = _ds389(accountUnlockTime="20261125190000Z")
    assert (lock.kind, lock.expires_at) == ("temporary", datetime(2026, 11, 25, 19, tzinfo=UTC))


def test_389_past_account_unlock_time_is_not_locked() -> None:
    assert _ds389(accountUnlockTime="20261125180000Z").kind == "none"


def test_389_epoch_unlock_time_is_locked_until_reset() -> None:
    assert _ds389(accountUnlockTime="19700101000000Z").kind == "permanent"


# --- FreeIPA ---------------------------------------------------------------------------------

IPA_POLICY = "cn=global_policy,cn=EXAMPLE.ORG,cn=kerberos,dc=example,dc=org"


def _ipa(**attrs: str) -> LockInfo:
    profile = FreeIPAProfile()
    names = profile.attribute_names(ldap_id="", username="", mail="mail", mobile="mobile")
    raw = _raw(ipaUniqueID="5a9b1c2d-0000-4000-8000-000000000001", uid="alice", **attrs)
    policies = {IPA_POLICY: PasswordPolicy(lockout=True, duration=timedelta(minutes=10), max_failures=6)}
    return profile.parse(
        "uid=alice,cn=users,cn=accounts,dc=example,dc=org",
        raw,
        names,
        policies=policies,
        default_policy_dn=IPA_POLICY,
        now=NOW,
    ).lock


def test_ipa_ns_account_lock_is_a_disabled_account() -> None:
    assert _ipa(nsAccountLock="TRUE").kind == "disabled"


def test_ipa_failures_at_max_within_lockout_duration_are_a_temporary_lock() -> None:
    lock = _ipa(krbLoginFailedCount="6", krbLastFailedAuth="20261125184000Z")
    assert (lock.kind, lock.expires_at) == ("temporary", datetime(2026, 11, 25, 18, 50, tzinfo=UTC))


def test_ipa_admin_unlock_after_last_failure_is_not_locked() -> None:
    lock = _ipa(
        krbLoginFailedCount="6", krbLastFailedAuth="20261125184000Z", krbLastAdminUnlock="20261125184100Z"
    )
    assert lock.kind == "none"


def test_ipa_failures_below_max_are_not_locked() -> None:
    assert _ipa(krbLoginFailedCount="2", krbLastFailedAuth="20261125184000Z").kind == "none"


def test_ipa_profile_never_writes_to_the_directory() -> None:
    assert FreeIPAProfile().unlock_changes(LockInfo("temporary", NOW, "x")) is None
    assert FreeIPAProfile().lock_changes(NOW) is None


def test_unknown_profile_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown directory profile"):
        profile_for("novell")
