"""What a directory entry says about a user: identity, contacts and lock state, per directory profile.

Pure logic, no I/O: ``ldap_sync`` hands in raw attribute values (bytes, as the server sent them) and
the password policies it read, and gets back a :class:`DirectoryAccount`. Keeping this apart from
ldap3 lets the AD and 389-DS/FreeIPA rules be tested on recorded entries without those servers.

Two rules shape everything here (docs/ldap-sync.md, reference ldap.md §0):

* A lock attribute being present does not mean the account is locked *now*: OpenLDAP and AD keep the
  lock timestamp after a temporary lock has expired, until the next bind. The lock is computed from
  the timestamp plus the policy's duration.
* An administrator's lock (OpenLDAP ``000001010000Z`` or a policy without a duration, AD disable bit,
  ``nsAccountLock``) is "permanent" and must never be written away by the bridge; only temporary
  failed-login locks are "temporary" and clearable.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

LockKind = Literal["none", "temporary", "permanent", "disabled"]
RawEntry = Mapping[str, Sequence[bytes]]

OPENLDAP_PERMANENT = "000001010000Z"
DS389_PERMANENT = "19700101000000Z"  # 389-DS writes this when passwordUnlock is off (locked until reset)
AD_DISABLED = 0x2
AD_COMPUTED_LOCKOUT = 0x10
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_AD_NEVER = -(2**63)  # lockoutDuration "forever": locked until an administrator unlocks
_GENERALIZED_TIME = re.compile(
    r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?P<h>\d{2})(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?:[.,](?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}(?:\d{2})?)$"
)


class MalformedEntry(ValueError):
    """An entry cannot be read (missing id, undecodable or unparsable value): skip it, never stop the sync."""


@dataclass(frozen=True)
class LockInfo:
    """The directory lock as it stands at the time of parsing (an expired lock is ``none``).

    ``value`` is the raw lock marker (lock time, FILETIME ticks, unlock time) so the sync can tell a
    new lock from the one it already applied, and can delete exactly that value when clearing it.
    """

    kind: LockKind = "none"
    expires_at: datetime | None = None
    value: str | None = None
    reason: str = ""

    @property
    def locked(self) -> bool:
        return self.kind != "none"

    @property
    def clearable(self) -> bool:
        """Only failed-login locks may be lifted by the bridge; admin locks and disables never."""
        return self.kind == "temporary"


NOT_LOCKED = LockInfo()


@dataclass(frozen=True)
class PasswordPolicy:
    """The parts of a lockout policy the effective-lock rule needs.

    ``duration`` None means "locked until an administrator resets it".
    """

    lockout: bool = True
    duration: timedelta | None = None
    max_failures: int = 0


@dataclass(frozen=True)
class DirectoryAccount:
    ldap_id: str
    dn: str
    username: str | None
    email: str | None
    mobile: str | None
    lock: LockInfo = field(default=NOT_LOCKED)

    def synced_state(self) -> dict[str, str | None]:
        """The attributes the sync mirrors; everything else (failure counters, timestamps) is noise."""
        return {
            "dn": self.dn,
            "username": self.username,
            "email": self.email,
            "mobile": self.mobile,
            "lock_kind": self.lock.kind,
            "lock_value": self.lock.value,
            "lock_expires_at": self.lock.expires_at.isoformat() if self.lock.expires_at else None,
        }

    def fingerprint(self) -> str:
        """Hash of :meth:`synced_state`, stored per entry so unchanged entries cost no writes."""
        text = json.dumps(self.synced_state(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AttributeNames:
    """Which LDAP attributes hold the id, the username and the contacts (configurable per deployment)."""

    ldap_id: str
    username: str
    mail: str = "mail"
    mobile: str = "mobile"


# ---------------------------------------------------------------------------------------------
# Value parsing


def _values(raw: RawEntry, name: str) -> Sequence[bytes]:
    """Case-insensitive attribute lookup: servers echo attribute names in their own spelling."""
    direct = raw.get(name)  # ldap3 hands in a case-insensitive dict: the fast path
    if direct is not None:
        return direct or ()
    lowered = name.lower()
    for key, values in raw.items():
        if key.lower() == lowered:
            return values or ()
    return ()


def first_text(raw: RawEntry, name: str) -> str | None:
    values = _values(raw, name)
    if not values:
        return None
    value = values[0]
    if isinstance(value, str):
        text = value
    else:
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEntry(f"{name}: not UTF-8") from None
    text = text.strip()
    return text or None


def _first_int(raw: RawEntry, name: str) -> int | None:
    text = first_text(raw, name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise MalformedEntry(f"{name}: not an integer") from None


def _is_true(raw: RawEntry, name: str) -> bool:
    text = first_text(raw, name)
    return text is not None and text.upper() == "TRUE"


def parse_generalized_time(text: str) -> datetime:
    """RFC 4517 GeneralizedTime (``20261125184332Z``, fractions, offsets) as aware UTC."""
    match = _GENERALIZED_TIME.match(text.strip())
    if not match:
        raise MalformedEntry(f"not a GeneralizedTime: {text!r}")
    parts = match.groupdict()
    try:
        value = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"]),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int((parts["frac"] or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        raise MalformedEntry(f"not a valid date: {text!r}") from None
    tz = parts["tz"]
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5] or 0))
        value -= sign * offset
    return value


def format_generalized_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def filetime_to_datetime(ticks: int) -> datetime | None:
    """AD FILETIME (100 ns since 1601-01-01 UTC); 0 means "never"."""
    if ticks <= 0:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def ad_interval(ticks: int) -> timedelta | None:
    """AD stores durations as negative 100 ns intervals; 0 or the minimum int64 mean "until an admin"."""
    if ticks in (0, _AD_NEVER):
        return None
    return timedelta(microseconds=abs(ticks) // 10)


def decode_object_guid(value: bytes) -> str:
    """objectGUID as Keycloak's LDAP_ID spells it: the GUID string (first three groups little-endian)."""
    if len(value) == 16:
        return str(uuid.UUID(bytes_le=bytes(value)))
    try:
        return str(uuid.UUID(bytes(value).decode("ascii")))
    except (UnicodeDecodeError, ValueError):
        raise MalformedEntry("objectGUID: neither 16 bytes nor a GUID string") from None


