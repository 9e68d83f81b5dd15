"""The outbox: a mail queued as a row in the caller's transaction (bridge/notify/__init__.py says why).

What may go into a mail is checked here, when it is queued: the kind, and context values that are
known, JSON-safe and never a secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from bridge.store.db import utcnow
from bridge.store.schema import contacts, notifications

log = logging.getLogger("bridge.notify")  # one logger for the package: operators filter on it

KINDS: tuple[str, ...] = (
    "codes_issued",
    "codes_regenerated",
    "code_used",
    "codes_low",
    "locked",
    "unlocked",
    "helpdesk_reset",
    "email_changed",
    "new_device",
    "account_recovered",
)

# Template variables a caller may pass; all optional (templates leave out what is missing).
#   realm_display_name, username, display_name: who and where, for the greeting and subject
#   when, client_ip, user_agent: the event's circumstances (code_used, new_device, issued, ...)
#   count (codes_issued/regenerated), remaining + threshold (code_used, codes_low, account_recovered),
#   until (locked; None = until an administrator unlocks), old_email/new_email (email_changed, masked
#   in the mail), device_name (new_device), account_url (link to where the user manages their codes),
#   lock_lifted (account_recovered: the recovery also lifted a temporary lock on the account).
CONTEXT_KEYS: frozenset[str] = frozenset(
    {
        "realm",
        "realm_display_name",
        "username",
        "display_name",
        "when",
        "client_ip",
        "user_agent",
        "device_name",
        "count",
        "remaining",
        "threshold",
        "until",
        "old_email",
        "new_email",
        "account_url",
        "lock_lifted",
    }
)
_SECRET_KEY = re.compile(r"code|secret|password|passwd|token|api_?key|pepper", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")
MAX_VALUE_CHARS = 512

# --------------------------------------------------------------------------------------------- enqueue


# Built once: a verification queues a mail (code used) and reads the contact for it.
_CONTACT = select(contacts.c.email, contacts.c.locale, contacts.c.display_name).where(
    contacts.c.realm == bindparam("p_realm"), contacts.c.user_id == bindparam("p_user_id")
)
_QUEUE = insert(notifications)


def enqueue(
    conn: Connection,
    *,
    realm: str,
    user_id: str,
    kind: str,
    context: Mapping[str, Any],
    to_address: str | None = None,
    locale: str | None = None,
    contact: Mapping[str, str | None] | EllipsisType | None = ...,
) -> int | None:
    """Queue one mail in the caller's transaction; None when the user has no usable address.

    ``contact``: the user's email, locale and display_name if the caller read them (None: none).
    Raises ValueError for an unknown kind or a context key that is unknown or names a secret: those
    are programming errors, found by tests, never by users.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; expected one of {', '.join(KINDS)}")
    values = clean_context(context)
    contact = _contact(conn, realm, user_id) if contact is ... else contact
    if contact is not None:
        to_address = to_address if to_address is not None else contact["email"]
        locale = locale or contact["locale"]
        if contact["display_name"] and not values.get("display_name"):
            values["display_name"] = contact["display_name"][:MAX_VALUE_CHARS]  # for the greeting
    if not to_address:
        return None
    if not is_mail_address(to_address):
        log.warning("notification %s for %s/%s not queued: unusable email address", kind, realm, user_id)
        return None
    now = utcnow()
    values["realm"] = realm
    values.setdefault("when", now.isoformat())
    result = conn.execute(
        _QUEUE,
        {
            "realm": realm,
            "user_id": user_id,
            "kind": kind,
            "to_address": to_address,
            "locale": (locale or "")[:16],  # "" = Settings.default_locale, resolved when sending
            "context": values,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return int(result.inserted_primary_key[0])


def _contact(conn: Connection, realm: str, user_id: str) -> dict[str, Any] | None:
    row = conn.execute(_CONTACT, {"p_realm": realm, "p_user_id": user_id}).first()
    return None if row is None else row._asdict()


def clean_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Check keys and make values JSON-safe (datetimes become ISO strings, long strings are cut)."""
    if not isinstance(context, Mapping):
        raise ValueError("notification context must be a mapping")
    values: dict[str, Any] = {}
    for key, value in context.items():
        if not isinstance(key, str):
            raise ValueError("notification context keys must be strings")
        if _SECRET_KEY.search(key):
            raise ValueError(f"notification context must never carry a code or secret (key {key!r})")
        if key not in CONTEXT_KEYS:
            allowed = ", ".join(sorted(CONTEXT_KEYS))
            raise ValueError(f"unknown notification context key {key!r}; allowed: {allowed}")
        values[key] = _json_value(key, value)
    url = values.get("account_url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        raise ValueError("account_url must be an http(s) URL")
    return values


def _json_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    raise ValueError(f"notification context value for {key!r} must be a string, number, bool or datetime")


def is_mail_address(value: str) -> bool:
    """A plausible single address with nothing that could smuggle a header or a second recipient."""
    return len(value) <= 320 and _ADDRESS.match(value) is not None
