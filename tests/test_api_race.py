"""One code, many simultaneous requests to a served bridge with two worker processes: exactly one wins.

The same guarantee on SQLite (one file shared by the workers) and on a real PostgreSQL server.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

RACERS = 8
ROUNDS = 3


def race_one_code(bridge: Any, user: str) -> list[dict[str, Any]]:
    base = f"{bridge.url}/v1/realms/race/users/{user}/codes"
    issued = requests.post(base, headers=bridge.headers, timeout=60)
    assert issued.status_code == 201, issued.text
    code = issued.json()["codes"][0]
    barrier = threading.Barrier(RACERS)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        session = requests.Session()
        barrier.wait()
        response = session.post(
            f"{base}/verify",
            headers=bridge.headers,
            json={"code": code, "client_ip": f"198.51.100.{index}"},
            timeout=120,
        )
        with lock:
            results.append(response.json())

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_exactly_one_success(bridge: Any) -> None:
    for round_ in range(ROUNDS):
        results = race_one_code(bridge, f"user-{round_}")
        assert len(results) == RACERS
        assert sum(result["valid"] for result in results) == 1, results
        assert {result["reason"] for result in results if not result["valid"]} <= {"used", "locked"}


# A high failure limit so that the losers are refused as "used", not by the lockout.
RACE_ENV = {"BACKUP_CODES_MAX_FAILURES": "50"}


def test_two_workers_on_sqlite_let_exactly_one_request_use_a_code(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2, env=RACE_ENV)
    assert len(bridge.worker_pids()) == 2
    assert_exactly_one_success(bridge)


@pytest.mark.postgres
def test_two_workers_on_postgresql_let_exactly_one_request_use_a_code(
    start_bridge: Any, pg_empty_url: str
) -> None:
    bridge = start_bridge(database_url=pg_empty_url, workers=2, env=RACE_ENV)
    assert_exactly_one_success(bridge)
