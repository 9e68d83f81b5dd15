"""Reading LDAP attribute values: text, integers, GeneralizedTime, AD FILETIME and objectGUID.

Servers hand values in as bytes, spelled as their syntax says (RFC 4517 GeneralizedTime, AD's 100 ns
ticks since 1601); these functions turn them into Python values, or raise :class:`MalformedEntry` so
the sync skips that one entry instead of stopping.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bridge.ldap.account import MalformedEntry

RawEntry = Mapping[str, Sequence[bytes]]

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_AD_NEVER = -(2**63)  # lockoutDuration "forever": locked until an administrator unlocks
_GENERALIZED_TIME = re.compile(
    r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?P<h>\d{2})(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?:[.,](?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}(?:\d{2})?)$"
)


def all_values(raw: RawEntry, name: str) -> Sequence[bytes]:
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
    values = all_values(raw, name)
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


def first_int(raw: RawEntry, name: str) -> int | None:
    text = first_text(raw, name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise MalformedEntry(f"{name}: not an integer") from None


def is_true(raw: RawEntry, name: str) -> bool:
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
