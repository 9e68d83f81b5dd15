"""A revoked API key stops working on every worker of a served bridge once the key cache's bound has passed.

Each worker remembers a verified key for ``CACHE_SECONDS`` (bridge/store/api_keys.py): this is that bound
through the real parts — ``backup-codes serve`` with two workers, and ``backup-codes apikey revoke``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import requests

from bridge.store import api_keys

STATUS = "/v1/realms/demo/users/alice/codes"


def status(bridge: Any) -> int:
    # A new connection per request, so both workers answer some of them.
    return requests.get(
        f"{bridge.url}{STATUS}", headers={**bridge.headers, "Connection": "close"}, timeout=10
    ).status_code


def test_a_revoked_key_is_refused_by_every_worker_after_the_cache_bound(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    assert [status(bridge) for _ in range(8)] == [200] * 8  # every worker has verified (and remembered) it

    key_id = bridge.api_key.split("_")[1]
    subprocess.run(
        [sys.executable, "-m", "bridge.cli", "apikey", "revoke", key_id],
        env=bridge.env_for_cli(),
        check=True,
        capture_output=True,
    )
    time.sleep(api_keys.CACHE_SECONDS + 1)  # waiting out the documented bound, not measuring anything

    assert [status(bridge) for _ in range(8)] == [401] * 8