# ---------------------------------------------------------------------------------------------
# Profiles


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
        duration = _first_int(raw, "pwdLockoutDuration") or 0
        return PasswordPolicy(
            lockout=_is_true(raw, "pwdLockout"),
            duration=timedelta(seconds=duration) if duration > 0 else None,
            max_failures=_first_int(raw, "pwdMaxFailure") or 0,
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
        values = _values(raw, attribute)
        if not values:
            raise MalformedEntry("objectGUID: missing")
        return decode_object_guid(values[0])

    def parse_policy(self, raw: RawEntry) -> PasswordPolicy:
        duration = _first_int(raw, "msDS-LockoutDuration")
        threshold = _first_int(raw, "msDS-LockoutThreshold")
        if duration is None:
            duration = _first_int(raw, "lockoutDuration")
        if threshold is None:
            threshold = _first_int(raw, "lockoutThreshold")
        return PasswordPolicy(
            lockout=bool(threshold),
            duration=ad_interval(duration or 0),
            max_failures=threshold or 0,
        )

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        uac = _first_int(raw, "userAccountControl") or 0
        if uac & AD_DISABLED:
            return LockInfo("disabled", None, "userAccountControl", "directory account disabled")
        ticks = _first_int(raw, "lockoutTime") or 0
        locked_at = filetime_to_datetime(ticks)
        if locked_at is None:
            return NOT_LOCKED
        computed = _first_int(raw, "msDS-User-Account-Control-Computed")
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
        if _is_true(raw, "nsAccountLock"):
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
        max_failures = _first_int(raw, "krbPwdMaxFailure") or 0
        duration = _first_int(raw, "krbPwdLockoutDuration") or 0
        return PasswordPolicy(
            lockout=max_failures > 0,
            duration=timedelta(seconds=duration) if duration > 0 else None,
            max_failures=max_failures,
        )

    def lock(self, raw: RawEntry, policy: PasswordPolicy | None, now: datetime) -> LockInfo:
        if _is_true(raw, "nsAccountLock"):
            return LockInfo("disabled", None, "nsAccountLock", "directory account disabled")
        failures = _first_int(raw, "krbLoginFailedCount") or 0
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
