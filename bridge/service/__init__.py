"""``BackupCodes``: the one facade the API, the CLI and the LDAP sync call; it only delegates.

Each use case has its module (verification, enrolment, locks, contacts, devices, policy, recovery),
the rules they apply live in :mod:`bridge.domain` and the statements in :mod:`bridge.store`. Every
change writes its audit row and its mail through :mod:`bridge.service.events`, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bridge.domain.contacts import CONTACT_FIELDS, CONTACT_SOURCES
from bridge.domain.hashing import CodeHasher
from bridge.domain.ids import ID_MAX
from bridge.domain.locks import RECOVERABLE_SOURCES, Lock, LockState
from bridge.domain.policy import Policy
from bridge.domain.results import (
    REASONS,
    Contact,
    Device,
    DeviceCheck,
    IssuedSet,
    RegisteredDevice,
    Status,
    VerifyResult,
)
from bridge.domain.verification import PURPOSES
from bridge.errors import DeviceRecognitionDisabled, PermanentLockError
from bridge.service.contacts import Contacts
from bridge.service.context import Clock, Context
from bridge.service.devices import Devices
from bridge.service.enrolment import Enrolment
from bridge.service.events import Enqueue, Events
from bridge.service.locks import Locks
from bridge.service.policy import RealmPolicy
from bridge.service.recovery import RECOVERY_ACTOR
from bridge.service.verification import Verification
from bridge.settings import Settings
from bridge.store.db import utcnow

__all__ = [
    "CONTACT_FIELDS",
    "CONTACT_SOURCES",
    "ID_MAX",
    "PURPOSES",
    "REASONS",
    "RECOVERABLE_SOURCES",
    "RECOVERY_ACTOR",
    "BackupCodes",
    "Contact",
    "Device",
    "DeviceCheck",
    "DeviceRecognitionDisabled",
    "IssuedSet",
    "PermanentLockError",
    "RegisteredDevice",
    "Status",
    "VerifyResult",
]


class BackupCodes:
    """Build once per process (the Argon2 dummy hash is computed here); every method delegates."""

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
        self._ctx = Context(
            engine=engine,
            settings=settings,
            hasher=hasher or CodeHasher(settings),
            events=Events(enqueue),
            clock=clock or utcnow,
        )
        self._verification = Verification(self._ctx)
        self._enrolment = Enrolment(self._ctx)
        self._locks = Locks(self._ctx)
        self._contacts = Contacts(self._ctx)
        self._devices = Devices(self._ctx)
        self._policy = RealmPolicy(self._ctx)

    @property
    def engine(self) -> Engine:
        return self._ctx.engine

    @property
    def settings(self) -> Settings:
        return self._ctx.settings

    @property
    def hasher(self) -> Any:
        return self._ctx.hasher

    @hasher.setter
    def hasher(self, value: Any) -> None:
        self._ctx.hasher = value

    # ------------------------------------------------------------------ codes

    def issue(
        self,
        realm: str,
        user_id: str,
        *,
        actor: str,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> IssuedSet:
        return self._enrolment.issue(realm, user_id, actor=actor, client_ip=client_ip, user_agent=user_agent)

    def revoke(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> bool:
        return self._enrolment.revoke(realm, user_id, actor=actor, reason=reason)

    def helpdesk_reset(
        self, realm: str, user_id: str, *, actor: str, reason: str, identity_check: str
    ) -> None:
        self._enrolment.helpdesk_reset(
            realm, user_id, actor=actor, reason=reason, identity_check=identity_check
        )

    def status(self, realm: str, user_id: str) -> Status:
        return self._enrolment.status(realm, user_id)

    def delete_user(self, realm: str, user_id: str, *, actor: str) -> None:
        self._enrolment.delete_user(realm, user_id, actor=actor)

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
        """Check and consume one code (see :mod:`bridge.service.verification`).

        ``purpose="recovery"`` (reset-credentials flow, lock recovery) is not refused by a temporary
        Keycloak or directory lock, and its success lifts those locks (``cleared_locks``), requires a new
        set and mails ``account_recovered``. ``keycloak_locked`` is the provider saying Keycloak's
        brute-force detection had the user locked (it lifts that lock itself); it only counts for recovery.
        """
        return self._verification.verify(
            realm,
            user_id,
            code,
            client_ip=client_ip,
            user_agent=user_agent,
            purpose=purpose,
            keycloak_locked=keycloak_locked,
        )

    # ------------------------------------------------------------------ devices

    def register_device(
        self, realm: str, user_id: str, *, client_ip: str | None = None, user_agent: str | None = None
    ) -> RegisteredDevice:
        return self._devices.register(realm, user_id, client_ip=client_ip, user_agent=user_agent)

    def check_device(
        self,
        realm: str,
        user_id: str,
        token: object,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> DeviceCheck:
        return self._devices.check(realm, user_id, token, client_ip=client_ip, user_agent=user_agent)

    def list_devices(self, realm: str, user_id: str) -> list[Device]:
        return self._devices.list(realm, user_id)

    def forget_devices(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> int:
        return self._devices.forget_all(realm, user_id, actor=actor, reason=reason)

    def forget_device(self, realm: str, user_id: str, device_id: str, *, actor: str) -> bool:
        return self._devices.forget_one(realm, user_id, device_id, actor=actor)

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
        self._locks.set(
            realm, user_id, source=source, kind=kind, reason=reason, actor=actor, expires_at=expires_at
        )

    def clear_lock(
        self, realm: str, user_id: str, *, source: str, actor: str, reason: str, allow_permanent: bool = False
    ) -> bool:
        return self._locks.clear(
            realm, user_id, source=source, actor=actor, reason=reason, allow_permanent=allow_permanent
        )

    def clear_temporary_codes_locks(self, realm: str, *, actor: str, reason: str) -> list[str]:
        return self._locks.clear_temporary_codes_locks(realm, actor=actor, reason=reason)

    def lock_state(self, realm: str, user_id: str) -> LockState:
        return self._locks.state(realm, user_id)

    def list_locks(self, realm: str, user_id: str) -> list[Lock]:
        return self._locks.list(realm, user_id)

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
        self._contacts.set(
            realm,
            user_id,
            email=email,
            phone=phone,
            locale=locale,
            display_name=display_name,
            source=source,
            actor=actor,
        )

    def patch_contact(
        self, realm: str, user_id: str, changes: Mapping[str, str | None], *, source: str = "api", actor: str
    ) -> Contact:
        return self._contacts.patch(realm, user_id, changes, source=source, actor=actor)

    def get_contact(self, realm: str, user_id: str) -> Contact | None:
        return self._contacts.get(realm, user_id)

    def delete_contact(self, realm: str, user_id: str, *, actor: str) -> bool:
        return self._contacts.delete(realm, user_id, actor=actor)

    # ------------------------------------------------------------------ policy

    def get_policy(self, realm: str) -> Policy:
        return self._policy.get(realm)

    def set_policy(self, realm: str, policy: Policy | dict[str, Any], *, actor: str) -> Policy:
        return self._policy.set(realm, policy, actor=actor)
