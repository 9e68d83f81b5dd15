"""Without a device cookie key every device endpoint answers 409 ``device_recognition_disabled``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

DEVICES = "/v1/realms/demo/users/alice/devices"


@pytest.fixture
def bridge_settings(bridge_settings: Any) -> Any:
    return replace(bridge_settings, device_cookie_key="")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", DEVICES, {}),
        ("post", f"{DEVICES}/check", {"token": "anything"}),
        ("get", DEVICES, None),
        ("post", f"{DEVICES}/forget", {"reason": "password_reset"}),
        ("delete", f"{DEVICES}/{'0' * 32}", None),
    ],
)
def test_device_endpoint_without_a_key_is_409_disabled(
    bridge_app: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = getattr(bridge_app.client, method)(path, headers=bridge_app.headers, json=body)
    assert response.status_code == 409
    assert response.json["error"] == "device_recognition_disabled"


def test_without_a_key_the_api_key_is_still_checked_first(bridge_app: Any) -> None:
    assert bridge_app.client.post(DEVICES, json={}).status_code == 401


def test_without_a_key_codes_still_work(bridge_app: Any) -> None:
    assert (
        bridge_app.client.post("/v1/realms/demo/users/alice/codes", headers=bridge_app.headers).status_code
        == 201
    )
