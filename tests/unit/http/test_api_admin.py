"""Administration over HTTP: helpdesk reset, contacts, locks, user deletion, policy, audit and sheets."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

BASE = "/v1/realms/demo/users/alice"


def call(bridge_app: Any, method: str, path: str, body: Any = None) -> Any:
    return bridge_app.client.open(path, method=method, headers=bridge_app.headers, json=body)


def issue(bridge_app: Any) -> list[str]:
    return call(bridge_app, "POST", f"{BASE}/codes").json["codes"]


def test_helpdesk_reset_revokes_codes_and_requires_enrolment(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    response = call(
        bridge_app,
        "POST",
        f"{BASE}/reset",
        {"actor": "hd-bob", "reason": "lost sheet", "identity_check": "video call"},
    )
    assert response.status_code == 200
    assert response.json["enrolled"] is False
    assert response.json["enroll_required"] is True
    verify = call(bridge_app, "POST", f"{BASE}/codes/verify", {"code": codes[0], "client_ip": "192.0.2.1"})
    assert verify.json["valid"] is False


def test_helpdesk_reset_needs_an_identity_check(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", f"{BASE}/reset", {"actor": "hd-bob", "reason": "lost sheet"})
    assert response.status_code == 400
    assert "identity_check" in response.json["message"]


def test_helpdesk_reset_refuses_a_blank_identity_check(bridge_app: Any) -> None:
    response = call(
        bridge_app, "POST", f"{BASE}/reset", {"actor": "hd", "reason": "x", "identity_check": "   "}
    )
    assert response.status_code == 400


def test_helpdesk_reset_is_audited_with_the_identity_check(bridge_app: Any) -> None:
    call(
        bridge_app,
        "POST",
        f"{BASE}/reset",
        {"actor": "hd-bob", "reason": "lost", "identity_check": "badge seen"},
    )
    events = call(bridge_app, "GET", "/v1/audit?event=helpdesk_reset&realm=demo").json["events"]
    assert events[-1]["actor"] == "hd-bob"
    assert events[-1]["details"]["identity_check"] == "badge seen"


def test_contact_of_unknown_user_is_404(bridge_app: Any) -> None:
    assert call(bridge_app, "GET", f"{BASE}/contact").status_code == 404


def test_contact_put_then_get(bridge_app: Any) -> None:
    put = call(bridge_app, "PUT", f"{BASE}/contact", {"email": "alice@example.org", "locale": "es"})
    assert put.status_code == 200
    got = call(bridge_app, "GET", f"{BASE}/contact").json
    assert (got["email"], got["locale"], got["phone"], got["source"]) == (
        "alice@example.org",
        "es",
        None,
        "api",
    )


def test_contact_with_invalid_email_is_400(bridge_app: Any) -> None:
    response = call(bridge_app, "PUT", f"{BASE}/contact", {"email": "not an address"})
    assert response.status_code == 400
    assert "email" in response.json["message"]


def test_contact_delete_is_204_and_forgets(bridge_app: Any) -> None:
    call(bridge_app, "PUT", f"{BASE}/contact", {"email": "alice@example.org"})
    assert call(bridge_app, "DELETE", f"{BASE}/contact").status_code == 204
    assert call(bridge_app, "GET", f"{BASE}/contact").status_code == 404


def test_permanent_lock_refuses_a_valid_code(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    put = call(bridge_app, "PUT", f"{BASE}/locks/keycloak", {"kind": "permanent", "reason": "user disabled"})
    assert put.status_code == 200
    assert put.json["effective"] == {"locked": True, "source": "keycloak", "kind": "permanent", "until": None}
    verify = call(bridge_app, "POST", f"{BASE}/codes/verify", {"code": codes[0], "client_ip": "192.0.2.1"})
    assert verify.json["reason"] == "locked"


def test_temporary_lock_has_an_end(bridge_app: Any) -> None:
    put = call(
        bridge_app,
        "PUT",
        f"{BASE}/locks/directory",
        {"kind": "temporary", "reason": "x", "duration_seconds": 600},
    )
    assert put.json["effective"]["until"] is not None


def test_deleting_a_lock_unlocks(bridge_app: Any) -> None:
    codes = issue(bridge_app)
    call(bridge_app, "PUT", f"{BASE}/locks/keycloak", {"kind": "permanent", "reason": "disabled"})
    assert call(bridge_app, "DELETE", f"{BASE}/locks/keycloak").status_code == 204
    assert call(bridge_app, "GET", f"{BASE}/locks").json["effective"]["locked"] is False
    verify = call(bridge_app, "POST", f"{BASE}/codes/verify", {"code": codes[0], "client_ip": "192.0.2.1"})
    assert verify.json["valid"] is True


def test_locks_of_unknown_user_are_empty(bridge_app: Any) -> None:
    assert call(bridge_app, "GET", "/v1/realms/demo/users/nobody/locks").json == {
        "locks": [],
        "effective": {"locked": False, "source": None, "kind": None, "until": None},
    }


def test_delete_user_forgets_codes_and_contact_but_keeps_audit(bridge_app: Any) -> None:
    issue(bridge_app)
    call(bridge_app, "PUT", f"{BASE}/contact", {"email": "alice@example.org"})
    assert call(bridge_app, "DELETE", BASE).status_code == 204
    assert call(bridge_app, "GET", f"{BASE}/codes").json["enrolled"] is False
    assert call(bridge_app, "GET", f"{BASE}/contact").status_code == 404
    events = [
        e["event"] for e in call(bridge_app, "GET", "/v1/audit?realm=demo&user_id=alice").json["events"]
    ]
    assert events[0] == "issued" and events[-1] == "user_deleted"


def test_policy_defaults_come_from_settings(bridge_app: Any) -> None:
    policy = call(bridge_app, "GET", "/v1/realms/demo/policy").json
    assert (policy["code_count"], policy["code_length"], policy["max_failures"]) == (10, 16, 5)


def test_policy_change_applies_to_the_next_set(bridge_app: Any) -> None:
    assert (
        call(bridge_app, "PUT", "/v1/realms/demo/policy", {"code_count": 12, "low_threshold": 4}).status_code
        == 200
    )
    assert len(issue(bridge_app)) == 12


def test_policy_below_the_security_floor_is_400(bridge_app: Any) -> None:
    response = call(bridge_app, "PUT", "/v1/realms/demo/policy", {"code_length": 12})
    assert response.status_code == 400
    assert "code_length" in response.json["message"]


def test_policy_inconsistent_across_fields_is_422(bridge_app: Any) -> None:
    response = call(bridge_app, "PUT", "/v1/realms/demo/policy", {"code_count": 5, "low_threshold": 5})
    assert response.status_code == 422
    assert response.json["error"] == "policy_invalid"


def test_policy_change_is_per_realm(bridge_app: Any) -> None:
    call(bridge_app, "PUT", "/v1/realms/demo/policy", {"max_failures": 9})
    assert call(bridge_app, "GET", "/v1/realms/other/policy").json["max_failures"] == 5


def test_audit_records_failures_without_the_code(bridge_app: Any) -> None:
    issue(bridge_app)
    wrong = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    call(bridge_app, "POST", f"{BASE}/codes/verify", {"code": wrong, "client_ip": "192.0.2.7"})
    response = call(bridge_app, "GET", "/v1/audit?realm=demo&event=failed")
    assert response.json["events"][-1]["client_ip"] == "192.0.2.7"
    assert "ZZZZ" not in response.get_data(as_text=True)


def test_audit_exports_jsonl(bridge_app: Any) -> None:
    issue(bridge_app)
    response = call(bridge_app, "GET", "/v1/audit?format=jsonl&realm=demo")
    assert response.mimetype == "application/x-ndjson"
    assert [json.loads(line)["event"] for line in response.get_data(as_text=True).splitlines()] == ["issued"]


def test_audit_exports_csv(bridge_app: Any) -> None:
    issue(bridge_app)
    response = call(bridge_app, "GET", "/v1/audit?format=csv&realm=demo")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["event"] for row in rows] == ["issued"]


def test_audit_since_filters_by_time(bridge_app: Any) -> None:
    issue(bridge_app)
    assert call(bridge_app, "GET", "/v1/audit?since=2999-01-01T00:00:00Z").json == {"events": []}


@pytest.mark.parametrize("query", ["limit=0", "since=yesterday", "event=hacked", "format=xml", "bogus=1"])
def test_audit_bad_query_is_400(bridge_app: Any, query: str) -> None:
    assert call(bridge_app, "GET", f"/v1/audit?{query}").status_code == 400


FEDERATED = "f:6d1e3c52-33f0-4d8c-9b7a-1c2d3e4f5a6b:8c1f2e3d-4b5a-6978-8796-a5b4c3d2e1f0"


def test_audit_filters_by_a_federated_user_id(bridge_app: Any) -> None:
    call(bridge_app, "POST", f"/v1/realms/demo/users/{FEDERATED}/codes")
    issue(bridge_app)
    response = call(bridge_app, "GET", f"/v1/audit?realm=demo&user_id={FEDERATED}")
    assert response.status_code == 200, response.json
    assert [(e["user_id"], e["event"]) for e in response.json["events"]] == [(FEDERATED, "issued")]


def test_audit_filters_by_any_realm_name_the_routes_take(bridge_app: Any) -> None:
    call(bridge_app, "POST", "/v1/realms/tenant:eu/users/alice/codes")
    response = call(bridge_app, "GET", "/v1/audit?realm=tenant:eu")
    assert response.status_code == 200, response.json
    assert [e["realm"] for e in response.json["events"]] == ["tenant:eu"]


def test_the_audit_query_and_the_routes_share_one_definition_of_realm_and_user_ids() -> None:
    from bridge.http.validation import spec

    document = spec()
    query = {p["name"]: p["schema"] for p in document["paths"]["/v1/audit"]["get"]["parameters"]}
    path = {p["name"]: p["schema"] for p in document["components"]["parameters"].values()}
    for name in ("realm", "user_id"):
        assert query[name] == path[name] and "$ref" in query[name]


SHEET = {
    "codes": ["7KQ4-M2XP-9DWR-3HZT", "ABCDEFGHJKMNPQRS"],
    "username": "alice",
    "realm_display_name": "Example",
}


def test_sheet_txt_lists_the_codes_in_display_form(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", "/v1/sheets/txt", SHEET)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "7KQ4-M2XP-9DWR-3HZT" in text and "ABCD-EFGH-JKMN-PQRS" in text
    assert response.headers["Cache-Control"] == "no-store"


def test_sheet_txt_prints_a_name_with_a_right_to_left_override_in_its_stored_order(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", "/v1/sheets/txt", {**SHEET, "username": "alice\u202egnp.exe"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "\u202e" not in text and "Account: alicegnp.exe" in text.splitlines()


def test_sheet_pdf_is_a_pdf(bridge_app: Any) -> None:
    response = call(bridge_app, "POST", "/v1/sheets/pdf", {**SHEET, "paper": "Letter", "locale": "es"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_sheet_stores_nothing(bridge_app: Any) -> None:
    before = call(bridge_app, "GET", "/v1/audit").json["events"]
    call(bridge_app, "POST", "/v1/sheets/pdf", SHEET)
    assert call(bridge_app, "GET", "/v1/audit").json["events"] == before


@pytest.mark.parametrize(
    "change",
    [
        {"codes": []},
        {"codes": ["7KQ4-M2XP-9DWR-3HZT"] * 51},
        {"codes": ["not-a-code"]},
        {"codes": ["7KQ4-M2XP-9DWR-3HZU"]},
        {"username": "x" * 256},
        {"username": "line\nbreak"},
        {"extra": 1},
    ],
)
def test_sheet_input_is_validated_strictly(bridge_app: Any, change: dict[str, Any]) -> None:
    assert call(bridge_app, "POST", "/v1/sheets/txt", {**SHEET, **change}).status_code == 400
