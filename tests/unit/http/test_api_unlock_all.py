"""Keycloak's "unlock all users" lifts every temporary codes lock of a realm in one call, for an admin."""

from __future__ import annotations

from typing import Any

from tests.unit.http.test_api_realm_keys import realm_key

PATH = "/v1/realms/demo/locks/codes/unlock"
UNLOCK = {
    "actor": "keycloak-admin:master/helpdesk",
    "reason": "all users unlocked in the Keycloak admin console",
}


def call(bridge_app: Any, method: str, path: str, body: Any = None, headers: Any = None) -> Any:
    return bridge_app.client.open(path, method=method, headers=headers or bridge_app.headers, json=body)


def lock(bridge_app: Any, user: str, kind: str, source: str = "codes", realm: str = "demo") -> None:
    body = {"kind": kind, "reason": "too many wrong codes"}
    path = f"/v1/realms/{realm}/users/{user}/locks/{source}"
    assert call(bridge_app, "PUT", path, body).status_code == 200


def effective(bridge_app: Any, user: str, realm: str = "demo") -> dict[str, Any]:
    return call(bridge_app, "GET", f"/v1/realms/{realm}/users/{user}/locks").json["effective"]


def test_unlock_all_lifts_every_temporary_codes_lock_and_counts_them(bridge_app: Any) -> None:
    for user in ("alice", "bob"):
        lock(bridge_app, user, "temporary")
    response = call(bridge_app, "POST", PATH, UNLOCK)
    assert response.status_code == 200
    assert response.json == {"cleared": 2}
    assert not effective(bridge_app, "alice")["locked"] and not effective(bridge_app, "bob")["locked"]


def test_unlock_all_keeps_permanent_and_directory_locks(bridge_app: Any) -> None:
    lock(bridge_app, "carol", "permanent")
    lock(bridge_app, "dave", "temporary", source="directory")
    assert call(bridge_app, "POST", PATH, UNLOCK).json == {"cleared": 0}
    assert effective(bridge_app, "carol")["kind"] == "permanent"
    assert effective(bridge_app, "dave")["source"] == "directory"


def test_unlock_all_audits_each_user_with_the_admin(bridge_app: Any) -> None:
    for user in ("alice", "bob"):
        lock(bridge_app, user, "temporary")
    call(bridge_app, "POST", PATH, UNLOCK)
    events = call(bridge_app, "GET", "/v1/audit?event=unlocked&realm=demo").json["events"]
    assert sorted((e["user_id"], e["actor"]) for e in events) == [
        ("alice", UNLOCK["actor"]),
        ("bob", UNLOCK["actor"]),
    ]


def test_unlock_all_needs_an_actor(bridge_app: Any) -> None:
    lock(bridge_app, "alice", "temporary")
    response = call(bridge_app, "POST", PATH, {"reason": "x"})
    assert response.status_code == 400
    assert response.json["error"]
    assert effective(bridge_app, "alice")["locked"]


def test_a_realm_key_may_unlock_its_own_realm_only(bridge_app: Any) -> None:
    lock(bridge_app, "alice", "temporary", realm="other")
    headers = realm_key(bridge_app, "demo")
    refused = call(bridge_app, "POST", "/v1/realms/other/locks/codes/unlock", UNLOCK, headers=headers)
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert effective(bridge_app, "alice", realm="other")["locked"]
    assert call(bridge_app, "POST", PATH, UNLOCK, headers=headers).status_code == 200
