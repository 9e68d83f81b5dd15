"""The published contract (bridge/http/openapi.json) is true: every route is in it, and schemathesis finds
no server error and no response outside the spec across all its checks.

In the gate the run is seeded (the same requests every time); scripts/fuzz.sh widens it with a random
seed and more examples (see :func:`fuzz_run`)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import core, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from bridge.http.validation import spec

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


# The gate's run: a fixed seed, so every run sends the same requests and decides the same way.
GATE_SEED = 20261204
GATE_EXAMPLES = 30


@dataclass(frozen=True)
class FuzzRun:
    """How many examples per operation, from which seed (printed, so a finding can be replayed)."""

    seed: int
    max_examples: int


def fuzz_run() -> FuzzRun:
    """The gate's fixed run under the deterministic hypothesis profile; under ``fuzz`` (scripts/fuzz.sh)
    the profile's example count and the ``--hypothesis-seed`` given, else a random one."""
    if settings.default.derandomize:
        return FuzzRun(seed=GATE_SEED, max_examples=GATE_EXAMPLES)
    forced = core.global_force_seed
    seed = int(forced) if forced is not None else random.SystemRandom().randrange(2**32)
    return FuzzRun(seed=seed, max_examples=settings.default.max_examples)


@pytest.fixture
def run() -> FuzzRun:
    chosen = fuzz_run()
    print(f"schemathesis seed {chosen.seed}, {chosen.max_examples} examples per operation")
    return chosen


@pytest.fixture
def api_schema(bridge_app: Any, run: FuzzRun) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "seed": run.seed,
            "headers": {"Authorization": f"Bearer {bridge_app.api_key}"},
            "generation": {"max-examples": run.max_examples, "database": "none"},
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


def spec_patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in spec_patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in spec_patterns(value)]
    return []


@pytest.mark.usefixtures("wsgi_transport_without_socket_options")
def test_schemathesis_finds_no_failure(api_schema: Any, run: FuzzRun) -> None:
    """All phases (examples, coverage, fuzzing, stateful) and all checks on every operation, as
    `schemathesis run --checks all` would do, but in-process through the WSGI app.

    First, schemathesis must enforce every pattern: one its (Rust) regex engine cannot compile, such as
    a surrogate range, is dropped silently, and the run would call values valid that the server refuses.
    """
    from schemathesis.core.jsonschema.patterns import enforced_pattern

    assert [p for p in spec_patterns(spec()) if enforced_pattern(p) is None] == []
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
    found = sorted(set(failures))
    assert not failures, f"seed {run.seed} ({len(found)} findings):\n" + "\n".join(found[:40])


# ------------------------------------------------------------ the contract refuses what the server refuses


@pytest.mark.parametrize("blank", [" ", "\u0085", "\u00a0\u3000"])
@pytest.mark.parametrize("field", ["username", "realm_display_name"])
def test_a_sheet_for_a_blank_name_is_refused_by_the_contract(bridge_app: Any, field: str, blank: str) -> None:
    body = {"codes": ["7KQ4-M2XP-9DWR-3HZT"], "username": "alice", "realm_display_name": "Demo", field: blank}
    response = bridge_app.client.post("/v1/sheets/txt", headers=bridge_app.headers, json=body)
    assert response.status_code == 400
    assert response.json["error"] == "validation_failed"
    assert field in response.json["message"]
