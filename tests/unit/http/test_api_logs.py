"""Structured JSON logs: one object per line, request ids, no bodies, and code/key-shaped text redacted."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import requests

from bridge.ops import logs

KEY = "bcb_0123456789ab_" + "f" * 64


@pytest.mark.parametrize(
    "secret",
    [
        "7KQ4-M2XP-9DWR-3HZT",
        "7kq4-m2xp-9dwr-3hzt",
        "7KQ4M2XP9DWR3HZT",
        "7KQ4-M2XP-9DWR-3HZ",
        "0123456789abcdefghjk",
    ],
)
def test_code_shaped_text_is_redacted(secret: str) -> None:
    assert secret not in logs.redact(f"user typed {secret} today")


def test_api_key_keeps_its_id_and_loses_its_secret() -> None:
    assert logs.redact(f"key {KEY}") == "key bcb_0123456789ab_[REDACTED]"


def test_bearer_header_value_is_redacted() -> None:
    assert logs.redact("Authorization: Bearer something-secret") == "Authorization: Bearer [REDACTED]"


@pytest.mark.parametrize(
    "text",
    [
        "/v1/realms/demo/users/1b2c3d4e-aaaa-bbbb-cccc-5f6a7b8c9d0e/codes",
        "request 0e2f4a3c-8a1b-4c2d-9e3f-1a2b3c4d5e6f done",
        "POST /v1/realms/demo/users/alice/codes/verify 200",
    ],
)
def test_ids_and_paths_survive_redaction(text: str) -> None:
    assert logs.redact(text) == text


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RedactingFilter())
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream


def test_each_record_is_one_json_object_per_line() -> None:
    logger, stream = capture()
    logger.info("first")
    logger.warning("second\nline")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["message"] for e in entries] == ["first", "second\nline"]
    assert {"time", "level", "logger"} <= set(entries[0])


def test_filter_redacts_arguments_extra_fields_and_exceptions() -> None:
    logger, stream = capture()
    try:
        raise ValueError("bad code 7KQ4-M2XP-9DWR-3HZT")
    except ValueError:
        logger.exception("failed for %s", "7KQ4M2XP9DWR3HZT", extra={"key": KEY})
    line = stream.getvalue()
    assert "7KQ4" not in line and "f" * 64 not in line
    assert "ValueError" in line


def test_filter_redacts_codes_nested_in_extra_fields_even_after_a_newline() -> None:
    # Written as JSON, "\nCODE" becomes "\\nCODE": the pass over the finished line cannot see that code.
    logger, stream = capture()
    logger.info(
        "recorded",
        extra={"details": {"note": "typed:\n7KQ4-M2XP-9DWR-3HZT", "tried": ("x\t7KQ4M2XP9DWR3HZT",)}},
    )
    entry = json.loads(stream.getvalue())
    assert entry["details"] == {"note": "typed:\n[REDACTED]", "tried": ["x\t[REDACTED]"]}


def test_an_extra_value_json_cannot_write_is_redacted_as_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "held\n7KQ4-M2XP-9DWR-3HZT"

    logger, stream = capture()
    logger.info("recorded", extra={"thing": Opaque()})
    assert json.loads(stream.getvalue())["thing"] == "held\n[REDACTED]"


def test_a_cyclic_extra_value_is_logged_not_raised() -> None:
    logger, stream = capture()
    loop: list[Any] = ["7KQ4-M2XP-9DWR-3HZT"]
    loop.append(loop)
    logger.info("recorded", extra={"loop": loop})
    assert "7KQ4" not in stream.getvalue() and json.loads(stream.getvalue())["message"] == "recorded"


def test_access_log_has_request_fields_but_no_body_or_headers(bridge_app: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="bridge.access"):
        bridge_app.client.post(
            "/v1/realms/demo/users/alice/codes/verify?x=1",
            headers={**bridge_app.headers, "X-Request-Id": "req-42"},
            json={"code": "SECRETBODYVALUE", "client_ip": "192.0.2.1"},
        )
    record = next(r for r in caplog.records if r.name == "bridge.access")
    assert (record.method, record.path, record.status, record.request_id) == (
        "POST",
        "/v1/realms/demo/users/alice/codes/verify",
        200,
        "req-42",
    )
    assert record.duration_ms >= 0
    text = json.dumps({k: str(v) for k, v in record.__dict__.items()})
    assert "SECRETBODYVALUE" not in text and bridge_app.api_key not in text and "x=1" not in text


# Every character str.splitlines breaks a line at (JavaScript's line terminators are among them).
LINE_BREAKS = [chr(c) for c in range(0x3000) if len(f"a{chr(c)}b".splitlines()) == 2]


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=[f"U+{ord(c):04X}" for c in LINE_BREAKS])
def test_a_line_break_in_the_message_keeps_the_record_on_one_line(brk: str) -> None:
    logger, stream = capture()
    logger.info("before%safter", brk)
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == f"before{brk}after"


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=[f"U+{ord(c):04X}" for c in LINE_BREAKS])
def test_a_line_break_in_an_extra_field_keeps_the_record_on_one_line(brk: str) -> None:
    logger, stream = capture()
    logger.info("recorded", extra={"path": f"/v1/realms/a{brk}b", "details": {f"k{brk}": [f"v{brk}"]}})
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["path"] == f"/v1/realms/a{brk}b" and entry["details"] == {f"k{brk}": [f"v{brk}"]}


def test_the_served_access_log_keeps_a_path_with_a_line_separator_on_one_line(start_bridge: Any) -> None:
    bridge = start_bridge()
    for brk in ("%E2%80%A8", "%E2%80%A9", "%C2%85"):
        requests.get(f"{bridge.url}/v1/realms/demo/users/a{brk}b/codes", headers=bridge.headers, timeout=30)
    bridge.stop()
    lines = bridge.log_text().splitlines()
    access = [json.loads(line) for line in lines if '"bridge.access"' in line]
    paths = {entry["path"] for entry in access}
    assert {"/v1/realms/demo/users/a\u2028b/codes", "/v1/realms/demo/users/a\u2029b/codes"} <= paths
    assert "/v1/realms/demo/users/a\x85b/codes" in paths
    assert all(line.startswith("{") for line in lines if line.strip())
