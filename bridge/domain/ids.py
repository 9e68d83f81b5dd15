"""Realm and user ids as the bridge accepts them: what Keycloak hands out, never a NUL or a novel."""

from __future__ import annotations

from bridge.errors import InvalidRequest

ID_MAX = 255


def check_ids(realm: object, user_id: object) -> None:
    for name, value in (("realm", realm), ("user_id", user_id)):
        _check_id(name, value)


def check_realm(realm: object) -> None:
    """A realm-wide operation (no user) checks the realm as :func:`check_ids` does."""
    _check_id("realm", realm)


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > ID_MAX or "\x00" in value:
        raise InvalidRequest(f"{name} must be 1 to {ID_MAX} characters without NUL")


def check_required(name: str, value: object, procedure: str) -> None:
    """Some procedures name a person or a check (a helpdesk reset): blank is refused."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{name} is required for a {procedure}")
