"""The directory dialects: which attributes each one reads, how it spells a lock, how one is lifted.

Pure logic, no I/O: the sync hands in raw attribute values (bytes, as the server sent them) and the
password policies it read, and gets back a :class:`~bridge.ldap.account.DirectoryAccount`. Keeping
this apart from ldap3 lets the AD and 389-DS/FreeIPA rules be tested on recorded entries without
those servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bridge.ldap.account import (
    NOT_LOCKED,
    AttributeNames,
    DirectoryAccount,
    LockInfo,
    MalformedEntry,
    PasswordPolicy,
)
from bridge.ldap.values import (
    RawEntry,
    ad_interval,
    all_values,
    decode_object_guid,
    filetime_to_datetime,
    first_int,
    first_text,
    format_generalized_time,
    is_true,
    parse_generalized_time,
)

OPENLDAP_PERMANENT = "000001010000Z"
DS389_PERMANENT = "19700101000000Z"  # 389-DS writes this when passwordUnlock is off (locked until reset)
AD_DISABLED = 0x2
AD_COMPUTED_LOCKOUT = 0x10


def _temporary_or_running(
    locked_at: datetime, policy: PasswordPolicy, now: datetime, value: str, reason: str
) -> LockInfo:
    if policy.duration is None:
        return LockInfo("permanent", None, value, reason + " (policy: until an administrator resets it)")
    expires_at = locked_at + policy.duration
    if expires_at <= now:
        return NOT_LOCKED
    return LockInfo("temporary", expires_at, value, reason)


class Profile:
    """One directory dialect: which attributes to read, how they spell a lock, how to clear one."""

    name = "generic"
    default_id_attribute = "entryUUID"
    default_username_attribute = "uid"
    change_marker_attribute = "modifyTimestamp"  # de-duplicates entries re-read in the overlap window
    lock_attributes: tuple[str, ...] = ()
    policy_attributes: tuple[str, ...] = ()
    policy_reference_attribute: str | None = None

    def attribute_names(self, *, ldap_id: str, username: str, mail: str, mobile: str) -> AttributeNames:
        return AttributeNames(
            ldap_id=ldap_id or self.default_id_attribute,
            username=username or self.default_username_attribute,
            mail=mail or "mail",
            mobile=mobile or "mobile",
        )

    def policy_dn(self, raw: RawEntry, default_dn: str) -> str | None:
        """DN of the lockout policy governing this entry (its own reference, else the default)."""
        if self.policy_reference_attribute:
            own = first_text(raw, self.policy_reference_attribute)
            if own:
                return own
        return default_dn or None

    def parse_policy(self, raw: RawEntry) -> PasswordPolicy:
        return PasswordPolicy()

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        return NOT_LOCKED

    def unlock_changes(self, lock: LockInfo) -> dict[str, list[tuple[str, list[str]]]] | None:
        """ldap3 modify changes that lift exactly this temporary lock; None if the profile cannot."""
        return None

    def lock_changes(self, now: datetime) -> dict[str, list[tuple[str, list[str]]]] | None:
        """ldap3 modify changes that start a failed-login lock; None if the profile has no such write."""
        return None

    def parse(
        self,
        dn: str,
        raw: RawEntry,
        names: AttributeNames,
        *,
        policies: Mapping[str, PasswordPolicy | None],
        default_policy_dn: str,
        now: datetime,
    ) -> DirectoryAccount:
        """Turn one entry into an account; raises :class:`MalformedEntry` for entries to skip."""
        ldap_id = self.read_id(raw, names.ldap_id)
        policy_dn = self.policy_dn(raw, default_policy_dn)
        policy = policies.get(policy_dn) if policy_dn else None
        return DirectoryAccount(
            ldap_id=ldap_id,
            dn=dn,
            username=first_text(raw, names.username),
            email=first_text(raw, names.mail),
            mobile=first_text(raw, names.mobile),
            lock=self.lock(raw, policy, now),
        )

    def read_id(self, raw: RawEntry, attribute: str) -> str:
        value = first_text(raw, attribute)
        if not value:
            raise MalformedEntry(f"{attribute}: missing")
        if len(value) > 64:
            raise MalformedEntry(f"{attribute}: longer than 64 characters")
        return value


class OpenLDAPProfile(Profile):
    """slapo-ppolicy: ``pwdAccountLockedTime`` plus the user's policy (``pwdPolicySubentry`` or default)."""

    name = "openldap"
    change_marker_attribute = "entryCSN"
    lock_attributes = ("pwdAccountLockedTime", "pwdPolicySubentry")
    policy_attributes = ("pwdLockout", "pwdLockoutDuration", "pwdMaxFailure")
    policy_reference_attribute = "pwdPolicySubentry"

    def parse_policy(self, raw: RawEntry) -> PasswordPolicy:
        duration = first_int(raw, "pwdLockoutDuration") or 0
        return PasswordPolicy(
            lockout=is_true(raw, "pwdLockout"),
            duration=timedelta(seconds=duration) if duration > 0 else None,
            max_failures=first_int(raw, "pwdMaxFailure") or 0,
        )

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        value = first_text(raw, "pwdAccountLockedTime")
        if value is None:
            return NOT_LOCKED
        if value == OPENLDAP_PERMANENT:
            return LockInfo("permanent", None, value, "directory administrator lock")
        locked_at = parse_generalized_time(value)
        if policy is None:
            # Policy unreadable or unknown: the safe reading is "locked until an administrator resets it".
            return LockInfo("permanent", None, value, "directory lock (policy unknown)")
        if not policy.lockout:
            return NOT_LOCKED  # slapo-ppolicy ignores pwdAccountLockedTime when pwdLockout is FALSE
        return _temporary_or_running(locked_at, policy, now, value, "directory lock after failed logins")

    def unlock_changes(self, lock: LockInfo) -> dict[str, list[tuple[str, list[str]]]] | None:
        if not lock.clearable or not lock.value:
            return None
        # Deleting the exact value fails (noSuchAttribute) if an admin replaced it meanwhile.
        return {"pwdAccountLockedTime": [("MODIFY_DELETE", [lock.value])]}

    def lock_changes(self, now: datetime) -> dict[str, list[tuple[str, list[str]]]] | None:
        # A lock time of "now" is judged by the directory's own policy (its duration),
        # exactly like a lock after failed logins.
        return {"pwdAccountLockedTime": [("MODIFY_REPLACE", [format_generalized_time(now)])]}


