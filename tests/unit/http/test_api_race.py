"""Simultaneous requests to a served bridge with two worker processes.

One code, many requests: exactly one wins. One user's own codes at once: none is refused as locked
(the ones over the failure limit only because the others are still being checked are ``busy`` and go
through on retry). Many wrong codes at once: at most ``max_failures`` of them are hashed, then the
user is locked. The same guarantees on SQLite (one file shared by the workers) and on a real
PostgreSQL server; the own-codes race uses the production Argon2 cost so the requests overlap.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
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


REAL_COST_ENV = {"BACKUP_CODES_IP_RATE_LIMIT": "1000"}
OWN_CODES = 10
GUESSES = 20
MAX_FAILURES = 5


def at_once(n: int, send: Callable[[int], requests.Response]) -> list[requests.Response]:
    """``send(i)`` in ``n`` threads released together."""
    barrier = threading.Barrier(n)
    responses: list[requests.Response | None] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        responses[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def post_verify(bridge: Any, user: str, code: str, ip: str) -> requests.Response:
    return requests.post(
        f"{bridge.url}/v1/realms/race/users/{user}/codes/verify",
        headers=bridge.headers,
        json={"code": code, "client_ip": ip},
        timeout=120,
    )


def assert_own_codes_never_lock(bridge: Any) -> None:
    base = f"{bridge.url}/v1/realms/race/users/owner/codes"
    codes = requests.post(base, headers=bridge.headers, timeout=60).json()["codes"]
    first = at_once(OWN_CODES, lambda i: post_verify(bridge, "owner", codes[i], f"198.51.100.{i}"))
    reasons = [response.json()["reason"] for response in first]
    assert set(reasons) <= {"ok", "busy"}, reasons
    assert all(r.headers.get("Retry-After") == "1" for r in first if r.json()["reason"] == "busy")
    for i, reason in enumerate(reasons):
        if reason == "busy":
            assert post_verify(bridge, "owner", codes[i], f"198.51.100.{i}").json()["valid"] is True
    status = requests.get(base, headers=bridge.headers, timeout=30).json()
    assert (status["remaining"], status["lock"]["locked"]) == (0, False)


def hashed_wrong_codes(bridge: Any) -> float:
    """Wrong codes that reached Argon2 (``invalid``), summed over every worker by the metrics."""
    text = requests.get(f"{bridge.url}/metrics", timeout=10).text
    match = re.search(r'backup_codes_verifications_total\{reason="invalid"\} ([0-9.]+)', text)
    return float(match.group(1)) if match else 0.0


def assert_guesses_lock_after_the_limit(bridge: Any) -> None:
    base = f"{bridge.url}/v1/realms/race/users/target/codes"
    assert requests.post(base, headers=bridge.headers, timeout=60).status_code == 201
    before = hashed_wrong_codes(bridge)
    guesses = at_once(
        GUESSES, lambda i: post_verify(bridge, "target", f"ZZZZ-ZZZZ-ZZZZ-Z{i:03d}", f"203.0.113.{i}")
    )
    assert not any(response.json()["valid"] for response in guesses)
    assert hashed_wrong_codes(bridge) - before <= MAX_FAILURES
    assert requests.get(base, headers=bridge.headers, timeout=30).json()["lock"]["locked"] is True


def test_two_workers_on_sqlite_never_lock_a_user_with_their_own_codes(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2, env=REAL_COST_ENV, fast_argon2=False)
    assert_own_codes_never_lock(bridge)


def test_two_workers_on_sqlite_hash_at_most_the_limit_of_parallel_guesses(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2, env=REAL_COST_ENV, fast_argon2=False)
    assert_guesses_lock_after_the_limit(bridge)


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_lock_a_user_with_their_own_codes(
    start_bridge: Any, pg_empty_url: str
) -> None:
    bridge = start_bridge(database_url=pg_empty_url, workers=2, env=REAL_COST_ENV, fast_argon2=False)
    assert_own_codes_never_lock(bridge)


@pytest.mark.postgres
def test_two_workers_on_postgresql_hash_at_most_the_limit_of_parallel_guesses(
    start_bridge: Any, pg_empty_url: str
) -> None:
    bridge = start_bridge(database_url=pg_empty_url, workers=2, env=REAL_COST_ENV, fast_argon2=False)
    assert_guesses_lock_after_the_limit(bridge)
