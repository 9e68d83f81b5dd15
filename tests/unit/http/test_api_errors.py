"""Bad requests get a JSON {"error", "message"} with the right status, and never echo what was sent."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

VERIFY = "/v1/realms/demo/users/alice/codes/verify"
SECRET_LOOKING = "ABCD-EFGH-JKMN-PQRS"


def is_error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error", "message"}
    if error:
        assert body["error"] == error
    return body


def test_malformed_json_is_400(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data="{oops", content_type="application/json"
    )
    is_error(response, 400, "invalid_json")


def test_missing_body_is_400(bridge_app: Any) -> None:
    is_error(bridge_app.client.post(VERIFY, headers=bridge_app.headers), 400, "missing_body")


def test_body_that_is_not_json_is_415(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data="code=1", content_type="text/plain"
    )
    is_error(response, 415, "unsupported_media_type")


def test_body_over_64_kib_is_413(bridge_app: Any) -> None:
    payload = json.dumps({"code": "x" * 70_000, "client_ip": "192.0.2.1"})
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data=payload, content_type="application/json"
    )
    is_error(response, 413, "payload_too_large")


def test_validation_error_names_every_bad_field(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, json={"code": 5, "client_ip": "nope", "x": 1}
    )
    body = is_error(response, 400, "validation_failed")
    for name in ("code", "client_ip", "x"):
        assert name in body["message"]


def test_missing_required_field_is_named(bridge_app: Any) -> None:
    response = bridge_app.client.post(VERIFY, headers=bridge_app.headers, json={"code": "1"})
    assert "client_ip: required" in is_error(response, 400)["message"]


def test_validation_error_never_echoes_the_value(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, json={"code": SECRET_LOOKING * 4, "client_ip": SECRET_LOOKING}
    )
    assert SECRET_LOOKING not in response.get_data(as_text=True)


def test_code_longer_than_64_characters_is_400(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, json={"code": "A" * 65, "client_ip": "::1"}
    )
    assert "code" in is_error(response, 400)["message"]


@pytest.mark.parametrize("user", ["al ice", "al%21ce", "a" * 256, "%C3%A9"])
def test_bad_user_id_in_path_is_400(bridge_app: Any, user: str) -> None:
    response = bridge_app.client.get(f"/v1/realms/demo/users/{user}/codes", headers=bridge_app.headers)
    is_error(response, 400, "invalid_path")


def test_unknown_lock_source_is_400(bridge_app: Any) -> None:
    response = bridge_app.client.delete(
        "/v1/realms/demo/users/alice/locks/somebody", headers=bridge_app.headers
    )
    is_error(response, 400, "invalid_path")


def test_unknown_route_is_404(bridge_app: Any) -> None:
    is_error(bridge_app.client.get("/v1/nothing-here", headers=bridge_app.headers), 404, "not_found")


def test_unsupported_method_is_405_with_allow(bridge_app: Any) -> None:
    response = bridge_app.client.patch("/v1/realms/demo/users/alice/codes", headers=bridge_app.headers)
    is_error(response, 405, "method_not_allowed")
    assert {"GET", "POST", "DELETE"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_nan_is_not_json(bridge_app: Any) -> None:
    response = bridge_app.client.put(
        "/v1/realms/demo/policy",
        headers=bridge_app.headers,
        data='{"max_failures": NaN}',
        content_type="application/json",
    )
    is_error(response, 400, "invalid_json")


def test_deeply_nested_json_is_400(bridge_app: Any) -> None:
    payload = "[" * 30_000 + "]" * 30_000
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data=payload, content_type="application/json"
    )
    assert response.status_code == 400


def json_body_operations() -> list[tuple[str, str]]:
    """Every operation of the published contract that takes a JSON body, with its path filled in."""
    from bridge.http.validation import spec

    filled = {"{realm}": "demo", "{user_id}": "alice", "{source}": "codes"}
    operations = []
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                for name, value in filled.items():
                    path = path.replace(name, value)
                operations.append((method.upper(), path))
    return operations


def nested(depth: int, kind: str) -> str:
    opening, closing = ("[", "]") if kind == "array" else ('{"a":', "}")
    return opening * depth + "1" + closing * depth


@pytest.mark.parametrize("depth", [500, 10_000])
@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize(("method", "path"), json_body_operations())
def test_json_nested_too_deep_is_a_400_on_every_json_endpoint_and_logs_no_traceback(
    bridge_app: Any, caplog: Any, method: str, path: str, kind: str, depth: int
) -> None:
    with caplog.at_level(logging.INFO):
        response = bridge_app.client.open(
            path,
            method=method,
            headers=bridge_app.headers,
            data=nested(depth, kind),
            content_type="application/json",
        )
    body = is_error(response, 400, "invalid_json")
    assert "32 levels" in body["message"]
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


def test_json_nested_33_levels_is_refused_before_parsing(bridge_app: Any) -> None:
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data=nested(33, "array"), content_type="application/json"
    )
    assert "32 levels" in is_error(response, 400, "invalid_json")["message"]


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"1", 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[{{", "b": "\\"[["}', 1),
        (b'["\\\\", []]', 2),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings_only(text: bytes, depth: int) -> None:
    from bridge.http.validation import nesting_depth

    assert nesting_depth(text) == depth


@pytest.mark.parametrize("text", [b'"' + b"[" * 40, b'"' + b'\\"[' * 40, b'["ab\\'])
def test_an_unterminated_string_runs_to_the_end_of_the_body(text: bytes) -> None:
    """Its brackets are text, and the scan that finds it does not start again inside it (that restart
    made a 64 KiB string of escaped quotes cost 13.8 s of CPU; benchmarks/hostile_input.py prints it)."""
    from bridge.http.validation import nesting_depth

    assert nesting_depth(text) <= 1


def test_lone_surrogate_is_400(bridge_app: Any) -> None:
    payload = '{"code": "\\ud800", "client_ip": "192.0.2.1"}'
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, data=payload, content_type="application/json"
    )
    is_error(response, 400, "invalid_json")


def test_a_libraries_value_error_is_an_internal_error_not_the_callers_fault(
    bridge_app: Any, monkeypatch: Any
) -> None:
    def library_bug(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("invalid literal for int() with base 10: 'secret'")

    monkeypatch.setattr(bridge_app.service, "status", library_bug)
    response = bridge_app.client.get("/v1/realms/demo/users/alice/codes", headers=bridge_app.headers)
    body = is_error(response, 500, "internal")
    assert "secret" not in json.dumps(body)


def test_unexpected_exception_is_a_bare_500_without_trace(
    bridge_app: Any, monkeypatch: Any, caplog: Any
) -> None:
    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(bridge_app.service, "status", boom)
    with caplog.at_level(logging.ERROR, logger="bridge.http.app"):
        response = bridge_app.client.get("/v1/realms/demo/users/alice/codes", headers=bridge_app.headers)
    body = is_error(response, 500, "internal")
    assert "exploded" not in json.dumps(body) and "Traceback" not in response.get_data(as_text=True)
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and (r.exc_info or r.exc_text)]
    assert logged, "the exception and its trace go to the log"


def test_a_database_that_cannot_answer_is_503_with_retry_after(
    bridge_app: Any, monkeypatch: Any, caplog: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {"p": SECRET_LOOKING}, Exception("database is locked"))

    monkeypatch.setattr(bridge_app.service, "status", unreachable)
    with caplog.at_level(logging.ERROR, logger="bridge.http.app"):
        response = bridge_app.client.get("/v1/realms/demo/users/alice/codes", headers=bridge_app.headers)
    is_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) > 0
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in logged] == [
        "database unavailable in GET /v1/realms/demo/users/alice/codes: database is locked"
    ]
    assert not logged[0].exc_info, "an outage logs one line per request, not a trace"


def test_request_id_is_generated_and_echoed(bridge_app: Any) -> None:
    response = bridge_app.client.get("/healthz")
    assert len(response.headers["X-Request-Id"]) == 36


def test_sane_request_id_from_the_caller_is_kept(bridge_app: Any) -> None:
    response = bridge_app.client.get("/healthz", headers={"X-Request-Id": "kc-1234.abc"})
    assert response.headers["X-Request-Id"] == "kc-1234.abc"


def test_insane_request_id_is_replaced(bridge_app: Any) -> None:
    response = bridge_app.client.get("/healthz", headers={"X-Request-Id": "<script>" * 40})
    assert response.headers["X-Request-Id"] != "<script>" * 40
