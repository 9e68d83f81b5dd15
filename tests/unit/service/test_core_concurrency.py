"""Racing requests: one code redeemed by many threads at once, and parallel guesses against the counter.

Run against SQLite (WAL, one writer) and a real PostgreSQL (row locks, READ COMMITTED), because the
single-use and failure-limit guarantees rest on how each database serialises conditional UPDATEs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bridge.service import BackupCodes, VerifyResult
from bridge.settings import Settings
from bridge.store import db
from bridge.store.schema import users
from tests.fixtures.argon2 import CountingHasher, fast_settings

REALM, USER = "acme", "alice"
THREADS = 8
SETTINGS = fast_settings(ip_rate_limit=10_000)
# The production Argon2 cost: a hash long enough (tens of ms) for racing requests to overlap in it.
REAL_COST = Settings(ip_rate_limit=10_000)


def service(engine: Engine, settings: Settings = SETTINGS) -> tuple[BackupCodes, CountingHasher]:
    svc = BackupCodes(engine, settings, enqueue=lambda _conn, **_kw: None)
    spy = CountingHasher(svc.hasher._ph)
    svc.hasher._ph = spy  # type: ignore[assignment]
    return svc, spy


def race(n: int, attempt: Callable[[int], VerifyResult]) -> list[VerifyResult]:
    """Run ``attempt(i)`` in ``n`` threads released together; re-raise the first error."""
    barrier = threading.Barrier(n)
    results: list[VerifyResult | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = attempt(i)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(Settings(data_dir=tmp_path / "data"))
    db.create_all(engine)
    return engine


def one_code_many_threads(engine: Engine, rounds: int) -> None:
    svc, _ = service(engine)
    svc.set_policy(REALM, {"max_failures": 100}, actor="test")
    for _ in range(rounds):
        code = svc.issue(REALM, USER, actor=USER).codes[0]
        results = race(THREADS, lambda i, c=code: svc.verify(REALM, USER, c, client_ip=f"192.0.2.{i}"))
        assert sum(r.valid for r in results) == 1
        assert sorted(r.reason for r in results if not r.valid) == ["used"] * (THREADS - 1)
        assert svc.status(REALM, USER).remaining == 9


def guesses_against_the_counter(engine: Engine, rounds: int) -> None:
    svc, spy = service(engine)
    svc.issue(REALM, USER, actor=USER)
    for round_ in range(rounds):
        before = spy.verifications
        results = race(
            2 * THREADS,
            lambda i, r=round_: svc.verify(
                REALM, USER, f"ZZZZ-ZZZZ-ZZZZ-{r % 10}{i:03d}", client_ip="192.0.2.1"
            ),
        )
        assert spy.verifications - before == 5  # max_failures, however many raced
        assert sum(r.reason == "invalid" for r in results) == 5
        # Refused unhashed: "busy" while the five were in flight, "locked" once they had failed.
        assert sum(r.reason in ("busy", "locked") for r in results) == 2 * THREADS - 5
        assert svc.lock_state(REALM, USER).locked
        with engine.connect() as conn:
            assert conn.execute(select(users.c.failed_attempts)).scalar_one() <= 5
        svc.clear_lock(REALM, USER, source="codes", actor="test", reason="next round")


def own_codes_at_once(engine: Engine) -> None:
    """Ten valid codes of one user at once: none refused as locked; the busy ones go through on retry."""
    svc, _ = service(engine, REAL_COST)
    issued = svc.issue(REALM, USER, actor=USER).codes
    results = race(len(issued), lambda i: svc.verify(REALM, USER, issued[i], client_ip="192.0.2.1"))
    assert [r.reason for r in results if not r.valid and r.reason != "busy"] == []
    retried = [
        svc.verify(REALM, USER, issued[i], client_ip="192.0.2.1")
        for i, r in enumerate(results)
        if not r.valid
    ]
    assert all(r.valid for r in retried), [r.reason for r in retried]
    assert not svc.lock_state(REALM, USER).locked
    assert svc.status(REALM, USER).remaining == 0
    with engine.connect() as conn:
        assert conn.execute(select(users.c.failed_attempts)).scalar_one() == 0


def wrong_codes_on_a_fresh_user(engine: Engine) -> None:
    """Twenty wrong codes at once on a user who never failed: locked, after at most five hashes."""
    svc, spy = service(engine, REAL_COST)
    svc.issue(REALM, USER, actor=USER)
    before = spy.verifications
    results = race(20, lambda i: svc.verify(REALM, USER, f"ZZZZ-ZZZZ-ZZZZ-Z{i:03d}", client_ip="192.0.2.1"))
    assert spy.verifications - before <= 5
    assert not any(r.valid for r in results)
    assert svc.lock_state(REALM, USER).locked


def racing_right_code_while_guessing(engine: Engine) -> None:
    """The owner's code racing guesses: at most one success, never more than the limit hashed."""
    svc, spy = service(engine)
    code = svc.issue(REALM, USER, actor=USER).codes[0]

    def attempt(i: int) -> VerifyResult:
        typed = code if i == 0 else f"ZZZZ-ZZZZ-ZZZZ-Z{i:03d}"
        return svc.verify(REALM, USER, typed, client_ip="192.0.2.1")

    results = race(2 * THREADS, attempt)
    assert sum(r.valid for r in results) <= 1
    assert spy.verifications <= 2 * 5  # the one success may reset the counter once


def test_eight_threads_one_code_exactly_one_success_on_sqlite(sqlite_engine: Engine) -> None:
    one_code_many_threads(sqlite_engine, rounds=5)


def test_parallel_guesses_never_pass_the_failure_limit_on_sqlite(sqlite_engine: Engine) -> None:
    guesses_against_the_counter(sqlite_engine, rounds=3)


def test_right_code_racing_guesses_on_sqlite(sqlite_engine: Engine) -> None:
    racing_right_code_while_guessing(sqlite_engine)


def test_ten_own_codes_at_once_never_lock_the_user_on_sqlite(sqlite_engine: Engine) -> None:
    own_codes_at_once(sqlite_engine)


def test_twenty_wrong_codes_at_once_lock_after_at_most_five_hashes_on_sqlite(sqlite_engine: Engine) -> None:
    wrong_codes_on_a_fresh_user(sqlite_engine)


@pytest.mark.postgres
def test_eight_threads_one_code_exactly_one_success_on_postgres(pg_engine: Engine) -> None:
    one_code_many_threads(pg_engine, rounds=5)


@pytest.mark.postgres
def test_parallel_guesses_never_pass_the_failure_limit_on_postgres(pg_engine: Engine) -> None:
    guesses_against_the_counter(pg_engine, rounds=3)


@pytest.mark.postgres
def test_right_code_racing_guesses_on_postgres(pg_engine: Engine) -> None:
    racing_right_code_while_guessing(pg_engine)


@pytest.mark.postgres
def test_ten_own_codes_at_once_never_lock_the_user_on_postgres(pg_engine: Engine) -> None:
    own_codes_at_once(pg_engine)


@pytest.mark.postgres
def test_twenty_wrong_codes_at_once_lock_after_at_most_five_hashes_on_postgres(pg_engine: Engine) -> None:
    wrong_codes_on_a_fresh_user(pg_engine)
