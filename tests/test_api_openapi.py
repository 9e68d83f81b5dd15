"""The published contract (bridge/openapi.json) is true: every route is in it, and schemathesis finds
no server error and no response outside the spec across all its checks."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from bridge.api import spec

# Flask adds HEAD and OPTIONS to every route by itself; the spec lists what the service implements.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def flask_routes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - IMPLICIT_METHODS}
    return routes


def spec_routes() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec()["paths"].items() for method in item}


def test_every_flask_route_is_in_the_spec(bridge_app: Any) -> None:
    assert flask_routes(bridge_app.app) - spec_routes() == set()


def test_every_spec_operation_is_a_flask_route(bridge_app: Any) -> None:
    assert spec_routes() - flask_routes(bridge_app.app) == set()


def test_spec_is_openapi_3_1_with_strict_request_schemas() -> None:
    document = spec()
    assert document["openapi"].startswith("3.1")
    for name, schema in document["components"]["schemas"].items():
        if schema.get("type") == "object":
            assert schema.get("additionalProperties") is False, name


def test_served_spec_is_the_file(bridge_app: Any) -> None:
    assert bridge_app.client.get("/openapi.json").json == spec()


@pytest.fixture
def api_schema(bridge_app: Any) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {bridge_app.api_key}"},
            "generation": {"max-examples": 30, "database": "none"},
            "checks": {
                # A policy can be well-formed for the schema yet break a cross-field floor
                # (low_threshold < code_count): that is the documented 422.
                "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "422"]},
            },
        }
    )
    return schemathesis.openapi.from_wsgi("/openapi.json", bridge_app.app, config=config)


@pytest.fixture
def wsgi_transport_without_socket_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32's engine hands socket options (max_redirects, verify…) to its WSGI transport,
    which passes them on to werkzeug and fails every request; in-process they mean nothing."""
    from schemathesis.transport import wsgi

    original = wsgi.WSGITransport.send

    def send(self: Any, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    monkeypatch.setattr(wsgi.WSGITransport, "send", send)


@pytest.mark.usefixtures("wsgi_transport_without_socket_options")
def test_schemathesis_finds_no_failure(api_schema: Any) -> None:
    """All phases (examples, coverage, fuzzing, stateful) and all checks on every operation, as
    `schemathesis run --checks all` would do, but in-process through the WSGI app."""
    failures: list[str] = []
    checks_run: set[str] = set()
    for event in schemathesis.engine.from_schema(api_schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    checks_run.add(node.name)
                    if node.status != Status.SUCCESS and node.failure_info is not None:
                        info = node.failure_info
                        label = f"{event.recorder.label}: {node.name}"
                        failures.append(f"{label}: {info.failure}\n{info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: error: {event.info.message}")
        elif isinstance(event, events.FatalError):
            failures.append(f"fatal: {event.exception!r}")
    assert {"not_a_server_error", "negative_data_rejection", "ignored_auth"} <= checks_run
    assert not failures, "\n".join(sorted(set(failures))[:40])
