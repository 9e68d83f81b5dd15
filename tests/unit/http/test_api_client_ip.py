"""The served bridge counts a client once however Keycloak (or anybody with a key) spells its address,
and refuses what is not an address with a JSON 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

REALM, USER = "demo", "alice"
WRONG = "0000-0000-0000-0000"


@pytest.fixture(scope="module")
def bridge(bridge_server_factory: Any) -> Iterator[Any]:
    """One served bridge whose rate limit allows a single verification per client and window."""
    bridge = bridge_server_factory(
        env={"BACKUP_CODES_IP_RATE_LIMIT": "1", "BACKUP_CODES_IP_RATE_WINDOW_SECONDS": "3600"}
    )
    requests.post(f"{bridge.url}/v1/realms/{REALM}/users/{USER}/codes", headers=bridge.headers, timeout=30)
    yield bridge


def verify(bridge: Any, client_ip: str, realm: str = REALM) -> requests.Response:
    return requests.post(
        f"{bridge.url}/v1/realms/{realm}/users/{USER}/codes/verify",
        headers=bridge.headers,
        json={"code": WRONG, "client_ip": client_ip},
        timeout=30,
    )


def reason(bridge: Any, client_ip: str, realm: str = REALM) -> str:
    answer = verify(bridge, client_ip, realm)
    assert answer.status_code == 200, answer.text
    return answer.json()["reason"]


@pytest.mark.parametrize(
    "spelling", ["::ffff:192.0.2.7", "::ffff:c000:207", "::FFFF:192.0.2.7", "0:0:0:0:0:ffff:c000:0207"]
)
def test_another_spelling_of_a_counted_ipv4_address_is_rate_limited(bridge: Any, spelling: str) -> None:
    reason(bridge, "192.0.2.7")  # spends the address's one attempt (or finds it spent)
    assert reason(bridge, spelling) == "rate_limited"


def test_one_realm_does_not_spend_another_realms_count_for_a_client(bridge: Any) -> None:
    reason(bridge, "192.0.2.9")
    assert reason(bridge, "192.0.2.9") == "rate_limited"
    assert reason(bridge, "192.0.2.9", realm="other") != "rate_limited"


@pytest.mark.parametrize("zone", ["0", "1", "2", "3", "4", "eth0"])
def test_a_zone_id_does_not_make_a_new_client(bridge: Any, zone: str) -> None:
    reason(bridge, "2001:db8:7::1")
    assert reason(bridge, f"2001:db8:7::1%{zone}") == "rate_limited"


@pytest.mark.parametrize("neighbour", ["2001:DB8:8::1", "2001:db8:8::2", "2001:db8:8:0:ffff:ffff:ffff:ffff"])
def test_every_address_of_one_ipv6_64_shares_the_count(bridge: Any, neighbour: str) -> None:
    reason(bridge, "2001:db8:8::1")
    assert reason(bridge, neighbour) == "rate_limited"


def test_the_audit_trail_records_the_address_in_one_spelling(bridge: Any) -> None:
    verify(bridge, "::FFFF:198.51.100.23")
    answer = requests.get(
        f"{bridge.url}/v1/audit",
        params={"realm": REALM, "event": "failed"},
        headers=bridge.headers,
        timeout=30,
    )
    recorded = {event["client_ip"] for event in answer.json()["events"]}
    assert "198.51.100.23" in recorded
    assert not any("ffff" in (ip or "").lower() for ip in recorded)


@pytest.mark.parametrize("client_ip", ["fe80::1%é", "fe80::1%a b", "fe80::1%" + "x" * 16])
def test_a_zone_id_beyond_rfc_6874_characters_is_a_json_400(bridge: Any, client_ip: str) -> None:
    """What the spec's ClientIp allows is what the bridge accepts: an interface name, not any text."""
    answer = verify(bridge, client_ip)
    assert answer.status_code == 400
    assert answer.json()["error"] == "validation_failed"
    assert client_ip not in answer.text
