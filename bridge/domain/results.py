"""What the use cases hand back: plain frozen dataclasses with their JSON form (``to_dict``).

No I/O; the API serialises these as they are, so a field here is a field of the published contract
(``bridge/http/openapi.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bridge.domain.locks import LockState


class Reason(StrEnum):
    """Why a verification answered as it did (``ok`` only when ``valid``)."""

    OK = "ok"
    INVALID = "invalid"
    USED = "used"
    UNKNOWN_USER = "unknown_user"
    NO_CODES = "no_codes"
    LOCKED = "locked"
    BUSY = "busy"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


REASONS = tuple(reason.value for reason in Reason)


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
    reason: Reason
    remaining: int = 0  # only on success: the count is not revealed to an unauthenticated caller
    low: bool = False
    enroll_required: bool = False
    locked_until: datetime | None = None
    cleared_locks: tuple[str, ...] = ()  # recovery only: the lock sources this success lifted

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": str(self.reason),
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
