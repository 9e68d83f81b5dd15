"""``BackupCodes``: the one place that combines codes, hashing, policy, lockout, rate limit, audit and mail.

The API, the CLI and the LDAP sync all go through this facade, so the security rules live here once:

* Codes are generated server-side, shown once, stored as per-code Argon2id hashes.
* A verification costs exactly one Argon2 evaluation, whatever the user, the number of codes or
  whether the code exists (a dummy hash stands in for a missing candidate). Only the refusals that
  need no secret — rate limited, malformed input, locked, busy — skip it, and they skip it *before*
  any hashing so they are cheap. ``busy`` (the user's other attempts still in flight fill the failure
  limit, see :mod:`bridge.service.lockout`) counts nothing and uses nothing: the caller may retry it.
* Single use is one conditional ``UPDATE … WHERE id = ? AND used_at IS NULL``: of any number of
  racing requests with one code exactly one sees rowcount 1.
* No write transaction is open while hashing, so the SQLite writer lock is held for milliseconds.
  An attempt is two short transactions, one before the hash (every check and refusal) and one after
  (consume, audit, mail), so the bridge adds little to the Argon2 cost it is sized by.
* Every change writes its audit event and its notification (outbox) in the same transaction.

Unknown users: the bridge keeps no row for a user it has never seen, and a verification does not
create one (that would let anyone fill the table with junk). Such attempts still cost one dummy Argon2
verification and an audit event, so they look and take the same as any failure; they are bounded by
the per-IP rate limit rather than a per-user counter, which would have nothing to protect.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, case, delete, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bridge.domain import codes, devices
from bridge.domain.hashing import CodeHasher
from bridge.service import lockout, ratelimit
from bridge.service import policy as policies
from bridge.service.lockout import Lock, LockState
from bridge.service.policy import Policy
from bridge.settings import Settings
from bridge.store import audit
from bridge.store.db import as_utc, insert_for, utcnow
from bridge.store.schema import codes as codes_table
from bridge.store.schema import contacts, locks, users
from bridge.store.schema import devices as devices_table

REASONS = ("ok", "invalid", "used", "unknown_user", "no_codes", "locked", "busy", "rate_limited", "malformed")
PURPOSES = ("login", "recovery")
CONTACT_SOURCES = ("api", "directory", "keycloak")
CONTACT_FIELDS = ("email", "phone", "locale", "display_name")
# Temporary locks a recovery code may lift: Keycloak's brute-force detection and the directory's
# failed-bind lockout. The bridge's own ``codes`` lock and every permanent lock are never lifted by it.
RECOVERABLE_SOURCES = ("directory", "keycloak")
RECOVERY_ACTOR = "recovery"
ID_MAX = 255
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,63}$")

Enqueue = Callable[..., int | None]
Clock = Callable[[], datetime]


class PermanentLockError(PermissionError):
    """``clear_lock`` was asked to lift a permanent lock without ``allow_permanent=True``."""


class DeviceRecognitionDisabled(RuntimeError):
    """No device cookie key is configured: no device can be registered or recognised."""


@dataclass(frozen=True)
class IssuedSet:
    codes: list[str]  # display form, shown to the user once and never stored
    set_id: str
    created_at: datetime

    @property
    def count(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str
    remaining: int = 0  # only on success: the count is not revealed to an unauthenticated caller
    low: bool = False
    enroll_required: bool = False
    locked_until: datetime | None = None
    cleared_locks: tuple[str, ...] = ()  # recovery only: the lock sources this success lifted

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "remaining": self.remaining,
            "low": self.low,
            "enroll_required": self.enroll_required,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "cleared_locks": list(self.cleared_locks),
        }


@dataclass(frozen=True)
class Status:
    remaining: int
    total: int
    created_at: datetime | None
    last_used_at: datetime | None
    low: bool
    enroll_required: bool
    lock: LockState
    enrolled: bool = False
    low_threshold: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "enrolled": self.enrolled,
            "remaining": self.remaining,
            "total": self.total,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "low": self.low,
            "low_threshold": self.low_threshold,
            "enroll_required": self.enroll_required,
            "lock": self.lock.to_dict(),
        }


@dataclass(frozen=True)
class Contact:
    email: str | None
    phone: str | None
    locale: str | None
    display_name: str | None
    source: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "phone": self.phone,
            "locale": self.locale,
            "display_name": self.display_name,
            "source": self.source,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class RegisteredDevice:
    device_id: str
    token: str  # the cookie value: handed to the caller once, never stored or logged
    name: str
    expires_at: datetime
    max_age_seconds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "token": self.token,
            "name": self.name,
            "expires_at": self.expires_at.isoformat(),
            "max_age_seconds": self.max_age_seconds,
        }


@dataclass(frozen=True)
class DeviceCheck:
    recognised: bool
    reason: str  # ok | invalid | expired | forgotten
    device_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"recognised": self.recognised, "device_id": self.device_id, "reason": self.reason}


@dataclass(frozen=True)
class Device:
    device_id: str
    name: str
    first_seen: datetime
    last_seen: datetime
    last_ip: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "name": self.name,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "last_ip": self.last_ip,
        }


@dataclass(frozen=True)
class _Candidate:
    """What the admission transaction learned, carried over the hashing step."""

    outcome: str
    policy: Policy  # read in the admission transaction; the result transaction uses the same one
    code_id: int | None = None
    code_hash: str | None = None
    code_used: bool = False
    set_id: str | None = None
    unused: int = 0
    enroll_required: bool = False
    batch: int = 0  # the in-flight batch a counted attempt settles with (bridge.service.lockout)


def _notify_module_enqueue(conn: Connection, **kwargs: Any) -> int | None:
    """Queue mail through ``bridge.notify`` when that module is installed (it ships separately)."""
    if importlib.util.find_spec("bridge.notify") is None:
        return None
    notify = importlib.import_module("bridge.notify")
    return notify.enqueue(conn, **kwargs)


class BackupCodes:
    """Facade over the store; build once per process (the Argon2 dummy hash is computed here)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        hasher: CodeHasher | None = None,
        enqueue: Enqueue | None = None,
        clock: Clock | None = None,
    ) -> None:
        Policy.defaults(settings)  # a default policy below the floors fails at start-up, not at login
        self.engine = engine
        self.settings = settings
        self.hasher = hasher or CodeHasher(settings)
        self._enqueue = enqueue or _notify_module_enqueue
        self._clock = clock or utcnow
        self._ip_limit = ratelimit.RateLimiter(
            limit=settings.ip_rate_limit, window=settings.ip_rate_window_seconds
        )

    # ------------------------------------------------------------------ issue / revoke

    def issue(
        self,
        realm: str,
        user_id: str,
        *,
        actor: str,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> IssuedSet:
        """Generate a new set, replacing any previous one in one transaction (old or new, never half)."""
        _check_ids(realm, user_id)
        client_ip = _canonical_ip(client_ip)
        pol = self.get_policy(realm)
        plain = codes.generate_set(pol.code_count, pol.code_length)
        now = self._clock()
        set_id = str(uuid.uuid4())
        # Hash before opening the transaction: ~18 ms per code must not hold the writer lock.
        rows = [
            {
                "realm": realm,
                "user_id": user_id,
                "set_id": set_id,
                "selector": codes.selector_of(code),
                "hash": self.hasher.hash(realm, user_id, code),
                "created_at": now,
                "used_at": None,
                "used_ip": None,
            }
            for code in plain
        ]
        with self.engine.begin() as conn:
            replaced = _delete_codes(conn, realm, user_id)
            _ensure_user(conn, realm, user_id, now, enroll_required=False)
            _insert_codes(conn, rows)
            if replaced:
                # The old set may be in the wrong hands: every remembered device has to ask again.
                self._forget_devices(conn, realm, user_id, actor=actor, reason="codes_regenerated", now=now)
            event = "regenerated" if replaced else "issued"
            audit.record(
                conn,
                event=event,
                realm=realm,
                user_id=user_id,
                actor=actor,
                client_ip=client_ip,
                user_agent=user_agent,
                details={"set_id": set_id, "count": len(rows), "replaced": replaced > 0},
                at=now,
            )
            self._notify(
                conn,
                realm,
                user_id,
                "codes_regenerated" if replaced else "codes_issued",
                {
                    "when": now.isoformat(),
                    "count": len(rows),
                    "client_ip": client_ip,
                    "user_agent": user_agent,
                },
            )
        return IssuedSet(codes=[codes.format_code(code) for code in plain], set_id=set_id, created_at=now)

    def revoke(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> bool:
        """Delete the user's set; False when there was none."""
        _check_ids(realm, user_id)
        now = self._clock()
        with self.engine.begin() as conn:
            removed = _delete_codes(conn, realm, user_id)
            if removed:
                audit.record(
                    conn,
                    event="revoked",
                    realm=realm,
                    user_id=user_id,
                    actor=actor,
                    details={"reason": reason, "count": removed},
                    at=now,
                )
        return removed > 0

    def helpdesk_reset(
        self, realm: str, user_id: str, *, actor: str, reason: str, identity_check: str
    ) -> None:
        """Revoke the set and require enrolment at next login, after the helpdesk checked the user's identity.

        The identity check is the point of the procedure, so it is mandatory and audited. The bridge's
        own failure counter and temporary lock go too: the person has been verified another way.
        """
        _check_ids(realm, user_id)
        if not actor or not actor.strip():
            raise ValueError("actor is required for a helpdesk reset")
        if not identity_check or not identity_check.strip():
            raise ValueError("identity_check is required for a helpdesk reset")
        now = self._clock()
        with self.engine.begin() as conn:
            removed = _delete_codes(conn, realm, user_id)
            _ensure_user(conn, realm, user_id, now, enroll_required=True)
            lockout.reset_after_success(conn, realm, user_id, now)
            self._forget_devices(conn, realm, user_id, actor=actor, reason="helpdesk_reset", now=now)
            audit.record(
                conn,
                event="helpdesk_reset",
                realm=realm,
                user_id=user_id,
                actor=actor,
                details={"reason": reason, "identity_check": identity_check, "codes_revoked": removed},
                at=now,
            )
            self._notify(conn, realm, user_id, "helpdesk_reset", {"when": now.isoformat()})

    # ------------------------------------------------------------------ verify

    def verify(
        self,
        realm: str,
        user_id: str,
        code: str,
        *,
        client_ip: str | None,
        user_agent: str | None = None,
        purpose: str = "login",
        keycloak_locked: bool = False,
    ) -> VerifyResult:
        """Check and consume one code; every failure is ``valid=False`` with a machine reason.

        ``purpose="recovery"`` (reset-credentials flow, lock recovery) is not refused by a temporary
        Keycloak or directory lock, and its success lifts those locks (``cleared_locks``), requires a new
        set and mails ``account_recovered``. ``keycloak_locked`` is the provider saying Keycloak's
        brute-force detection had the user locked (it lifts that lock itself); it only counts for recovery.
        """
        _check_ids(realm, user_id)
        client_ip = _canonical_ip(client_ip)
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}")
        now = self._clock()
        context = {
            "client_ip": client_ip,
            "user_agent": user_agent,
            "purpose": purpose,
            "keycloak_locked": bool(keycloak_locked) and purpose == "recovery",
        }

        try:
            canonical: str | None = codes.parse(code) if isinstance(code, str) else codes.parse("")
        except codes.MalformedCode:
            canonical = None  # refused inside the admission, after the rate limit has counted it
        admitted = self._admit(realm, user_id, canonical, context, now)
        if isinstance(admitted, VerifyResult):
            return admitted
        candidate = admitted
        assert canonical is not None  # a malformed code never gets past the admission

        # The one Argon2 evaluation of this attempt (dummy hash when there is no candidate row).
        matched = self._hash_in_flight(candidate, realm, user_id, canonical)
        with self.engine.begin() as conn:
            if matched and not candidate.code_used and _consume(conn, candidate.code_id, client_ip, now):
                return self._succeed(conn, realm, user_id, candidate, context, now)
            reason = _failure_reason(candidate, matched)
            return self._fail(conn, realm, user_id, candidate, reason, context, now)

    def _hash_in_flight(self, candidate: _Candidate, realm: str, user_id: str, canonical: str) -> bool:
        """Check the hash; if that raises, give the attempt's place in flight back before passing it on."""
        try:
            return self.hasher.verify(candidate.code_hash, realm, user_id, canonical)
        except BaseException:
            if candidate.outcome == lockout.COUNTED:
                # Best effort: if the database is gone too, the place expires (IN_FLIGHT_SECONDS).
                with contextlib.suppress(SQLAlchemyError), self.engine.begin() as conn:
                    lockout.release(conn, realm, user_id, candidate.batch)
            raise

    def _admit(
        self, realm: str, user_id: str, canonical: str | None, context: dict[str, Any], now: datetime
    ) -> _Candidate | VerifyResult:
        """Everything before the hash in one short write transaction: a refusal, or the candidate.

        The checks keep the documented order (rate limit, malformed input, lock, failure counter with
        the attempts in flight), and
        every refusal is decided here, before any hashing. One transaction instead of four is what keeps
        the per-attempt overhead small next to Argon2; it commits before the hash is checked, so no
        write transaction (and no SQLite writer lock) is ever held across Argon2. A refusal commits its
        rate-limit count and its audit event together.
        """
        with self.engine.begin() as conn:
            if not self._within_rate_limit(conn, realm, context["client_ip"], now):
                return VerifyResult(valid=False, reason="rate_limited")
            if canonical is None:
                _record_refusal(conn, realm, user_id, "malformed", context, now)
                return VerifyResult(valid=False, reason="malformed")
            pol = policies.load(conn, realm, self.settings)
            lock = _blocking_lock(conn, realm, user_id, now, context["purpose"])
            if lock.locked:
                _record_refusal(conn, realm, user_id, "locked", context, now)
                return VerifyResult(valid=False, reason="locked", locked_until=lock.until)
            admission = lockout.admit(conn, realm, user_id, max_failures=pol.max_failures, now=now)
            if admission.outcome == lockout.BUSY:
                # Not a failure and nothing used: the user's other attempts are still being checked.
                return VerifyResult(valid=False, reason="busy")
            if admission.outcome == lockout.LOCKED:
                # Only under a race: a concurrent attempt placed the lock after the lock read above.
                _record_refusal(conn, realm, user_id, "locked", context, now)
                lock = _blocking_lock(conn, realm, user_id, now, context["purpose"])
                return VerifyResult(valid=False, reason="locked", locked_until=lock.until)
            return _read_candidate(conn, realm, user_id, codes.selector_of(canonical), admission, pol)

    def _within_rate_limit(self, conn: Connection, realm: str, client_ip: str | None, now: datetime) -> bool:
        """Counted per realm and client: a realm's Keycloak (or its key) names the client address, so a
        shared count would let one realm spend the budget another realm's users sign in from."""
        client = ratelimit.client_key(client_ip, ipv6_prefix=self.settings.ip_rate_ipv6_prefix)
        decision = self._ip_limit.hit(conn, f"verify:{realm}:{client}", epoch_seconds=int(now.timestamp()))
        return decision.allowed

    def _succeed(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        candidate: _Candidate,
        context: dict[str, Any],
        now: datetime,
    ) -> VerifyResult:
        pol = candidate.policy
        lockout.reset_after_success(conn, realm, user_id, now, batch=_batch(candidate))
        remaining = _count_unused(conn, realm, user_id)
        low = remaining <= pol.low_threshold
        audit.record(
            conn,
            event="used",
            realm=realm,
            user_id=user_id,
            actor=user_id,
            client_ip=context["client_ip"],
            user_agent=context["user_agent"],
            details={"set_id": candidate.set_id, "remaining": remaining, "purpose": context["purpose"]},
            at=now,
        )
        if context["purpose"] == "recovery":
            cleared = self._recover(conn, realm, user_id, remaining, context, now)
            return VerifyResult(
                valid=True,
                reason="ok",
                remaining=remaining,
                low=low,
                enroll_required=True,
                cleared_locks=cleared,
            )
        self._notify(
            conn,
            realm,
            user_id,
            "code_used",
            {
                "when": now.isoformat(),
                "remaining": remaining,
                "client_ip": context["client_ip"],
                "user_agent": context["user_agent"],
            },
        )
        if remaining == pol.low_threshold:
            self._notify(
                conn, realm, user_id, "codes_low", {"remaining": remaining, "threshold": pol.low_threshold}
            )
        return VerifyResult(
            valid=True, reason="ok", remaining=remaining, low=low, enroll_required=candidate.enroll_required
        )

    def _recover(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        remaining: int,
        context: dict[str, Any],
        now: datetime,
    ) -> tuple[str, ...]:
        """A recovery succeeded: lift temporary Keycloak/directory locks, require a new set, tell the user.

        Deleting the ``directory`` row is what the LDAP sync's ``push_unlocks`` looks for to clear the
        lock in the directory too. NIST SP 800-63B-4 §4.2.1.1: a used recovery code is replaced by a new
        set, and account recovery always notifies the subscriber.
        """
        cleared = set(_delete_recoverable_locks(conn, realm, user_id, now))
        if context["keycloak_locked"]:
            cleared.add("keycloak")
        ordered = tuple(sorted(cleared))
        for source in ordered:
            audit.record(
                conn,
                event="unlocked",
                realm=realm,
                user_id=user_id,
                actor=RECOVERY_ACTOR,
                client_ip=context["client_ip"],
                user_agent=context["user_agent"],
                details={
                    "source": source,
                    "kind": lockout.TEMPORARY,
                    "reason": "account recovered with a backup code",
                },
                at=now,
            )
        _ensure_user(conn, realm, user_id, now, enroll_required=True)
        self._notify(
            conn,
            realm,
            user_id,
            "account_recovered",
            {
                "when": now.isoformat(),
                "remaining": remaining,
                "lock_lifted": bool(ordered),
                "client_ip": context["client_ip"],
                "user_agent": context["user_agent"],
            },
        )
        return ordered

    def _fail(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        candidate: _Candidate,
        reason: str,
        context: dict[str, Any],
        now: datetime,
    ) -> VerifyResult:
        settled = self._settle_failure(conn, realm, user_id, candidate, now)
        _record_refusal(conn, realm, user_id, reason, context, now, failed_attempts=settled.failed_attempts)
        locked_until = None
        placed = settled.placed_lock_until
        # This failure reached the limit and placed the lock, in this transaction.
        if placed is not None:
            locked_until = placed
            audit.record(
                conn,
                event="locked",
                realm=realm,
                user_id=user_id,
                actor="system",
                client_ip=context["client_ip"],
                details={"source": lockout.CODES, "kind": lockout.TEMPORARY, "until": placed.isoformat()},
                at=now,
            )
            self._notify(
                conn,
                realm,
                user_id,
                "locked",
                {
                    "when": now.isoformat(),
                    "until": placed.isoformat(),
                    "client_ip": context["client_ip"],
                    "user_agent": context["user_agent"],
                },
            )
        return VerifyResult(
            valid=False, reason=reason, enroll_required=candidate.enroll_required, locked_until=locked_until
        )

    @staticmethod
    def _settle_failure(
        conn: Connection, realm: str, user_id: str, candidate: _Candidate, now: datetime
    ) -> lockout.Settled:
        if candidate.outcome != lockout.COUNTED:  # an unknown user has no counter
            return lockout.Settled(failed_attempts=0)
        pol = candidate.policy
        return lockout.settle_failure(
            conn,
            realm,
            user_id,
            candidate.batch,
            max_failures=pol.max_failures,
            lockout_seconds=pol.lockout_seconds,
            lockout_max_seconds=pol.lockout_max_seconds,
            now=now,
        )

    # ------------------------------------------------------------------ devices

    def register_device(
        self,
        realm: str,
        user_id: str,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> RegisteredDevice:
        """Remember a new device of the user and hand out its token (shown once, never stored)."""
        _check_ids(realm, user_id)
        client_ip = _canonical_ip(client_ip)
        key = self._device_key()
        now = self._clock()
        ttl = timedelta(days=self.settings.device_ttl_days)
        expires_at = now.replace(microsecond=0) + ttl
        device_id = devices.new_device_id()
        token = devices.sign(key, realm, user_id, device_id, int(expires_at.timestamp()))
        name = devices.device_name(user_agent)
        with self.engine.begin() as conn:
            conn.execute(
                devices_table.insert().values(
                    id=device_id,
                    realm=realm,
                    user_id=user_id,
                    name=name,
                    first_seen=now,
                    last_seen=now,
                    last_ip=client_ip[:64] if client_ip else None,
                )
            )
            audit.record(
                conn,
                event="device_added",
                realm=realm,
                user_id=user_id,
                actor=user_id,
                client_ip=client_ip,
                user_agent=user_agent,
                details={"device_id": device_id, "name": name},
                at=now,
            )
            self._notify(
                conn,
                realm,
                user_id,
                "new_device",
                {
                    "when": now.isoformat(),
                    "device_name": name,
                    "client_ip": client_ip,
                    "user_agent": user_agent,
                },
            )
        return RegisteredDevice(
            device_id=device_id,
            token=token,
            name=name,
            expires_at=expires_at,
            max_age_seconds=int(ttl.total_seconds()),
        )

    def check_device(
        self,
        realm: str,
        user_id: str,
        token: object,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> DeviceCheck:
        """Is this the cookie of a device the user still has remembered? ``ok`` touches its last use."""
        _check_ids(realm, user_id)
        client_ip = _canonical_ip(client_ip)
        key = self._device_key()
        now = self._clock()
        checked = devices.check(key, realm, user_id, token, int(now.timestamp()))
        if not checked.ok:
            return DeviceCheck(recognised=False, reason=checked.reason, device_id=checked.device_id)
        values: dict[str, Any] = {"last_seen": now}
        if client_ip:
            values["last_ip"] = client_ip[:64]
        with self.engine.begin() as conn:
            touched = conn.execute(
                update(devices_table).where(_device(realm, user_id, checked.device_id)).values(**values)
            ).rowcount
        if touched != 1:
            return DeviceCheck(recognised=False, reason="forgotten", device_id=checked.device_id)
        return DeviceCheck(recognised=True, reason="ok", device_id=checked.device_id)

    def list_devices(self, realm: str, user_id: str) -> list[Device]:
        _check_ids(realm, user_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(devices_table)
                .where(devices_table.c.realm == realm, devices_table.c.user_id == user_id)
                .order_by(devices_table.c.last_seen.desc(), devices_table.c.id)
            ).all()
        return [
            Device(
                device_id=row.id,
                name=row.name,
                first_seen=as_utc(row.first_seen),  # type: ignore[arg-type]
                last_seen=as_utc(row.last_seen),  # type: ignore[arg-type]
                last_ip=row.last_ip,
            )
            for row in rows
        ]

    def forget_devices(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> int:
        """Forget every remembered device of the user (password reset, user's choice); returns how many."""
        _check_ids(realm, user_id)
        now = self._clock()
        with self.engine.begin() as conn:
            return self._forget_devices(conn, realm, user_id, actor=actor, reason=reason, now=now)

    def forget_device(self, realm: str, user_id: str, device_id: str, *, actor: str) -> bool:
        """Forget one device; False when the user has no such device."""
        _check_ids(realm, user_id)
        now = self._clock()
        with self.engine.begin() as conn:
            removed = conn.execute(delete(devices_table).where(_device(realm, user_id, device_id))).rowcount
            if removed:
                audit.record(
                    conn,
                    event="devices_forgotten",
                    realm=realm,
                    user_id=user_id,
                    actor=actor,
                    details={"reason": "single", "count": removed, "device_id": device_id},
                    at=now,
                )
        return removed > 0

    def _forget_devices(
        self, conn: Connection, realm: str, user_id: str, *, actor: str, reason: str, now: datetime
    ) -> int:
        removed = conn.execute(
            delete(devices_table).where(devices_table.c.realm == realm, devices_table.c.user_id == user_id)
        ).rowcount
        if removed:
            audit.record(
                conn,
                event="devices_forgotten",
                realm=realm,
                user_id=user_id,
                actor=actor,
                details={"reason": reason, "count": removed},
                at=now,
            )
        return removed

    def _device_key(self) -> bytes:
        if not self.settings.device_cookie_key:
            raise DeviceRecognitionDisabled(
                "device recognition is disabled (no device cookie key configured)"
            )
        return self.settings.device_cookie_key.encode("utf-8")

    # ------------------------------------------------------------------ status

    def status(self, realm: str, user_id: str) -> Status:
        _check_ids(realm, user_id)
        now = self._clock()
        pol = self.get_policy(realm)
        with self.engine.connect() as conn:
            total, remaining, created_at, last_used_at = conn.execute(
                select(
                    func.count(codes_table.c.id),
                    func.coalesce(func.sum(case((codes_table.c.used_at.is_(None), 1), else_=0)), 0),
                    func.min(codes_table.c.created_at),
                    func.max(codes_table.c.used_at),
                ).where(codes_table.c.realm == realm, codes_table.c.user_id == user_id)
            ).one()
            enroll_required = conn.execute(
                select(users.c.enroll_required).where(users.c.realm == realm, users.c.user_id == user_id)
            ).scalar()
            lock = lockout.current(conn, realm, user_id, now)
        enrolled = total > 0
        return Status(
            remaining=int(remaining),
            total=int(total),
            created_at=as_utc(_as_datetime(created_at)),
            last_used_at=as_utc(_as_datetime(last_used_at)),
            low=enrolled and remaining <= pol.low_threshold,
            enroll_required=bool(enroll_required),
            lock=lock,
            enrolled=enrolled,
            low_threshold=pol.low_threshold,
        )

    # ------------------------------------------------------------------ locks

    def set_lock(
        self,
        realm: str,
        user_id: str,
        *,
        source: str,
        kind: str,
        reason: str,
        actor: str,
        expires_at: datetime | None = None,
    ) -> None:
        """Record a lock from ``source``; re-setting an identical lock is a no-op (no audit, no mail)."""
        _check_ids(realm, user_id)
        now = self._clock()
        expires_at = as_utc(expires_at)
        if kind == lockout.TEMPORARY and expires_at is not None and expires_at <= now:
            raise ValueError("a temporary lock must expire in the future")
        with self.engine.begin() as conn:
            changed = lockout.set_lock(
                conn,
                realm,
                user_id,
                source=source,
                kind=kind,
                reason=reason,
                actor=actor,
                expires_at=expires_at,
                now=now,
            )
            if not changed:
                return
            until = expires_at.isoformat() if expires_at and kind == lockout.TEMPORARY else None
            audit.record(
                conn,
                event="locked",
                realm=realm,
                user_id=user_id,
                actor=actor,
                details={"source": source, "kind": kind, "reason": reason, "until": until},
                at=now,
            )
            self._notify(conn, realm, user_id, "locked", {"when": now.isoformat(), "until": until})

    def clear_lock(
        self,
        realm: str,
        user_id: str,
        *,
        source: str,
        actor: str,
        reason: str,
        allow_permanent: bool = False,
    ) -> bool:
        """Lift the lock of ``source``; True when an active lock was lifted.

        Raises :class:`PermanentLockError` for a permanent lock unless ``allow_permanent`` (an admin or
        directory decision must not be undone by a side effect).
        """
        _check_ids(realm, user_id)
        if source not in lockout.SOURCES:
            raise ValueError(f"lock source must be one of {', '.join(lockout.SOURCES)}")
        now = self._clock()
        with self.engine.begin() as conn:
            existing = lockout.get_lock(conn, realm, user_id, source, now)
            if existing is None:
                return False
            if existing.kind == lockout.PERMANENT and not allow_permanent:
                raise PermanentLockError(f"the {source} lock is permanent; pass allow_permanent to lift it")
            lockout.delete_lock(conn, realm, user_id, source, now)
            if not existing.active:
                return False
            audit.record(
                conn,
                event="unlocked",
                realm=realm,
                user_id=user_id,
                actor=actor,
                details={"source": source, "kind": existing.kind, "reason": reason},
                at=now,
            )
            self._notify(conn, realm, user_id, "unlocked", {"when": now.isoformat()})
        return True

    def lock_state(self, realm: str, user_id: str) -> LockState:
        with self.engine.connect() as conn:
            return lockout.current(conn, realm, user_id, self._clock())

    def list_locks(self, realm: str, user_id: str) -> list[Lock]:
        """Every stored lock row (expired temporary ones marked ``active=False``)."""
        with self.engine.connect() as conn:
            return lockout.list_locks(conn, realm, user_id, self._clock())

    # ------------------------------------------------------------------ contacts

    def set_contact(
        self,
        realm: str,
        user_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        locale: str | None = None,
        display_name: str | None = None,
        source: str = "api",
        actor: str,
    ) -> None:
        """Replace the user's contact record (a field passed as None is cleared).

        A changed (or removed) email address is announced to both the old and the new address, so a
        hijacker redirecting the mail cannot do it silently. Setting the first address sends nothing.
        """
        _check_ids(realm, user_id)
        email, phone, locale, display_name = _validated_contact(email, phone, locale, display_name)
        if source not in CONTACT_SOURCES:
            raise ValueError(f"source must be one of {', '.join(CONTACT_SOURCES)}")
        now = self._clock()
        new = {"email": email, "phone": phone, "locale": locale, "display_name": display_name}
        with self.engine.begin() as conn:
            self._write_contact(conn, realm, user_id, new, source=source, actor=actor, now=now)

    def patch_contact(
        self,
        realm: str,
        user_id: str,
        changes: Mapping[str, str | None],
        *,
        source: str = "api",
        actor: str,
    ) -> Contact:
        """Change only the given fields (None clears one), reading and writing in one transaction.

        Keycloak sends just what it knows (a changed email, the locale); a full replace would wipe the
        phone number the directory sync put there.
        """
        _check_ids(realm, user_id)
        if any(name not in CONTACT_FIELDS for name in changes):
            raise ValueError(f"unknown contact field; allowed: {', '.join(CONTACT_FIELDS)}")
        if source not in CONTACT_SOURCES:
            raise ValueError(f"source must be one of {', '.join(CONTACT_SOURCES)}")
        now = self._clock()
        with self.engine.begin() as conn:
            old = _read_contact(conn, realm, user_id)
            merged = {name: getattr(old, name) if old else None for name in CONTACT_FIELDS}
            merged.update(changes)
            email, phone, locale, display_name = _validated_contact(
                merged["email"], merged["phone"], merged["locale"], merged["display_name"]
            )
            new = {"email": email, "phone": phone, "locale": locale, "display_name": display_name}
            self._write_contact(conn, realm, user_id, new, source=source, actor=actor, now=now)
            contact = _read_contact(conn, realm, user_id)
        assert contact is not None  # just written
        return contact

    def _write_contact(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        new: dict[str, str | None],
        *,
        source: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Store validated fields; a changed or removed email is mailed to both addresses."""
        email, locale = new["email"], new["locale"]
        old = _read_contact(conn, realm, user_id)
        before = {name: getattr(old, name) for name in new} if old else dict.fromkeys(new)
        changed = sorted(name for name in new if new[name] != before[name])
        if not changed and old is not None and old.source == source:
            return
        stmt = insert_for(conn, contacts).values(
            realm=realm, user_id=user_id, source=source, updated_at=now, **new
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[contacts.c.realm, contacts.c.user_id],
                set_={name: stmt.excluded[name] for name in [*new, "source", "updated_at"]},
            )
        )
        if not changed:
            return
        audit.record(
            conn,
            event="contact_changed",
            realm=realm,
            user_id=user_id,
            actor=actor,
            details={"changed": changed, "source": source},
            at=now,
        )
        if "email" in changed and before["email"]:
            # A first address is not a change worth a mail (an initial directory sync would
            # otherwise greet everyone); replacing or removing one is announced to both sides.
            context = {"old_email": before["email"], "new_email": email, "when": now.isoformat()}
            for address in dict.fromkeys(a for a in (before["email"], email) if a):
                self._notify(
                    conn, realm, user_id, "email_changed", context, to_address=address, locale=locale
                )

    def get_contact(self, realm: str, user_id: str) -> Contact | None:
        with self.engine.connect() as conn:
            return _read_contact(conn, realm, user_id)

    def delete_contact(self, realm: str, user_id: str, *, actor: str) -> bool:
        _check_ids(realm, user_id)
        now = self._clock()
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(contacts).where(contacts.c.realm == realm, contacts.c.user_id == user_id)
            ).rowcount
            if removed:
                audit.record(
                    conn,
                    event="contact_changed",
                    realm=realm,
                    user_id=user_id,
                    actor=actor,
                    details={"changed": ["deleted"]},
                    at=now,
                )
        return removed > 0

    # ------------------------------------------------------------------ users, policy

    def delete_user(self, realm: str, user_id: str, *, actor: str) -> None:
        """Forget everything about the user except the audit trail (which records the deletion)."""
        _check_ids(realm, user_id)
        now = self._clock()
        with self.engine.begin() as conn:
            removed = _delete_codes(conn, realm, user_id)
            conn.execute(delete(users).where(users.c.realm == realm, users.c.user_id == user_id))
            conn.execute(delete(locks).where(locks.c.realm == realm, locks.c.user_id == user_id))
            conn.execute(delete(contacts).where(contacts.c.realm == realm, contacts.c.user_id == user_id))
            conn.execute(
                delete(devices_table).where(
                    devices_table.c.realm == realm, devices_table.c.user_id == user_id
                )
            )
            audit.record(
                conn,
                event="user_deleted",
                realm=realm,
                user_id=user_id,
                actor=actor,
                details={"codes_removed": removed},
                at=now,
            )

    def get_policy(self, realm: str) -> Policy:
        with self.engine.connect() as conn:
            return policies.load(conn, realm, self.settings)

    def set_policy(self, realm: str, policy: Policy | dict[str, Any], *, actor: str) -> Policy:
        """Validate and store the realm's policy; a dict is applied on top of the current policy."""
        now = self._clock()
        with self.engine.begin() as conn:
            old = policies.load(conn, realm, self.settings)
            new = Policy.from_dict(policy, old) if isinstance(policy, dict) else policy.validated()
            policies.save(conn, realm, new)
            audit.record(
                conn,
                event="policy_changed",
                realm=realm,
                actor=actor,
                details={"old": old.to_dict(), "new": new.to_dict()},
                at=now,
            )
        return new

    # ------------------------------------------------------------------ helpers

    def _notify(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        kind: str,
        context: dict[str, Any],
        *,
        to_address: str | None = None,
        locale: str | None = None,
    ) -> None:
        self._enqueue(
            conn,
            realm=realm,
            user_id=user_id,
            kind=kind,
            context=context,
            to_address=to_address,
            locale=locale,
        )


def _check_ids(realm: str, user_id: str) -> None:
    for name, value in (("realm", realm), ("user_id", user_id)):
        if not isinstance(value, str) or not value or len(value) > ID_MAX or "\x00" in value:
            raise ValueError(f"{name} must be 1 to {ID_MAX} characters without NUL")


def _canonical_ip(client_ip: str | None) -> str | None:
    """One spelling per address (ratelimit.canonical_ip), so audit, mails and counts agree on it;
    the error names the field, never the value."""
    if client_ip is None:
        return None
    try:
        return ratelimit.canonical_ip(client_ip)
    except ValueError:
        raise ValueError("client_ip must be an IPv4 or IPv6 address") from None


def _blocking_lock(conn: Connection, realm: str, user_id: str, now: datetime, purpose: str) -> LockState:
    """The lock that refuses this attempt: any active lock for a login; for a recovery, not a temporary
    Keycloak or directory lock (lifting those is what the recovery is for)."""
    rows = lockout.list_locks(conn, realm, user_id, now)
    if purpose == "recovery":
        rows = [
            row for row in rows if not (row.source in RECOVERABLE_SOURCES and row.kind == lockout.TEMPORARY)
        ]
    return lockout.effective(rows)


def _record_refusal(
    conn: Connection,
    realm: str,
    user_id: str,
    reason: str,
    context: dict[str, Any],
    now: datetime,
    **details: Any,
) -> None:
    """The audit event of a failed attempt, whether refused before the hash or after it."""
    audit.record(
        conn,
        event="failed",
        realm=realm,
        user_id=user_id,
        actor=user_id,
        client_ip=context["client_ip"],
        user_agent=context["user_agent"],
        details={"reason": reason, "purpose": context["purpose"], **details},
        at=now,
    )


def _build_read_candidate() -> Any:
    """The row with this selector, the user's unused count and ``enroll_required``, in one statement.

    The codes are left-joined to a one-row source, so the counts come back even when no row has the
    selector (then the dummy hash is checked). Both subqueries opt out of correlation: they must read
    the user's whole set and the users table, not the joined candidate row.
    """
    of_user = and_(
        codes_table.c.realm == bindparam("p_realm"), codes_table.c.user_id == bindparam("p_user_id")
    )
    unused = (
        select(func.count(codes_table.c.id))
        .where(of_user, codes_table.c.used_at.is_(None))
        .correlate(None)
        .scalar_subquery()
    )
    enroll_required = (
        select(users.c.enroll_required)
        .where(users.c.realm == bindparam("p_realm"), users.c.user_id == bindparam("p_user_id"))
        .correlate(None)
        .scalar_subquery()
    )
    one_row = select(literal(1).label("one")).subquery()
    candidate = and_(of_user, codes_table.c.selector == bindparam("p_selector"))
    return select(
        codes_table.c.id,
        codes_table.c.hash,
        codes_table.c.used_at,
        codes_table.c.set_id,
        unused.label("unused"),
        enroll_required.label("enroll_required"),
    ).select_from(one_row.outerjoin(codes_table, candidate))


# The statements of every verification are built once: building one costs more than running it on
# SQLite (about 150 µs against 35). Parameters are ``p_``-prefixed, apart from column names.
_READ_CANDIDATE = _build_read_candidate()
_CONSUME = (
    update(codes_table)
    .where(codes_table.c.id == bindparam("p_code_id"), codes_table.c.used_at.is_(None))
    .values(used_at=bindparam("p_now"), used_ip=bindparam("p_ip"))
)
_COUNT_UNUSED = select(func.count(codes_table.c.id)).where(
    codes_table.c.realm == bindparam("p_realm"),
    codes_table.c.user_id == bindparam("p_user_id"),
    codes_table.c.used_at.is_(None),
)


def _read_candidate(
    conn: Connection, realm: str, user_id: str, selector: str, admission: lockout.Admission, pol: Policy
) -> _Candidate:
    row = conn.execute(
        _READ_CANDIDATE, {"p_realm": realm, "p_user_id": user_id, "p_selector": selector}
    ).one()
    return _Candidate(
        outcome=admission.outcome,
        policy=pol,
        code_id=row.id,
        code_hash=row.hash,
        code_used=row.used_at is not None,
        set_id=row.set_id,
        unused=int(row.unused),
        enroll_required=bool(row.enroll_required),
        batch=admission.batch,
    )


def _delete_recoverable_locks(conn: Connection, realm: str, user_id: str, now: datetime) -> list[str]:
    """Delete the active temporary Keycloak/directory lock rows; returns the sources actually deleted."""
    cleared = []
    for source in RECOVERABLE_SOURCES:
        removed = conn.execute(
            delete(locks).where(
                locks.c.realm == realm,
                locks.c.user_id == user_id,
                locks.c.source == source,
                locks.c.kind == lockout.TEMPORARY,
                locks.c.expires_at > now,
            )
        ).rowcount
        if removed:
            cleared.append(source)
    return cleared


def _device(realm: str, user_id: str, device_id: str | None) -> Any:
    return and_(
        devices_table.c.id == device_id, devices_table.c.realm == realm, devices_table.c.user_id == user_id
    )


def _batch(candidate: _Candidate) -> int | None:
    """The in-flight batch a success gives its place back to; None when nothing was counted."""
    return candidate.batch if candidate.outcome == lockout.COUNTED else None


def _failure_reason(candidate: _Candidate, matched: bool) -> str:
    if candidate.outcome == lockout.UNKNOWN_USER:
        return "unknown_user"
    if matched:
        return "used"  # the right code, but it was already used (or a racing request used it first)
    if candidate.unused == 0:
        return "no_codes"
    return "invalid"


def _consume(conn: Connection, code_id: int | None, client_ip: str | None, now: datetime) -> bool:
    """The single-use guarantee: only one UPDATE can flip ``used_at`` from NULL."""
    if code_id is None:
        return False
    result = conn.execute(
        _CONSUME, {"p_code_id": code_id, "p_now": now, "p_ip": client_ip[:64] if client_ip else None}
    )
    return result.rowcount == 1


def _count_unused(conn: Connection, realm: str, user_id: str) -> int:
    return int(conn.execute(_COUNT_UNUSED, {"p_realm": realm, "p_user_id": user_id}).scalar_one())


def _delete_codes(conn: Connection, realm: str, user_id: str) -> int:
    return conn.execute(
        delete(codes_table).where(and_(codes_table.c.realm == realm, codes_table.c.user_id == user_id))
    ).rowcount


def _insert_codes(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(codes_table), rows)


def _ensure_user(conn: Connection, realm: str, user_id: str, now: datetime, *, enroll_required: bool) -> None:
    stmt = insert_for(conn, users).values(
        realm=realm,
        user_id=user_id,
        failed_attempts=0,
        lockouts=0,
        enroll_required=enroll_required,
        created_at=now,
        updated_at=now,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[users.c.realm, users.c.user_id],
            set_={"enroll_required": enroll_required, "updated_at": now},
        )
    )


def _read_contact(conn: Connection, realm: str, user_id: str) -> Contact | None:
    row = conn.execute(
        select(contacts).where(contacts.c.realm == realm, contacts.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    return Contact(
        email=row.email,
        phone=row.phone,
        locale=row.locale,
        display_name=row.display_name,
        source=row.source,
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
    )


def _validated_contact(
    email: str | None, phone: str | None, locale: str | None, display_name: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    locale = (locale or "").strip() or None
    display_name = (display_name or "").strip() or None
    if email is not None and (len(email) > 320 or not _EMAIL.match(email)):
        raise ValueError("email is not a valid address")
    if phone is not None and not _PHONE.match(phone):
        raise ValueError("phone is not a valid number")
    if locale is not None and (len(locale) > 16 or not _LOCALE.match(locale)):
        raise ValueError("locale is not a valid language tag")
    if display_name is not None and (len(display_name) > 255 or any(ch in display_name for ch in "\r\n\x00")):
        raise ValueError("display_name must be one line of at most 255 characters")
    return email, phone, locale, display_name


def _as_datetime(value: Any) -> datetime | None:
    """Aggregates (min/max) over a DateTime column come back as strings from SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
