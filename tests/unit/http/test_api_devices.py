"""Remembered devices over HTTP (in-process Flask client, device recognition on)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

REALM, USER = "demo", "alice"
USER_PATH = f"/v1/realms/{REALM}/users/{USER}"
DEVICES = f"{USER_PATH}/devices"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def register(bridge_app: Any, path: str = DEVICES, **body: Any) -> dict[str, Any]:
    response = bridge_app.client.post(path, headers=bridge_app.headers, json=body or None)
    assert response.status_code == 201, response.json
    return response.json


def check(bridge_app: Any, token: Any, path: str = f"{DEVICES}/check") -> dict[str, Any]:
    response = bridge_app.client.post(
        path, headers=bridge_app.headers, json={"token": token, "client_ip": "192.0.2.9"}
    )
    assert response.status_code == 200, response.json
    return response.json


def test_register_answers_201_with_the_contract_fields(bridge_app: Any) -> None:
    body = register(bridge_app, client_ip="192.0.2.7", user_agent=SAFARI)
    assert set(body) == {"device_id", "token", "name", "expires_at", "max_age_seconds"}
    assert body["name"] == "Safari on iPhone"
    assert body["max_age_seconds"] == 90 * 86400
    assert re.fullmatch(rf"{body['device_id']}\.[0-9]+\.[A-Za-z0-9_-]{{43}}", body["token"])


def test_register_accepts_no_body(bridge_app: Any) -> None:
    assert bridge_app.client.post(DEVICES, headers=bridge_app.headers).status_code == 201


def test_registered_token_is_recognised(bridge_app: Any) -> None:
    device = register(bridge_app)
    assert check(bridge_app, device["token"]) == {
        "recognised": True,
        "device_id": device["device_id"],
        "reason": "ok",
    }


def test_replayed_token_of_another_user_is_not_recognised(bridge_app: Any) -> None:
    bob = register(bridge_app, f"/v1/realms/{REALM}/users/bob/devices")
    answer = check(bridge_app, bob["token"])
    assert answer["recognised"] is False and answer["reason"] == "invalid"


def test_tampered_token_is_not_recognised(bridge_app: Any) -> None:
    device_id, expires, sig = register(bridge_app)["token"].split(".")
    answer = check(bridge_app, f"{device_id}.{int(expires) + 1}.{sig}")
    assert answer["recognised"] is False and answer["reason"] == "invalid"


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "é" * 40, "0" * 32 + "." + "9" * 12 + "." + "A" * 43]
)
def test_malformed_token_is_answered_invalid_not_an_error(bridge_app: Any, token: str) -> None:
    assert check(bridge_app, token)["reason"] == "invalid"


def test_token_that_is_not_a_string_is_a_400(bridge_app: Any) -> None:
    response = bridge_app.client.post(f"{DEVICES}/check", headers=bridge_app.headers, json={"token": 5})
    assert response.status_code == 400 and response.json["error"] == "validation_failed"


def test_forgotten_devices_token_is_not_recognised(bridge_app: Any) -> None:
    device = register(bridge_app)
    bridge_app.client.post(f"{DEVICES}/forget", headers=bridge_app.headers, json={"reason": "user"})
    answer = check(bridge_app, device["token"])
    assert answer["recognised"] is False and answer["reason"] == "forgotten"


def test_list_shows_each_device_without_its_token(bridge_app: Any) -> None:
    device = register(bridge_app, client_ip="192.0.2.7", user_agent=SAFARI)
    response = bridge_app.client.get(DEVICES, headers=bridge_app.headers)
    assert response.status_code == 200
    [listed] = response.json["devices"]
    assert set(listed) == {"device_id", "name", "first_seen", "last_seen", "last_ip"}
    assert listed["device_id"] == device["device_id"] and listed["last_ip"] == "192.0.2.7"


def test_forget_all_answers_how_many(bridge_app: Any) -> None:
    register(bridge_app)
    register(bridge_app)
    response = bridge_app.client.post(
        f"{DEVICES}/forget", headers=bridge_app.headers, json={"reason": "password_reset"}
    )
    assert response.status_code == 200 and response.json == {"forgotten": 2}


def test_forget_all_is_audited_with_the_reason(bridge_app: Any) -> None:
    register(bridge_app)
    bridge_app.client.post(f"{DEVICES}/forget", headers=bridge_app.headers, json={"reason": "password_reset"})
    events = bridge_app.client.get(
        f"/v1/audit?realm={REALM}&user_id={USER}&event=devices_forgotten", headers=bridge_app.headers
    ).json["events"]
    assert [e["details"]["reason"] for e in events] == ["password_reset"]


def test_forget_one_is_204_then_404(bridge_app: Any) -> None:
    device = register(bridge_app)
    path = f"{DEVICES}/{device['device_id']}"
    assert bridge_app.client.delete(path, headers=bridge_app.headers).status_code == 204
    assert bridge_app.client.delete(path, headers=bridge_app.headers).status_code == 404


def test_forget_one_that_is_not_a_device_id_is_404(bridge_app: Any) -> None:
    response = bridge_app.client.delete(f"{DEVICES}/NOT-AN-ID", headers=bridge_app.headers)
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_device_routes_need_an_api_key(bridge_app: Any) -> None:
    assert bridge_app.client.post(DEVICES).status_code == 401


def test_the_token_is_never_logged(bridge_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = register(bridge_app, user_agent=SAFARI)["token"]
    check(bridge_app, token)
    check(bridge_app, token + "x")
    signature = token.rsplit(".", 1)[1]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records and signature not in logged


# ------------------------------------------------------------------------- recovery verify over HTTP


def test_recovery_verify_answers_the_cleared_locks(bridge_app: Any) -> None:
    codes = bridge_app.client.post(f"{USER_PATH}/codes", headers=bridge_app.headers).json["codes"]
    bridge_app.client.put(
        f"{USER_PATH}/locks/directory",
        headers=bridge_app.headers,
        json={"kind": "temporary", "reason": "failed binds", "duration_seconds": 600},
    )
    response = bridge_app.client.post(
        f"{USER_PATH}/codes/verify",
        headers=bridge_app.headers,
        json={"code": codes[0], "client_ip": "192.0.2.9", "purpose": "recovery", "keycloak_locked": True},
    )
    assert response.status_code == 200
    assert response.json["valid"] is True and response.json["enroll_required"] is True
    assert response.json["cleared_locks"] == ["directory", "keycloak"]


def test_wrong_code_in_recovery_over_http_leaves_the_lock(bridge_app: Any) -> None:
    bridge_app.client.post(f"{USER_PATH}/codes", headers=bridge_app.headers)
    bridge_app.client.put(
        f"{USER_PATH}/locks/directory",
        headers=bridge_app.headers,
        json={"kind": "temporary", "reason": "failed binds", "duration_seconds": 600},
    )
    response = bridge_app.client.post(
        f"{USER_PATH}/codes/verify",
        headers=bridge_app.headers,
        json={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "client_ip": "192.0.2.9", "purpose": "recovery"},
    )
    assert response.json["valid"] is False and response.json["cleared_locks"] == []
    locks = bridge_app.client.get(f"{USER_PATH}/locks", headers=bridge_app.headers).json
    assert locks["effective"]["source"] == "directory"


# ------------------------------------------------------------------------- ids with ':'


def test_keycloak_federated_user_id_with_colons_is_accepted(bridge_app: Any) -> None:
    path = f"/v1/realms/{REALM}/users/f:4c1b2a3d-ldap:9f8e7d6c/codes"
    assert bridge_app.client.post(path, headers=bridge_app.headers).status_code == 201
    assert bridge_app.client.get(path, headers=bridge_app.headers).json["enrolled"] is True


def test_user_id_with_other_punctuation_is_still_refused(bridge_app: Any) -> None:
    response = bridge_app.client.get(f"/v1/realms/{REALM}/users/a|b/codes", headers=bridge_app.headers)
    assert response.status_code == 400 and response.json["error"] == "invalid_path"


def test_percent_encoded_colons_in_a_user_id_reach_the_same_user(bridge_app: Any) -> None:
    bridge_app.client.post(f"/v1/realms/{REALM}/users/f:abc:123/codes", headers=bridge_app.headers)
    status = bridge_app.client.get(
        f"/v1/realms/{REALM}/users/f%3Aabc%3A123/codes", headers=bridge_app.headers
    )
    assert status.status_code == 200 and status.json["enrolled"] is True
