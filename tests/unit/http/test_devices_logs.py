"""A device token (the remember-this-device cookie) never survives into a log line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bridge.domain import devices
from bridge.ops import logs

TOKEN = devices.sign(b"k" * 32, "demo", "alice", "0123456789abcdef0123456789abcdef", 1_900_000_000)
SIGNATURE = TOKEN.rsplit(".", 1)[1]


def test_a_bare_device_token_is_redacted() -> None:
    assert SIGNATURE not in logs.redact(f"cookie was {TOKEN} today")


@pytest.mark.parametrize(
    "text",
    ['{"token": "%s"}', '{"token":"%s", "client_ip": "192.0.2.1"}', "token=%s&x=1", "'token': '%s'"],
)
def test_any_value_of_a_field_named_token_is_redacted(text: str) -> None:
    for value in (TOKEN, "short-but-secret", "x.y.z"):
        redacted = logs.redact(text % value)
        assert value not in redacted and logs.REDACTED in redacted


def test_a_json_body_keeps_parsing_after_its_token_is_redacted() -> None:
    line = json.dumps({"token": TOKEN, "client_ip": "192.0.2.1"})
    assert json.loads(logs.redact(line)) == {"token": logs.REDACTED, "client_ip": "192.0.2.1"}


def test_a_token_passed_as_an_extra_field_is_redacted_in_the_json_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RedactingFilter())
    logger = logging.getLogger(f"test.devices.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning("device check", extra={"token": "not-even-token-shaped"})
    assert "not-even-token-shaped" not in stream.getvalue()
    assert json.loads(stream.getvalue())["token"] == logs.REDACTED


def test_words_near_token_are_left_alone() -> None:
    text = "the device token was not recognised (reason invalid)"
    assert logs.redact(text) == text
