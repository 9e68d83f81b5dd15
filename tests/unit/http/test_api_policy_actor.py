"""Who changed a realm's policy: the optional ``actor`` of ``PUT /v1/realms/{realm}/policy``.

The admin console writes the policy with the bridge API key of its Keycloak, so without an actor the
audit would name that key for every admin; with one, the ``policy_changed`` row names the admin.
"""

from __future__ import annotations

from typing import Any

import pytest

POLICY = "/v1/realms/demo/policy"


def call(bridge_app: Any, method: str, path: str, body: Any = None) -> Any:
    return bridge_app.client.open(path, method=method, headers=bridge_app.headers, json=body)


def last_change(bridge_app: Any) -> dict[str, Any]:
    return call(bridge_app, "GET", "/v1/audit?event=policy_changed&realm=demo").json["events"][-1]


def test_the_given_actor_replaces_the_api_keys_name_in_the_audit(bridge_app: Any) -> None:
    call(bridge_app, "PUT", POLICY, {"max_failures": 6})
    assert last_change(bridge_app)["actor"].startswith("api:")
    body = {"max_failures": 7, "actor": "keycloak-admin:master/alice"}
    assert call(bridge_app, "PUT", POLICY, body).status_code == 200
    assert last_change(bridge_app)["actor"] == "keycloak-admin:master/alice"


def test_the_actor_is_not_stored_as_a_policy_field(bridge_app: Any) -> None:
    response = call(bridge_app, "PUT", POLICY, {"max_failures": 8, "actor": "keycloak-admin:master/alice"})
    assert "actor" not in response.json
    assert "actor" not in last_change(bridge_app)["details"]["new"]


@pytest.mark.parametrize(
    "actor",
    ["alice\nforged: row", "tab\there", "\x7f", "", "a" * 256, 42],
    ids=["newline", "tab", "delete", "empty", "too-long", "not-a-string"],
)
def test_a_malformed_actor_is_400_and_the_policy_is_kept(bridge_app: Any, actor: Any) -> None:
    before = call(bridge_app, "GET", POLICY).json
    response = call(bridge_app, "PUT", POLICY, {"max_failures": 9, "actor": actor})
    assert response.status_code == 400
    assert set(response.json) >= {"error", "message"}
    assert response.json["message"].startswith("actor: ")  # the field's own rule, not "unknown field"
    assert call(bridge_app, "GET", POLICY).json == before
