"""Append-only audit trail: who did what to whose codes, when and from where.

This module only inserts and selects; nothing here updates or deletes a row, and deleting a user
keeps their trail. Details never contain a code: callers pass counts, reasons and ids only.
Exports are for auditors' tools, so the CSV form defuses spreadsheet formula injection (OWASP
"CSV Injection": a cell starting with = + - @ tab or CR is prefixed with a quote).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from bridge.errors import InvalidRequest
from bridge.store.db import as_utc, utcnow
from bridge.store.schema import audit_events

EVENTS = frozenset(
    {
        "issued",
        "regenerated",
        "used",
        "failed",
        "locked",
        "unlocked",
        "revoked",
        "helpdesk_reset",
        "policy_changed",
        "contact_changed",
        "user_deleted",
        "device_added",
        "devices_forgotten",
        "apikey_created",
        "apikey_revoked",
    }
)
FORMATS = ("jsonl", "csv")
MAX_LIMIT = 10_000
COLUMNS = ("id", "at", "realm", "user_id", "event", "actor", "client_ip", "user_agent", "details")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_APPEND = insert(audit_events)  # built once: it runs on every verification


def record(
    conn: Connection,
    *,
    event: str,
    realm: str,
    user_id: str | None = None,
    actor: str = "",
    client_ip: str | None = None,
    user_agent: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one event in the caller's transaction, so the trail and the change commit together."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event: {event}")
    result = conn.execute(
        _APPEND,
        {
            "at": at or utcnow(),
            "realm": realm,
            "user_id": user_id,
            "event": event,
            "actor": (actor or "")[:255],
            "client_ip": client_ip[:64] if client_ip else None,
            "user_agent": user_agent[:512] if user_agent else None,
            "details": details or {},
        },
    )
    return int(result.inserted_primary_key[0])


def query(
    engine: Engine,
    realm: str | None = None,
    user_id: str | None = None,
    event: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    *,
    realms: Collection[str] | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Events matching every given filter, oldest first (``since`` inclusive, ``until`` exclusive).

    ``realms`` (a realm key's scope) keeps only events of those realms; None keeps every realm.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    stmt = select(audit_events)
    if realm is not None:
        stmt = stmt.where(audit_events.c.realm == realm)
    if realms is not None:
        stmt = stmt.where(audit_events.c.realm.in_(list(realms)))
    if user_id is not None:
        stmt = stmt.where(audit_events.c.user_id == user_id)
    if event is not None:
        stmt = stmt.where(audit_events.c.event == event)
    if since is not None:
        stmt = stmt.where(audit_events.c.at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(audit_events.c.at < as_utc(until))
    if newest_first:
        stmt = stmt.order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
    else:
        stmt = stmt.order_by(audit_events.c.at, audit_events.c.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt.limit(limit)).mappings().all()
    return [_row(row) for row in rows]


def _row(row: Any) -> dict[str, Any]:
    data = {column: row[column] for column in COLUMNS}
    data["at"] = as_utc(data["at"]).isoformat()  # type: ignore[union-attr]
    data["details"] = dict(data["details"] or {})
    return data


def export(rows: list[dict[str, Any]], fmt: str) -> str:
    """Serialise rows from :func:`query` as JSON Lines or CSV."""
    if fmt == "jsonl":
        return "".join(json.dumps(row, default=str, sort_keys=True) + "\n" for row in rows)
    if fmt == "csv":
        return _csv(rows)
    raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}")


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str, sort_keys=True)
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text
