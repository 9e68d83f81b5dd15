"""Contact rules without I/O: which fields, which sources, what a valid address looks like."""

from __future__ import annotations

import re

from bridge.errors import InvalidRequest

CONTACT_SOURCES = ("api", "directory", "keycloak")
CONTACT_FIELDS = ("email", "phone", "locale", "display_name")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,63}$")


def check_source(source: str) -> None:
    if source not in CONTACT_SOURCES:
        raise InvalidRequest(f"source must be one of {', '.join(CONTACT_SOURCES)}")


def check_fields(names: object) -> None:
    if any(name not in CONTACT_FIELDS for name in names):  # type: ignore[attr-defined]
        raise InvalidRequest(f"unknown contact field; allowed: {', '.join(CONTACT_FIELDS)}")


def validated(
    email: str | None, phone: str | None, locale: str | None, display_name: str | None
) -> dict[str, str | None]:
    """The fields trimmed (blank is None) and checked; the error names the field, never the value."""
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    locale = (locale or "").strip() or None
    display_name = (display_name or "").strip() or None
    if email is not None and (len(email) > 320 or not _EMAIL.match(email)):
        raise InvalidRequest("email is not a valid address")
    if phone is not None and not _PHONE.match(phone):
        raise InvalidRequest("phone is not a valid number")
    if locale is not None and (len(locale) > 16 or not _LOCALE.match(locale)):
        raise InvalidRequest("locale is not a valid language tag")
    if display_name is not None and (len(display_name) > 255 or any(ch in display_name for ch in "\r\n\x00")):
        raise InvalidRequest("display_name must be one line of at most 255 characters")
    return {"email": email, "phone": phone, "locale": locale, "display_name": display_name}
