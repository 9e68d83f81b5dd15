"""Keycloak's "unlock user" lifts the bridge's temporary lock for a named admin, never a permanent one."""

from __future__ import annotations

from typing import Any

BASE = "/v1/realms/demo/users/alice"
UNLOCK = {"actor": "keycloak-admin:master/helpdesk", "reason": "unlocked in the Keycloak admin console"}


def call(bridge_app: Any, method: str, path: str, body: Any = None) -> Any:
    return bridge_app.client.open(path, method=method, headers=bridge_app.headers, json=body)


def lock(bridge_app: Any, kind: str) -> None:
    body = {"kind": kind, "reason": "too many wrong codes"}
    assert call(bridge_app, "PUT", f"{BASE}/locks/codes", body).status_code == 200


def test_unlock_lifts_a_temporary_lock(bridge_app: Any) -> None:
    lock(bridge_app, "temporary")
    response = call(bridge_app, "POST", f"{BASE}/locks/codes/unlock", UNLOCK)
    assert response.status_code == 200
    assert response.json["cleared"] is True
    assert response.json["effective"]["locked"] is False


def test_unlock_keeps_a_permanent_lock(bridge_app: Any) -> None:
    lock(bridge_app, "permanent")
    response = call(bridge_app, "POST", f"{BASE}/locks/codes/unlock", UNLOCK)
    assert response.status_code == 200
    assert response.json["cleared"] is False
    assert response.json["effective"]["kind"] == "permanent"


def test_unlock_without_a_lock_clears_nothing(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", f"{BASE}/locks/codes/unlock", UNLOCK)
    assert response.status_code == 200
    assert response.json["cleared"] is False


def test_unlock_is_audited_with_the_admin(bridge_app: Any) -> None:
    lock(bridge_app, "temporary")
    call(bridge_app, "POST", f"{BASE}/locks/codes/unlock", UNLOCK)
    events = call(bridge_app, "GET", "/v1/audit?event=unlocked&realm=demo").json["events"]
    assert [e["actor"] for e in events] == [UNLOCK["actor"]]


def test_unlock_needs_an_actor(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", f"{BASE}/locks/codes/unlock", {"reason": "x"})
    assert response.status_code == 400
    assert response.json["error"]
