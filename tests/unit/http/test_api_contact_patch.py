"""``PATCH …/contact``: only the given fields change; a changed email is mailed to both addresses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bridge.store.schema import notifications

CONTACT = "/v1/realms/demo/users/alice/contact"


def put(bridge_app: Any, **fields: Any) -> None:
    assert bridge_app.client.put(CONTACT, headers=bridge_app.headers, json=fields).status_code == 200


def patch(bridge_app: Any, body: Any) -> Any:
    return bridge_app.client.patch(CONTACT, headers=bridge_app.headers, json=body)


def mails(bridge_app: Any, kind: str) -> list[str]:
    with bridge_app.engine.connect() as conn:
        rows = conn.execute(select(notifications.c.to_address).where(notifications.c.kind == kind)).all()
    return sorted(row.to_address for row in rows)


def test_patch_changes_only_the_given_field(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org", phone="+34 600 000 000", locale="es")
    response = patch(bridge_app, {"email": "alice@example.com"})
    assert response.status_code == 200
    assert response.json["email"] == "alice@example.com"
    assert response.json["phone"] == "+34 600 000 000" and response.json["locale"] == "es"


def test_patch_creates_the_record_when_there_is_none(bridge_app: Any) -> None:
    response = patch(bridge_app, {"locale": "es", "display_name": "Alice"})
    assert response.status_code == 200
    assert response.json["locale"] == "es" and response.json["email"] is None


def test_patched_email_is_mailed_to_the_old_and_the_new_address(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org")
    patch(bridge_app, {"email": "alice@example.com"})
    assert mails(bridge_app, "email_changed") == ["alice@example.com", "alice@example.org"]


def test_patch_with_the_same_email_mails_nobody(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org")
    patch(bridge_app, {"email": "alice@example.org"})
    assert mails(bridge_app, "email_changed") == []


def test_patch_with_null_clears_that_field(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org", phone="+34 600 000 000")
    response = patch(bridge_app, {"phone": None})
    assert response.json["phone"] is None and response.json["email"] == "alice@example.org"


def test_patch_with_an_unknown_field_is_400_and_changes_nothing(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org")
    response = patch(bridge_app, {"email": "alice@example.com", "password": "x"})
    assert response.status_code == 400
    assert bridge_app.client.get(CONTACT, headers=bridge_app.headers).json["email"] == "alice@example.org"


def test_patch_with_an_invalid_email_is_400_and_changes_nothing(bridge_app: Any) -> None:
    put(bridge_app, email="alice@example.org")
    assert patch(bridge_app, {"email": "not an address"}).status_code == 400
    assert bridge_app.client.get(CONTACT, headers=bridge_app.headers).json["email"] == "alice@example.org"
