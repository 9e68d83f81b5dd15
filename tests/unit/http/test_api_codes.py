"""Issuing, verifying, inspecting and revoking codes over HTTP (in-process Flask client)."""

from __future__ import annotations

from typing import Any

REALM = "demo"
USER = "alice"
CODES = f"/v1/realms/{REALM}/users/{USER}/codes"
VERIFY = f"{CODES}/verify"


def issue(bridge_app: Any, path: str = CODES) -> list[str]:
    response = bridge_app.client.post(path, headers=bridge_app.headers)
    assert response.status_code == 201, response.json
    return response.json["codes"]


def verify(bridge_app: Any, code: str, path: str = VERIFY, ip: str = "192.0.2.10") -> dict[str, Any]:
    response = bridge_app.client.post(path, headers=bridge_app.headers, json={"code": code, "client_ip": ip})
    assert response.status_code == 200, response.json
    return response.json


def test_issue_answers_201_with_ten_display_form_codes(bridge_app: Any) -> None:
    response = bridge_app.client.post(CODES, headers=bridge_app.headers)
    assert response.status_code == 201
    body = response.json
    assert body["count"] == 10
    assert len(body["codes"]) == len(set(body["codes"])) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in body["codes"])
    assert body["set_id"] and body["created_at"]


def test_issue_accepts_an_empty_body_or_an_empty_object(bridge_app: Any) -> None:
    assert bridge_app.client.post(CODES, headers=bridge_app.headers, json={}).status_code == 201


def test_issued_code_verifies(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    result = verify(bridge_app, codes[0])
    assert result == {
        "valid": True,
        "reason": "ok",
        "remaining": 9,
        "low": False,
        "enroll_required": False,
        "locked_until": None,
        "cleared_locks": [],
    }


def test_code_verifies_whatever_the_case_and_without_dashes(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    assert verify(bridge_app, codes[0].replace("-", "").lower())["valid"] is True


def test_same_code_a_second_time_is_not_valid(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    verify(bridge_app, codes[0])
    second = verify(bridge_app, codes[0])
    assert second["valid"] is False
    assert second["reason"] == "used"


def test_wrong_code_is_not_valid(bridge_app: Any) -> None:
    issue(bridge_app)
    result = verify(bridge_app, "0000-0000-0000-0000")
    assert result["valid"] is False
    assert result["reason"] in ("invalid", "used")


def test_malformed_code_is_answered_200_valid_false(bridge_app: Any) -> None:
    issue(bridge_app)
    result = verify(bridge_app, "not a code!")
    assert result["valid"] is False
    assert result["reason"] == "malformed"


def test_code_of_another_user_is_not_valid(bridge_app: Any) -> None:
    codes = issue(bridge_app, f"/v1/realms/{REALM}/users/bob/codes")
    issue(bridge_app)
    assert verify(bridge_app, codes[0])["valid"] is False


def test_verify_for_unknown_user_is_not_valid(bridge_app: Any) -> None:
    result = verify(bridge_app, "0000-0000-0000-0000", path=f"/v1/realms/{REALM}/users/nobody/codes/verify")
    assert result["valid"] is False
    assert result["reason"] == "unknown_user"


def test_regenerating_invalidates_the_old_set(bridge_app: Any) -> None:
    old = issue(bridge_app)
    issue(bridge_app)
    assert verify(bridge_app, old[0])["valid"] is False


def test_status_of_unknown_user_is_not_enrolled(bridge_app: Any) -> None:
    response = bridge_app.client.get("/v1/realms/nowhere/users/nobody/codes", headers=bridge_app.headers)
    assert response.status_code == 200
    assert response.json["enrolled"] is False
    assert response.json["remaining"] == 0
    assert response.json["lock"]["locked"] is False


def test_status_counts_remaining_codes(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    verify(bridge_app, codes[3])
    status = bridge_app.client.get(CODES, headers=bridge_app.headers).json
    assert status["enrolled"] is True
    assert (status["total"], status["remaining"]) == (10, 9)
    assert status["last_used_at"] is not None


def test_status_is_low_at_the_threshold(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    for code in codes[:7]:
        verify(bridge_app, code)
    status = bridge_app.client.get(CODES, headers=bridge_app.headers).json
    assert status["remaining"] == status["low_threshold"] == 3
    assert status["low"] is True


def test_revoke_answers_204_and_the_codes_stop_working(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    assert bridge_app.client.delete(CODES, headers=bridge_app.headers).status_code == 204
    assert verify(bridge_app, codes[0])["valid"] is False
    assert bridge_app.client.get(CODES, headers=bridge_app.headers).json["enrolled"] is False


def test_revoking_a_user_without_codes_is_still_204(bridge_app: Any) -> None:
    assert bridge_app.client.delete(CODES, headers=bridge_app.headers).status_code == 204


def test_too_many_failures_lock_the_user_even_for_a_valid_code(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    for _ in range(5):
        verify(bridge_app, "0000-0000-0000-0000")
    result = verify(bridge_app, codes[0])
    assert result["valid"] is False
    assert result["reason"] == "locked"
    assert result["locked_until"] is not None


def test_responses_are_never_cached(bridge_app: Any) -> None:
    response = bridge_app.client.post(CODES, headers=bridge_app.headers)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_code_refused_as_busy_says_when_to_retry_and_uses_nothing(bridge_app: Any) -> None:
    from bridge.store import db
    from bridge.store import locks as lockout

    codes = issue(bridge_app)
    with bridge_app.engine.begin() as conn:  # five attempts of this user in flight, their hashes running
        for _ in range(5):
            lockout.admit(conn, REALM, USER, max_failures=5, now=db.utcnow())
    response = bridge_app.client.post(
        VERIFY, headers=bridge_app.headers, json={"code": codes[0], "client_ip": "192.0.2.10"}
    )
    assert (response.status_code, response.json["valid"], response.json["reason"]) == (200, False, "busy")
    assert response.headers["Retry-After"] == "1"
    assert response.json["locked_until"] is None
    status = bridge_app.client.get(CODES, headers=bridge_app.headers).json
    assert (status["remaining"], status["lock"]["locked"]) == (10, False)
