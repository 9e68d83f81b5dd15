"""Remembered devices in ``service.BackupCodes``: register, check, list, forget, and who forgets them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.service import DeviceRecognitionDisabled
from bridge.store.schema import devices as devices_table
from tests.unit.service.test_core_service import REALM, USER, Harness, make_harness

KEY = "device-cookie-key-for-the-tests-0123456789"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return make_harness(tmp_path, device_cookie_key=KEY, device_ttl_days=30)


def register(h: Harness, user: str = USER, ip: str = "192.0.2.7") -> str:
    return h.svc.register_device(REALM, user, client_ip=ip, user_agent=CHROME).token


def test_register_names_the_device_from_the_user_agent(h: Harness) -> None:
    registered = h.svc.register_device(REALM, USER, client_ip="192.0.2.7", user_agent=CHROME)
    assert registered.name == "Chrome on Windows"


def test_register_gives_a_max_age_of_the_configured_days_and_the_matching_expiry(h: Harness) -> None:
    registered = h.svc.register_device(REALM, USER)
    assert registered.max_age_seconds == 30 * 86400
    assert registered.expires_at == h.clock.now.replace(microsecond=0) + timedelta(days=30)


def test_register_stores_the_device_with_first_and_last_seen_and_ip(h: Harness) -> None:
    registered = h.svc.register_device(REALM, USER, client_ip="192.0.2.7", user_agent=CHROME)
    [device] = h.svc.list_devices(REALM, USER)
    assert device.device_id == registered.device_id
    assert device.first_seen == device.last_seen == h.clock.now
    assert device.last_ip == "192.0.2.7"


def test_register_is_audited_as_device_added_with_the_device_id(h: Harness) -> None:
    registered = h.svc.register_device(REALM, USER, user_agent=CHROME)
    [event] = h.events("device_added")
    assert event["details"] == {"device_id": registered.device_id, "name": "Chrome on Windows"}


def test_register_mails_new_device_with_the_device_name(h: Harness) -> None:
    h.svc.register_device(REALM, USER, user_agent=CHROME)
    [mail] = h.outbox.sent
    assert mail["kind"] == "new_device" and mail["context"]["device_name"] == "Chrome on Windows"


def test_the_token_is_never_stored_nor_audited_nor_mailed(h: Harness) -> None:
    token = register(h)
    with h.engine.connect() as conn:
        stored = json.dumps([list(row) for row in conn.execute(select(devices_table))], default=str)
    signature = token.rsplit(".", 1)[1]
    assert signature not in stored
    assert signature not in json.dumps(h.events(), default=str)
    assert signature not in json.dumps(h.outbox.sent, default=str)


def test_registered_token_is_recognised(h: Harness) -> None:
    token = register(h)
    checked = h.svc.check_device(REALM, USER, token)
    assert checked.recognised and checked.reason == "ok" and checked.device_id


def test_recognised_check_updates_last_seen_and_last_ip(h: Harness) -> None:
    token = register(h, ip="192.0.2.7")
    h.clock.advance(3600)
    h.svc.check_device(REALM, USER, token, client_ip="198.51.100.9")
    [device] = h.svc.list_devices(REALM, USER)
    assert device.last_seen == h.clock.now and device.last_ip == "198.51.100.9"


def test_replayed_token_of_another_user_is_not_recognised(h: Harness) -> None:
    token = register(h, user="bob")
    checked = h.svc.check_device(REALM, USER, token)
    assert not checked.recognised and checked.reason == "invalid"


def test_tampered_token_is_not_recognised(h: Harness) -> None:
    device_id, expires, sig = register(h).split(".")
    tampered = f"{device_id}.{int(expires) + 86400}.{sig}"
    assert h.svc.check_device(REALM, USER, tampered).reason == "invalid"


def test_expired_token_is_not_recognised(h: Harness) -> None:
    token = register(h)
    h.clock.advance(31 * 86400)
    checked = h.svc.check_device(REALM, USER, token)
    assert not checked.recognised and checked.reason == "expired"


def test_malformed_token_is_not_recognised(h: Harness) -> None:
    assert h.svc.check_device(REALM, USER, "not a token").reason == "invalid"


def test_forgotten_devices_token_is_not_recognised(h: Harness) -> None:
    token = register(h)
    h.svc.forget_devices(REALM, USER, actor="alice", reason="user")
    checked = h.svc.check_device(REALM, USER, token)
    assert not checked.recognised and checked.reason == "forgotten"


def test_forget_all_returns_the_count_and_lists_nothing_after(h: Harness) -> None:
    register(h)
    register(h)
    assert h.svc.forget_devices(REALM, USER, actor="alice", reason="user") == 2
    assert h.svc.list_devices(REALM, USER) == []


def test_forget_all_is_audited_with_its_reason(h: Harness) -> None:
    register(h)
    h.svc.forget_devices(REALM, USER, actor="keycloak", reason="password_reset")
    [event] = h.events("devices_forgotten")
    assert event["details"] == {"reason": "password_reset", "count": 1} and event["actor"] == "keycloak"


def test_forget_all_leaves_other_users_devices_alone(h: Harness) -> None:
    token = register(h, user="bob")
    register(h)
    h.svc.forget_devices(REALM, USER, actor="alice")
    assert h.svc.check_device(REALM, "bob", token).recognised


def test_forget_one_kills_only_that_devices_token(h: Harness) -> None:
    first, second = register(h), register(h)
    assert h.svc.forget_device(REALM, USER, first.split(".")[0], actor="alice") is True
    assert h.svc.check_device(REALM, USER, first).reason == "forgotten"
    assert h.svc.check_device(REALM, USER, second).recognised


def test_forget_one_of_another_user_is_false_and_keeps_the_device(h: Harness) -> None:
    token = register(h, user="bob")
    assert h.svc.forget_device(REALM, USER, token.split(".")[0], actor="alice") is False
    assert h.svc.check_device(REALM, "bob", token).recognised


def test_regenerating_codes_forgets_every_device(h: Harness) -> None:
    h.issue()
    token = register(h)
    h.issue()
    assert h.svc.check_device(REALM, USER, token).reason == "forgotten"
    assert h.events("devices_forgotten")[0]["details"]["reason"] == "codes_regenerated"


def test_first_issue_keeps_the_devices(h: Harness) -> None:
    token = register(h)
    h.issue()
    assert h.svc.check_device(REALM, USER, token).recognised


def test_helpdesk_reset_forgets_every_device(h: Harness) -> None:
    h.issue()
    token = register(h)
    h.svc.helpdesk_reset(REALM, USER, actor="hd-1", reason="lost phone", identity_check="video call")
    assert h.svc.check_device(REALM, USER, token).reason == "forgotten"
    assert h.events("devices_forgotten")[0]["details"]["reason"] == "helpdesk_reset"


def test_without_a_key_register_is_refused_as_disabled(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    with pytest.raises(DeviceRecognitionDisabled):
        h.svc.register_device(REALM, USER)


def test_without_a_key_check_is_refused_as_disabled(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    with pytest.raises(DeviceRecognitionDisabled):
        h.svc.check_device(REALM, USER, "anything")


def test_a_new_key_makes_old_tokens_invalid(tmp_path: Path) -> None:
    old = make_harness(tmp_path / "a", device_cookie_key=KEY)
    token = register(old)
    new = make_harness(tmp_path / "a", device_cookie_key=KEY[::-1])
    assert new.svc.check_device(REALM, USER, token).reason == "invalid"
