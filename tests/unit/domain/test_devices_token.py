"""The device token and device names (bridge/domain/devices.py): pure, no database."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.domain import devices
from bridge.errors import ConfigurationError

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
REALM, USER = "acme", "alice"
DEVICE = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000
LATER = NOW + 3600


def token(realm: str = REALM, user: str = USER, expires: int = LATER, key: bytes = KEY) -> str:
    return devices.sign(key, realm, user, DEVICE, expires)


def test_token_has_the_contract_shape_device_id_expiry_and_base64url_signature() -> None:
    assert re.fullmatch(rf"{DEVICE}\.{LATER}\.[A-Za-z0-9_-]{{43}}", token())


def test_fresh_token_checks_ok_and_names_its_device() -> None:
    checked = devices.check(KEY, REALM, USER, token(), NOW)
    assert checked.reason == "ok" and checked.device_id == DEVICE


def test_token_of_another_user_is_invalid() -> None:
    assert devices.check(KEY, REALM, "bob", token(), NOW).reason == "invalid"


def test_token_of_the_same_user_id_in_another_realm_is_invalid() -> None:
    assert devices.check(KEY, "other", USER, token(), NOW).reason == "invalid"


def test_token_signed_with_another_key_is_invalid() -> None:
    assert devices.check(KEY, REALM, USER, token(key=OTHER_KEY), NOW).reason == "invalid"


def test_token_with_an_extended_expiry_is_invalid() -> None:
    device_id, _expires, sig = token().split(".")
    assert devices.check(KEY, REALM, USER, f"{device_id}.{LATER + 86400}.{sig}", NOW).reason == "invalid"


def test_token_with_a_changed_signature_character_is_invalid() -> None:
    original = token()
    flipped = original[:-1] + ("A" if original[-1] != "A" else "B")
    assert devices.check(KEY, REALM, USER, flipped, NOW).reason == "invalid"


def test_token_past_its_expiry_is_expired() -> None:
    checked = devices.check(KEY, REALM, USER, token(expires=NOW), NOW)
    assert checked.reason == "expired" and not checked.ok


def test_expired_token_of_another_user_is_invalid_not_expired() -> None:
    assert devices.check(KEY, REALM, "bob", token(expires=NOW - 1), NOW).reason == "invalid"


@pytest.mark.parametrize(
    "value",
    ["", "x", "a.b.c", f"{DEVICE}.{LATER}", f"{DEVICE}..{'A' * 43}", "é" * 50, "A" * 5000, None, 42, ["t"]],
)
def test_malformed_token_is_invalid(value: object) -> None:
    assert devices.check(KEY, REALM, USER, value, NOW).reason == "invalid"


@given(st.text(max_size=300))
def test_any_text_is_a_verdict_never_an_exception(value: str) -> None:
    assert devices.check(KEY, REALM, USER, value, NOW).reason in {"invalid", "expired", "ok"}


def test_signing_refuses_a_key_shorter_than_32_bytes() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        devices.sign(b"short", REALM, USER, DEVICE, LATER)


def test_new_device_ids_are_32_hex_characters_and_distinct() -> None:
    ids = {devices.new_device_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on macOS",
        ),
        ("curl/8.5.0", "Unknown device"),
        ("", "Unknown device"),
        (None, "Unknown device"),
    ],
)
def test_device_name_is_a_short_human_name_from_the_user_agent(user_agent: str | None, name: str) -> None:
    assert devices.device_name(user_agent) == name