class ActiveDirectoryProfile(Profile):
    """AD: disable bit 0x2 in userAccountControl; ``lockoutTime`` (FILETIME) plus the lockout duration."""

    name = "active-directory"
    default_id_attribute = "objectGUID"
    default_username_attribute = "sAMAccountName"
    change_marker_attribute = "uSNChanged"
    lock_attributes = (
        "userAccountControl",
        "lockoutTime",
        "msDS-User-Account-Control-Computed",
        "msDS-ResultantPSO",
    )
    policy_attributes = (
        "lockoutDuration",
        "lockoutThreshold",
        "msDS-LockoutDuration",
        "msDS-LockoutThreshold",
    )
    policy_reference_attribute = "msDS-ResultantPSO"

    def read_id(self, raw: RawEntry, attribute: str) -> str:
        if attribute.lower() != "objectguid":
            return super().read_id(raw, attribute)
        values = all_values(raw, attribute)
        if not values:
            raise MalformedEntry("objectGUID: missing")
        return decode_object_guid(values[0])

    def parse_policy(self, raw: RawEntry) -> PasswordPolicy:
        duration = first_int(raw, "msDS-LockoutDuration")
        threshold = first_int(raw, "msDS-LockoutThreshold")
        if duration is None:
            duration = first_int(raw, "lockoutDuration")
        if threshold is None:
            threshold = first_int(raw, "lockoutThreshold")
        return PasswordPolicy(
            lockout=bool(threshold),
            duration=ad_interval(duration or 0),
            max_failures=threshold or 0,
        )

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        uac = first_int(raw, "userAccountControl") or 0
        if uac & AD_DISABLED:
            return LockInfo("disabled", None, "userAccountControl", "directory account disabled")
        ticks = first_int(raw, "lockoutTime") or 0
        locked_at = filetime_to_datetime(ticks)
        if locked_at is None:
            return NOT_LOCKED
        computed = first_int(raw, "msDS-User-Account-Control-Computed")
        if computed is not None and not computed & AD_COMPUTED_LOCKOUT:
            return NOT_LOCKED  # AD did the expiry computation itself: the lockout has elapsed
        if policy is None:
            return LockInfo("permanent", None, str(ticks), "directory lockout (policy unknown)")
        return _temporary_or_running(
            locked_at, policy, now, str(ticks), "directory lockout after failed logins"
        )

    def unlock_changes(self, lock: LockInfo) -> dict[str, list[tuple[str, list[str]]]] | None:
        if not lock.clearable:
            return None
        return {"lockoutTime": [("MODIFY_REPLACE", ["0"])]}  # the "unlock account" delegation


