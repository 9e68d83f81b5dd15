"""The ``devices`` table: remembered devices (their signed cookie carries the row id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from bridge.domain.results import Device
from bridge.store.db import as_utc
from bridge.store.schema import devices


def _one(realm: str, user_id: str, device_id: str | None) -> Any:
    return and_(devices.c.id == device_id, devices.c.realm == realm, devices.c.user_id == user_id)


def add(
    conn: Connection,
    realm: str,
    user_id: str,
    device_id: str,
    *,
    name: str,
    now: datetime,
    client_ip: str | None,
) -> None:
    conn.execute(
        devices.insert().values(
            id=device_id,
            realm=realm,
            user_id=user_id,
            name=name,
            first_seen=now,
            last_seen=now,
            last_ip=client_ip[:64] if client_ip else None,
        )
    )


def touch(conn: Connection, realm: str, user_id: str, device_id: str | None, values: dict[str, Any]) -> bool:
    """Record a use of the device; False when the user has no such device (any more)."""
    return conn.execute(update(devices).where(_one(realm, user_id, device_id)).values(**values)).rowcount == 1


def list_for(conn: Connection, realm: str, user_id: str) -> list[Device]:
    rows = conn.execute(
        select(devices)
        .where(devices.c.realm == realm, devices.c.user_id == user_id)
        .order_by(devices.c.last_seen.desc(), devices.c.id)
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


def delete_one(conn: Connection, realm: str, user_id: str, device_id: str) -> int:
    return conn.execute(delete(devices).where(_one(realm, user_id, device_id))).rowcount


def delete_all(conn: Connection, realm: str, user_id: str) -> int:
    return conn.execute(
        delete(devices).where(devices.c.realm == realm, devices.c.user_id == user_id)
    ).rowcount
