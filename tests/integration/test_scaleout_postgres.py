"""Two `backup-codes serve` processes on one PostgreSQL database behave as one bridge.

What a load balancer in front of two nodes must not notice: a code issued by one node works once on
either; failures, locks and per-IP rate limits count across nodes; each node's audit shows both.
(The outbox worker and the LDAP sync lease are covered on PostgreSQL in test_notify_delivery.py and
test_ldap_sync.py; the same-code race across worker processes in test_api_race.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.fixtures.postgres import refuse_connections

pytestmark = pytest.mark.postgres

ENV = {"BACKUP_CODES_MAX_FAILURES": "4", "BACKUP_CODES_IP_RATE_LIMIT": "6"}
WRONG = "0000-0000-0000-0000"


@pytest.fixture
def nodes(start_bridge: Any, pg_empty_url: str) -> tuple[Any, Any]:
    return (
        start_bridge(database_url=pg_empty_url, env=ENV),
        start_bridge(database_url=pg_empty_url, env=ENV),
    )


def codes_url(node: Any, user: str) -> str:
    return f"{node.url}/v1/realms/acme/users/{user}/codes"


def issue(node: Any, user: str) -> list[str]:
    response = requests.post(codes_url(node, user), headers=node.headers, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()["codes"]


def verify(node: Any, user: str, code: str, ip: str) -> dict[str, Any]:
    response = requests.post(
        f"{codes_url(node, user)}/verify",
        headers=node.headers,
        json={"code": code, "client_ip": ip},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_code_issued_by_one_node_works_once_on_either(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    code = issue(a, "alice")[0]
    assert verify(b, "alice", code, "192.0.2.1")["valid"] is True
    again = verify(a, "alice", code, "192.0.2.2")
    assert (again["valid"], again["reason"]) == (False, "used")


def test_failures_on_both_nodes_add_up_to_one_lockout(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    right = issue(a, "bob")[0]
    for n, node in enumerate([a, b, a, b]):
        assert verify(node, "bob", WRONG, f"192.0.2.{10 + n}")["valid"] is False
    refused = verify(b, "bob", right, "192.0.2.20")
    assert (refused["valid"], refused["reason"]) == (False, "locked")
    assert requests.get(codes_url(a, "bob"), headers=a.headers, timeout=30).json()["lock"]["locked"] is True


def test_the_per_ip_rate_limit_counts_requests_on_both_nodes(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    for n in range(6):
        node = (a, b)[n % 2]
        assert verify(node, f"user-{n}", WRONG, "198.51.100.7")["reason"] != "rate_limited"
    assert verify(a, "user-last", WRONG, "198.51.100.7")["reason"] == "rate_limited"
    assert verify(b, "user-last", WRONG, "198.51.100.8")["reason"] != "rate_limited"


def test_each_node_audit_shows_what_both_nodes_did(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    code = issue(a, "carol")[0]
    verify(b, "carol", code, "192.0.2.30")
    for node in nodes:
        response = requests.get(
            f"{node.url}/v1/audit",
            headers=node.headers,
            params={"realm": "acme", "user_id": "carol"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        events = body["events"] if isinstance(body, dict) else body
        assert [event["event"] for event in events] == ["issued", "used"]


def test_a_node_whose_database_is_gone_answers_503_and_recovers(start_bridge: Any, pg_empty_url: str) -> None:
    node = start_bridge(database_url=pg_empty_url, env=ENV)
    code = issue(node, "dave")[0]
    refuse_connections(pg_empty_url, refuse=True)
    try:
        response = requests.post(
            f"{codes_url(node, 'dave')}/verify",
            headers=node.headers,
            json={"code": code, "client_ip": "192.0.2.30"},
            timeout=60,
        )
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable" and int(response.headers["Retry-After"]) > 0
    finally:
        refuse_connections(pg_empty_url, refuse=False)
    assert verify(node, "dave", code, "192.0.2.31")["valid"] is True, "the refused attempt used nothing"
    assert "Traceback" not in node.log_text()
