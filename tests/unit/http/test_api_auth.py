"""Every /v1 call needs a valid, unrevoked API key; whatever is wrong with it, the answer is the same 401."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.store import api_keys

STATUS = "/v1/realms/demo/users/alice/codes"


def refused(bridge_app: Any, headers: dict[str, str]) -> Any:
    response = bridge_app.client.get(STATUS, headers=headers)
    assert response.status_code == 401
    return response


def test_missing_authorization_is_401(bridge_app: Any) -> None:
    response = refused(bridge_app, {})
    assert response.json == {"error": "unauthorized", "message": response.json["message"]}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_key_is_401(bridge_app: Any) -> None:
    key_id = bridge_app.api_key.split("_")[1]
    refused(bridge_app, {"Authorization": f"Bearer bcb_{key_id}_{'0' * 64}"})


def test_unknown_key_id_is_401(bridge_app: Any) -> None:
    refused(bridge_app, {"Authorization": f"Bearer bcb_{'a' * 12}_{'0' * 64}"})


def test_revoked_key_is_401(bridge_app: Any) -> None:
    key_id = bridge_app.api_key.split("_")[1]
    with bridge_app.engine.begin() as conn:
        assert api_keys.revoke_key(conn, key_id, actor="tests")
    refused(bridge_app, bridge_app.headers)


def test_other_scheme_is_401(bridge_app: Any) -> None:
    refused(bridge_app, {"Authorization": f"Basic {bridge_app.api_key}"})


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer x", "Bearer bcb__", "bearer 😀"])
def test_malformed_key_is_401(bridge_app: Any, value: str) -> None:
    refused(bridge_app, {"Authorization": value})


def test_every_refusal_has_the_same_body(bridge_app: Any) -> None:
    key_id = bridge_app.api_key.split("_")[1]
    bodies = {
        refused(bridge_app, headers).get_data()
        for headers in (
            {},
            {"Authorization": "Bearer nope"},
            {"Authorization": f"Bearer bcb_{key_id}_{'0' * 64}"},
        )
    }
    assert len(bodies) == 1


def test_bearer_scheme_is_case_insensitive(bridge_app: Any) -> None:
    response = bridge_app.client.get(STATUS, headers={"Authorization": f"bearer {bridge_app.api_key}"})
    assert response.status_code == 200


def test_a_second_key_works_alongside_the_first_for_rotation(bridge_app: Any) -> None:
    with bridge_app.engine.begin() as conn:
        second = api_keys.create_key(conn, name="rotation", actor="tests").key
    for key in (bridge_app.api_key, second):
        assert bridge_app.client.get(STATUS, headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_operational_endpoints_need_no_key(bridge_app: Any) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert bridge_app.client.get(path).status_code == 200, path


def test_key_is_stored_only_as_its_sha256_digest(bridge_app: Any) -> None:
    from sqlalchemy import select

    from bridge.store.schema import api_keys as api_keys_table

    with bridge_app.engine.connect() as conn:
        rows = conn.execute(select(api_keys_table)).mappings().all()
    secret = bridge_app.api_key.rsplit("_", 1)[1]
    assert all(secret not in str(dict(row)) for row in rows)
    assert api_keys.digest(bridge_app.api_key) in {row["digest"] for row in rows}


def test_key_format_carries_256_random_bits(bridge_app: Any) -> None:
    assert api_keys.KEY_PATTERN.fullmatch(bridge_app.api_key)
    assert len(bridge_app.api_key.rsplit("_", 1)[1]) * 4 >= 256
