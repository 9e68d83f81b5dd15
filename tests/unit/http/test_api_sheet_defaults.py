"""Sheets take the organisation and the language from the settings when the caller gives none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

BODY = {"codes": ["7KQ4-M2XP-9DWR-3HZT"], "username": "alice", "realm_display_name": "Demo"}


@pytest.fixture
def bridge_settings(bridge_settings: Any) -> Any:
    return replace(bridge_settings, organisation_name="Acme Widgets Ltd", default_locale="es")


def test_sheet_without_organisation_names_the_configured_organisation(bridge_app: Any) -> None:
    response = bridge_app.client.post("/v1/sheets/txt", headers=bridge_app.headers, json=BODY)
    assert response.status_code == 200 and "Acme Widgets Ltd" in response.text


def test_sheet_with_an_organisation_names_that_one(bridge_app: Any) -> None:
    body = {**BODY, "organisation": "Other Org"}
    response = bridge_app.client.post("/v1/sheets/txt", headers=bridge_app.headers, json=body)
    assert "Other Org" in response.text and "Acme Widgets Ltd" not in response.text


def test_sheet_without_a_locale_is_in_the_configured_default_language(bridge_app: Any) -> None:
    response = bridge_app.client.post("/v1/sheets/txt", headers=bridge_app.headers, json=BODY)
    assert "Códigos de respaldo" in response.text


def test_sheet_with_the_users_locale_is_in_that_language(bridge_app: Any) -> None:
    body = {**BODY, "locale": "en-GB"}
    response = bridge_app.client.post("/v1/sheets/txt", headers=bridge_app.headers, json=body)
    assert "Backup codes" in response.text and "Códigos" not in response.text