class DS389Profile(Profile):
    """389-DS: ``nsAccountLock`` (admin inactivation) and ``accountUnlockTime`` (failed-login lockout)."""

    name = "389ds"
    default_id_attribute = "nsUniqueId"
    lock_attributes = ("nsAccountLock", "accountUnlockTime")

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        if is_true(raw, "nsAccountLock"):
            return LockInfo("disabled", None, "nsAccountLock", "directory account inactivated")
        value = first_text(raw, "accountUnlockTime")
        if value is None:
            return NOT_LOCKED
        if value == DS389_PERMANENT:
            return LockInfo("permanent", None, value, "directory lockout until an administrator resets it")
        unlock_at = parse_generalized_time(value)
        if unlock_at <= now:
            return NOT_LOCKED
        return LockInfo("temporary", unlock_at, value, "directory lockout after failed logins")

    def unlock_changes(self, lock: LockInfo) -> dict[str, list[tuple[str, list[str]]]] | None:
        if not lock.clearable or not lock.value:
            return None
        return {
            "accountUnlockTime": [("MODIFY_DELETE", [lock.value])],
            "passwordRetryCount": [("MODIFY_REPLACE", ["0"])],
        }


class FreeIPAProfile(Profile):
    """FreeIPA: ``nsAccountLock`` disables; lockout is Kerberos-side (krbLoginFailedCount + policy).

    Unlocking goes through the IPA API (``ipa user-unlock``), never raw ``krb*`` writes, so this
    profile reads only.
    """

    name = "freeipa"
    default_id_attribute = "ipaUniqueID"
    lock_attributes = (
        "nsAccountLock",
        "krbLoginFailedCount",
        "krbLastFailedAuth",
        "krbLastAdminUnlock",
        "krbPwdPolicyReference",
    )
    policy_attributes = ("krbPwdMaxFailure", "krbPwdLockoutDuration")
    policy_reference_attribute = "krbPwdPolicyReference"

    def parse_policy(self, raw: RawEntry) -> PasswordPolicy:
        max_failures = first_int(raw, "krbPwdMaxFailure") or 0
        duration = first_int(raw, "krbPwdLockoutDuration") or 0
        return PasswordPolicy(
            lockout=max_failures > 0,
            duration=timedelta(seconds=duration) if duration > 0 else None,
            max_failures=max_failures,
        )

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        if is_true(raw, "nsAccountLock"):
            return LockInfo("disabled", None, "nsAccountLock", "directory account disabled")
        failures = first_int(raw, "krbLoginFailedCount") or 0
        last_failed_text = first_text(raw, "krbLastFailedAuth")
        if not failures or last_failed_text is None:
            return NOT_LOCKED
        last_failed = parse_generalized_time(last_failed_text)
        admin_unlock_text = first_text(raw, "krbLastAdminUnlock")
        if admin_unlock_text and parse_generalized_time(admin_unlock_text) >= last_failed:
            return NOT_LOCKED
        if policy is None:
            return NOT_LOCKED  # without a policy IPA's lockout plugin does not lock either
        if not policy.lockout or failures < policy.max_failures:
            return NOT_LOCKED
        return _temporary_or_running(last_failed, policy, now, last_failed_text, "Kerberos lockout")


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (OpenLDAPProfile(), ActiveDirectoryProfile(), DS389Profile(), FreeIPAProfile())
}


def profile_for(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown directory profile {name!r}: use one of {', '.join(PROFILES)}") from None
