"""``BACKUP_CODES_TRUSTED_PROXIES``: the access log's peer address behind reverse proxies."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest

from bridge.http.app import create_app
from bridge.store.db import make_engine
from tests.fixtures.bridge_server import migrate_and_create_key


def remote_addr_logged(settings: Any, caplog: pytest.LogCaptureFixture, **headers: str) -> str | None:
    migrate_and_create_key(settings.database_url, settings.data_dir)
    engine = make_engine(settings)
    try:
        client = create_app(settings, engine=engine).test_client()
        caplog.set_level(logging.INFO, logger="bridge.access")
        client.get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    finally:
        engine.dispose()
    [record] = [r for r in caplog.records if r.name == "bridge.access"]
    return record.remote_addr  # type: ignore[attr-defined]


def test_behind_one_trusted_proxy_the_forwarded_client_address_is_used(
    bridge_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(bridge_settings, trusted_proxies=1)
    assert remote_addr_logged(settings, caplog, **{"X-Forwarded-For": "198.51.100.4"}) == "198.51.100.4"


def test_behind_one_trusted_proxy_only_the_last_hop_is_believed(
    bridge_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(bridge_settings, trusted_proxies=1)
    forwarded = {"X-Forwarded-For": "203.0.113.66, 198.51.100.4"}  # the first entry is the client's claim
    assert remote_addr_logged(settings, caplog, **forwarded) == "198.51.100.4"


def test_without_trusted_proxies_forwarded_headers_are_ignored(
    bridge_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(bridge_settings, trusted_proxies=0)
    assert remote_addr_logged(settings, caplog, **{"X-Forwarded-For": "198.51.100.4"}) == "10.0.0.2"
