"""Realms are isolated: a key made for some realms is refused (403) on every other realm, before any work.

A key without realms (admin tools) works everywhere. Global routes: the audit trail is limited to the
key's realms; sheets render what the body holds and read nothing stored, so every key may use them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.http.validation import spec
from bridge.store import api_keys
from bridge.store.schema import audit_events, rate_limits, users

OWN = "own"
OTHER = "other"
CODE = "ABCD-EFGH-JKMN-PQRS"
# Path parameters other than {realm}: valid values, so only the realm can be the reason for a refusal.
FILL = {"user_id": "alice", "source": "codes", "device_id": "0" * 32}


def realm_key(bridge_app: Any, *realms: str) -> dict[str, str]:
    with bridge_app.engine.begin() as conn:
        key = api_keys.create_key(conn, name=f"keycloak-{'-'.join(realms)}", actor="tests", realms=realms)
    return {"Authorization": f"Bearer {key.key}"}


def realm_operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        if "{realm}" in path
        for method in item
        if method != "parameters"
    ]


def concrete(path: str, realm: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: realm if m.group(1) == "realm" else FILL[m.group(1)], path)


def count(bridge_app: Any, table: Any) -> int:
    with bridge_app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_realm_key_works_on_its_own_realm(bridge_app: Any) -> None:
    response = bridge_app.client.get(
        f"/v1/realms/{OWN}/users/alice/codes", headers=realm_key(bridge_app, OWN)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path"), realm_operations())
def test_a_realm_key_is_refused_on_every_route_of_another_realm(
    bridge_app: Any, method: str, path: str
) -> None:
    response = bridge_app.client.open(
        concrete(path, OTHER), method=method, headers=realm_key(bridge_app, OWN), json={}
    )
    assert response.status_code == 403
    assert response.json == {"error": "forbidden", "message": response.json["message"]}


@pytest.mark.parametrize(("method", "path"), realm_operations())
def test_every_refusal_is_in_the_spec(method: str, path: str) -> None:
    assert "403" in spec()["paths"][path][method.lower()]["responses"]


def test_a_key_for_several_realms_works_on_each(bridge_app: Any) -> None:
    headers = realm_key(bridge_app, OWN, "second")
    for realm in (OWN, "second"):
        assert bridge_app.client.get(f"/v1/realms/{realm}/policy", headers=headers).status_code == 200


def test_realm_names_are_matched_exactly(bridge_app: Any) -> None:
    response = bridge_app.client.get("/v1/realms/OWN/policy", headers=realm_key(bridge_app, OWN))
    assert response.status_code == 403


def test_an_all_realm_key_works_on_every_realm_next_to_realm_keys(bridge_app: Any) -> None:
    realm_key(bridge_app, OWN)
    for realm in (OWN, OTHER):
        response = bridge_app.client.get(f"/v1/realms/{realm}/users/alice/codes", headers=bridge_app.headers)
        assert response.status_code == 200


def test_the_refusal_does_not_say_whether_the_realm_or_user_exists(bridge_app: Any) -> None:
    bridge_app.service.issue(OTHER, "bob", actor="tests")
    headers = realm_key(bridge_app, OWN)
    bodies = {
        bridge_app.client.get(path, headers=headers).get_data()
        for path in (
            f"/v1/realms/{OTHER}/users/bob/codes",  # exists, has codes
            f"/v1/realms/{OTHER}/users/nobody/codes",  # realm exists, user does not
            "/v1/realms/nowhere/users/bob/codes",  # no such realm
            "/v1/realms/not%20a%20realm/users/bob/codes",  # not even a valid realm name
        )
    }
    assert len(bodies) == 1


def test_a_refused_verification_hashes_nothing_and_counts_nothing(
    bridge_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge_app.service.issue(OTHER, "bob", actor="tests")
    headers = realm_key(bridge_app, OWN)
    before = count(bridge_app, audit_events), count(bridge_app, users)

    def no_hashing(*_args: Any) -> bool:
        raise AssertionError("a refused request must not reach Argon2")

    monkeypatch.setattr(bridge_app.service.hasher, "verify", no_hashing)
    response = bridge_app.client.post(
        f"/v1/realms/{OTHER}/users/bob/codes/verify",
        headers=headers,
        json={"code": CODE, "client_ip": "192.0.2.7"},
    )

    assert response.status_code == 403
    assert count(bridge_app, rate_limits) == 0
    assert (count(bridge_app, audit_events), count(bridge_app, users)) == before


# ------------------------------------------------------------------------------------- global routes


def audit_realms(bridge_app: Any, headers: dict[str, str], query: str = "") -> set[str]:
    response = bridge_app.client.get(f"/v1/audit{query}", headers=headers)
    assert response.status_code == 200
    return {event["realm"] for event in response.json["events"]}


@pytest.fixture
def two_realms_audited(bridge_app: Any) -> dict[str, str]:
    """Events in OWN and OTHER, plus the realm-less apikey_created of the realm key itself."""
    bridge_app.service.issue(OWN, "alice", actor="tests")
    bridge_app.service.issue(OTHER, "bob", actor="tests")
    return realm_key(bridge_app, OWN)


def test_the_audit_trail_of_a_realm_key_holds_only_its_realms(
    bridge_app: Any, two_realms_audited: dict[str, str]
) -> None:
    assert audit_realms(bridge_app, two_realms_audited) == {OWN}


def test_a_realm_key_may_filter_the_audit_trail_by_its_own_realm(
    bridge_app: Any, two_realms_audited: dict[str, str]
) -> None:
    assert audit_realms(bridge_app, two_realms_audited, f"?realm={OWN}") == {OWN}


def test_a_realm_key_is_refused_the_audit_trail_of_another_realm(
    bridge_app: Any, two_realms_audited: dict[str, str]
) -> None:
    response = bridge_app.client.get(f"/v1/audit?realm={OTHER}", headers=two_realms_audited)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_an_all_realm_key_reads_the_whole_audit_trail(
    bridge_app: Any, two_realms_audited: dict[str, str]
) -> None:
    assert audit_realms(bridge_app, bridge_app.headers) == {OWN, OTHER, api_keys.SYSTEM_REALM}


@pytest.mark.parametrize("fmt", ["txt", "pdf"])
def test_a_realm_key_may_render_sheets(bridge_app: Any, fmt: str) -> None:
    response = bridge_app.client.post(
        f"/v1/sheets/{fmt}",
        headers=realm_key(bridge_app, OWN),
        json={"codes": [CODE], "username": "alice", "realm_display_name": "Own"},
    )
    assert response.status_code == 200


def test_the_audit_refusal_is_in_the_spec() -> None:
    assert "403" in spec()["paths"]["/v1/audit"]["get"]["responses"]


# --------------------------------------------------------------------------------------- the keys


def test_the_key_realm_rule_is_the_spec_realm_rule() -> None:
    pattern = spec()["components"]["schemas"]["RealmName"]["pattern"]
    assert f"^{api_keys.REALM_PATTERN.pattern}$" == pattern


def test_an_empty_realm_list_is_refused_rather_than_read_as_every_realm(bridge_app: Any) -> None:
    with bridge_app.engine.begin() as conn, pytest.raises(api_keys.ApiKeyError):
        api_keys.create_key(conn, name="empty", actor="tests", realms=[])


def test_a_realm_name_the_api_cannot_address_is_refused(bridge_app: Any) -> None:
    with bridge_app.engine.begin() as conn, pytest.raises(api_keys.ApiKeyError):
        api_keys.create_key(conn, name="bad", actor="tests", realms=["not a realm"])


def test_creating_a_realm_key_audits_its_realms(bridge_app: Any) -> None:
    realm_key(bridge_app, OWN)
    events = bridge_app.client.get("/v1/audit?event=apikey_created", headers=bridge_app.headers).json[
        "events"
    ]
    assert events[-1]["details"]["realms"] == [OWN]
