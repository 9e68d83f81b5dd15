"""Remembered devices: register one (its signed token handed out once), check a cookie, list, forget."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from bridge.domain import devices as tokens
from bridge.domain.addresses import canonical_client_ip
from bridge.domain.ids import check_ids
from bridge.domain.results import Device, DeviceCheck, RegisteredDevice
from bridge.errors import DeviceRecognitionDisabled
from bridge.service.context import Context
from bridge.store import devices as rows

DISABLED_MESSAGE = "device recognition is disabled: set BACKUP_CODES_DEVICE_COOKIE_KEY to enable it"


class Devices:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def register(
        self, realm: str, user_id: str, *, client_ip: str | None = None, user_agent: str | None = None
    ) -> RegisteredDevice:
        """Remember a new device of the user and hand out its token (shown once, never stored)."""
        check_ids(realm, user_id)
        client_ip = canonical_client_ip(client_ip)
        key = self.key()
        now = self._ctx.clock()
        ttl = timedelta(days=self._ctx.settings.device_ttl_days)
        expires_at = now.replace(microsecond=0) + ttl
        device_id = tokens.new_device_id()
        token = tokens.sign(key, realm, user_id, device_id, int(expires_at.timestamp()))
        name = tokens.device_name(user_agent)
        with self._ctx.engine.begin() as conn:
            rows.add(conn, realm, user_id, device_id, name=name, now=now, client_ip=client_ip)
            self._ctx.events.record(
                conn,
                "device_added",
                realm,
                user_id,
                actor=user_id,
                at=now,
                client_ip=client_ip,
                user_agent=user_agent,
                details={"device_id": device_id, "name": name},
                mail="new_device",
                mail_context={
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

    def check(
        self,
        realm: str,
        user_id: str,
        token: object,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> DeviceCheck:
        """Is this the cookie of a device the user still has remembered? ``ok`` touches its last use."""
        check_ids(realm, user_id)
        client_ip = canonical_client_ip(client_ip)
        key = self.key()
        now = self._ctx.clock()
        checked = tokens.check(key, realm, user_id, token, int(now.timestamp()))
        if not checked.ok:
            return DeviceCheck(recognised=False, reason=checked.reason, device_id=checked.device_id)
        values: dict[str, Any] = {"last_seen": now}
        if client_ip:
            values["last_ip"] = client_ip[:64]
        with self._ctx.engine.begin() as conn:
            touched = rows.touch(conn, realm, user_id, checked.device_id, values)
        if not touched:
            return DeviceCheck(recognised=False, reason="forgotten", device_id=checked.device_id)
        return DeviceCheck(recognised=True, reason="ok", device_id=checked.device_id)

    def list(self, realm: str, user_id: str) -> list[Device]:
        check_ids(realm, user_id)
        with self._ctx.engine.connect() as conn:
            return rows.list_for(conn, realm, user_id)

    def forget_all(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> int:
        """Forget every remembered device of the user (password reset, user's choice); returns how many."""
        check_ids(realm, user_id)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            return forget_all_in(self._ctx, conn, realm, user_id, actor=actor, reason=reason, now=now)

    def forget_one(self, realm: str, user_id: str, device_id: str, *, actor: str) -> bool:
        """Forget one device; False when the user has no such device."""
        check_ids(realm, user_id)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            removed = rows.delete_one(conn, realm, user_id, device_id)
            if removed:
                self._ctx.events.record(
                    conn,
                    "devices_forgotten",
                    realm,
                    user_id,
                    actor=actor,
                    at=now,
                    details={"reason": "single", "count": removed, "device_id": device_id},
                )
        return removed > 0

    def key(self) -> bytes:
        if not self._ctx.settings.device_cookie_key:
            raise DeviceRecognitionDisabled(DISABLED_MESSAGE)
        return self._ctx.settings.device_cookie_key.encode("utf-8")


def forget_all_in(
    ctx: Context, conn: Connection, realm: str, user_id: str, *, actor: str, reason: str, now: datetime
) -> int:
    """Forget the user's devices in the caller's transaction (a new set, a helpdesk reset)."""
    removed = rows.delete_all(conn, realm, user_id)
    if removed:
        ctx.events.record(
            conn,
            "devices_forgotten",
            realm,
            user_id,
            actor=actor,
            at=now,
            details={"reason": reason, "count": removed},
        )
    return removed
