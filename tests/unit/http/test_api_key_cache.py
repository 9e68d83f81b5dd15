"""The app remembers verified API keys for a few seconds: a revoked key is refused once they have passed."""

from __future__ import annotations

import dataclasses
from typing import Any

from bridge.store import api_keys

STATUS = "/v1/realms/demo/users/alice/codes"


def test_a_revoked_key_is_refused_once_the_cache_bound_has_passed(bridge_app: Any) -> None:
    now = [1000.0]
    extensions = bridge_app.app.extensions
    extensions["backup_codes"] = dataclasses.replace(
        extensions["backup_codes"], key_cache=api_keys.KeyCache(clock=lambda: now[0])
    )
    assert bridge_app.client.get(STATUS, headers=bridge_app.headers).status_code == 200
    with bridge_app.engine.begin() as conn:
        assert api_keys.revoke_key(conn, bridge_app.api_key.split("_")[1], actor="tests")
    now[0] += api_keys.CACHE_SECONDS
    assert bridge_app.client.get(STATUS, headers=bridge_app.headers).status_code == 401
