"""Storage building blocks: engine, timestamps, audit trail, rate-limit windows, locks, policy."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, select, text

from bridge.domain.locks import Lock
from bridge.service import ratelimit
from bridge.service.policy import Policy, PolicyError
from bridge.settings import Settings
from bridge.store import audit, db
from bridge.store import locks as lockout
from bridge.store.schema import rate_limits, users

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(Settings(data_dir=tmp_path / "data"))
    db.create_all(engine)
    return engine


# ---------------------------------------------------------------- db


def test_default_sqlite_database_lives_in_a_private_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    engine = db.make_engine(Settings(data_dir=data_dir))
    db.create_all(engine)
    assert (data_dir / "backup-codes.db").exists()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which SQLite creates its files 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def explicit_sqlite(path: Path) -> Engine:
    """An engine on an explicit BACKUP_CODES_DATABASE_URL, with a write open so -wal and -shm exist."""
    engine = db.make_engine(Settings(data_dir=path.parent / "unused", database_url=f"sqlite:///{path}"))
    db.create_all(engine)
    return engine


@pytest.mark.usefixtures("umask_022")
def test_an_explicit_sqlite_database_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "db" / "bridge.db"
    path.parent.mkdir()
    engine = explicit_sqlite(path)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rate_limits (key, window_start, count) VALUES ('k', 0, 1)"))
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in path.parent.iterdir()}
    engine.dispose()
    assert {"bridge.db", "bridge.db-wal", "bridge.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.usefixtures("umask_022")
def test_the_directory_the_bridge_creates_for_an_explicit_sqlite_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "nested" / "bridge.db"
    explicit_sqlite(path).dispose()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


def test_a_readable_sqlite_database_left_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm"):
        (tmp_path / name).touch(mode=0o644)
        (tmp_path / name).chmod(0o644)
    explicit_sqlite(path).dispose()
    assert {stat.S_IMODE(f.stat().st_mode) for f in tmp_path.iterdir()} == {0o600}


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_statement_never_carries_its_bound_values(engine: Engine) -> None:
    # Its message may reach the log (database-unavailable answers log it); the values must not.
    with pytest.raises(Exception) as raised, engine.connect() as conn:
        conn.execute(text("SELECT no_such_column FROM codes WHERE hash = :h"), {"h": "secret-value-1"})
    assert "no_such_column" in str(raised.value)
    assert "secret-value-1" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "timeout"),
    [("postgresql://u@192.0.2.1/x", 5), ("postgresql://u@192.0.2.1/x?connect_timeout=20", "20")],
    ids=["default", "from-the-url"],
)
def test_postgres_connections_give_up_after_a_bounded_time(url: str, timeout: object) -> None:
    engine = db.make_engine(Settings(database_url=url))
    seen: dict[str, object] = {}

    @event.listens_for(engine, "do_connect")
    def _capture(_dialect: object, _record: object, _args: object, params: dict[str, object]) -> None:
        seen.update(params)
        raise ConnectionAbortedError("captured")

    with pytest.raises(Exception, match="captured"), engine.connect():
        pass
    assert seen["connect_timeout"] == timeout


def test_postgres_urls_are_driven_by_psycopg_3() -> None:
    engine = db.make_engine(Settings(database_url="postgresql://u@127.0.0.1:1/x"))
    assert engine.dialect.driver == "psycopg"


def test_utcnow_is_aware_utc_without_microseconds() -> None:
    now = db.utcnow()
    assert now.tzinfo is UTC and now.microsecond == 0


def test_naive_datetimes_from_sqlite_are_read_as_utc() -> None:
    assert db.as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert db.as_utc(None) is None


# ---------------------------------------------------------------- audit


def record_some(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, event="issued", realm="r1", user_id="u1", actor="u1", at=NOW)
        audit.record(
            conn,
            event="failed",
            realm="r1",
            user_id="u1",
            actor="u1",
            client_ip="192.0.2.1",
            details={"reason": "invalid"},
            at=NOW + timedelta(minutes=1),
        )
        audit.record(conn, event="used", realm="r2", user_id="u2", actor="u2", at=NOW + timedelta(minutes=2))


def test_audit_query_filters_by_realm_user_event_and_time(engine: Engine) -> None:
    record_some(engine)
    assert [e["event"] for e in audit.query(engine)] == ["issued", "failed", "used"]
    assert [e["event"] for e in audit.query(engine, realm="r1")] == ["issued", "failed"]
    assert [e["event"] for e in audit.query(engine, user_id="u2")] == ["used"]
    assert [e["event"] for e in audit.query(engine, event="failed")] == ["failed"]
    since, until = NOW + timedelta(seconds=30), NOW + timedelta(minutes=2)
    assert [e["event"] for e in audit.query(engine, since=since, until=until)] == ["failed"]
    assert len(audit.query(engine, limit=2)) == 2


def test_audit_rows_carry_aware_timestamps_and_details(engine: Engine) -> None:
    record_some(engine)
    failed = audit.query(engine, event="failed")[0]
    assert datetime.fromisoformat(failed["at"]) == NOW + timedelta(minutes=1)
    assert failed["details"] == {"reason": "invalid"} and failed["client_ip"] == "192.0.2.1"


def test_unknown_audit_event_is_refused(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError):
        audit.record(conn, event="coffee", realm="r")


def test_audit_exports_json_lines(engine: Engine) -> None:
    record_some(engine)
    lines = audit.export(audit.query(engine), "jsonl").splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["issued", "failed", "used"]


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tcmd"])
def test_csv_export_defuses_formula_cells(engine: Engine, payload: str) -> None:
    with engine.begin() as conn:
        audit.record(conn, event="locked", realm="r", user_id=payload, actor=payload, user_agent=payload)
    exported = audit.export(audit.query(engine), "csv")
    row = next(iter(csv.DictReader(io.StringIO(exported))))
    for column in ("user_id", "actor", "user_agent"):
        assert row[column] == "'" + payload


def test_unknown_export_format_is_refused() -> None:
    with pytest.raises(ValueError):
        audit.export([], "xlsx")


# ---------------------------------------------------------------- rate limit


def test_rate_limit_counts_per_key_within_a_window(engine: Engine) -> None:
    limiter = ratelimit.RateLimiter(limit=2, window=60)
    with engine.begin() as conn:
        decisions = [limiter.hit(conn, "ip:a", epoch_seconds=1_000_000) for _ in range(3)]
        other = limiter.hit(conn, "ip:b", epoch_seconds=1_000_000)
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after == 1_000_020 - 1_000_000
    assert other.allowed


def _windows(conn: Connection) -> list[int]:
    return sorted(conn.execute(select(rate_limits.c.window_start)).scalars())


def test_rate_limit_purges_finished_windows(engine: Engine) -> None:
    limiter = ratelimit.RateLimiter(limit=5, window=60)
    with engine.begin() as conn:
        limiter.hit(conn, "ip:a", epoch_seconds=1_000_000)
        limiter.hit(conn, "ip:a", epoch_seconds=1_000_000 + 3600)
        assert _windows(conn) == [ratelimit.window_start(1_000_000 + 3600, 60)]


def test_rate_limit_purges_once_per_window_not_at_every_new_address(engine: Engine) -> None:
    limiter = ratelimit.RateLimiter(limit=5, window=60)
    later = 1_000_000 + 3600
    this_window, next_window = ratelimit.window_start(later, 60), ratelimit.window_start(later + 60, 60)
    with engine.begin() as conn:
        limiter.hit(conn, "ip:a", epoch_seconds=later)  # purges before this window
        limiter.hit(conn, "ip:old", epoch_seconds=1_000_000)  # a finished window's row, written late
        limiter.hit(conn, "ip:b", epoch_seconds=later)  # new address, same window: no second purge
        assert len(_windows(conn)) == 3
        limiter.hit(conn, "ip:c", epoch_seconds=later + 60)  # next window: purged again
        assert _windows(conn) == [this_window, this_window, next_window]


def test_zero_rate_limit_disables_it(engine: Engine) -> None:
    limiter = ratelimit.RateLimiter(limit=0, window=60)
    with engine.begin() as conn:
        assert all(limiter.hit(conn, "k", epoch_seconds=1).allowed for _ in range(50))


# ---------------------------------------------------------------- lockout (pure)


def test_backoff_doubles_and_is_capped() -> None:
    assert [lockout.backoff_seconds(n, 60, 3600) for n in range(8)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert lockout.backoff_seconds(10_000, 60, 3600) == 3600


def lock(source: str, kind: str, expires_in: int | None) -> Lock:
    expires = NOW + timedelta(seconds=expires_in) if expires_in is not None else None
    return Lock(source, kind, "", "", NOW, expires, lockout.is_active(kind, expires, NOW))


def test_permanent_lock_beats_any_temporary_one() -> None:
    state = lockout.effective([lock("codes", "temporary", 600), lock("directory", "permanent", None)])
    assert (state.locked, state.source, state.kind, state.until) == (True, "directory", "permanent", None)


def test_latest_ending_temporary_lock_wins() -> None:
    state = lockout.effective([lock("codes", "temporary", 60), lock("keycloak", "temporary", 600)])
    assert (state.source, state.until) == ("keycloak", NOW + timedelta(seconds=600))


def test_expired_temporary_locks_are_ignored() -> None:
    assert not lockout.effective([lock("keycloak", "temporary", -1)]).locked


@pytest.mark.parametrize(
    ("failed", "in_flight", "outcome"),
    [
        (0, 0, "counted"),
        (0, 4, "counted"),
        (3, 1, "counted"),
        (0, 5, "busy"),
        (4, 1, "busy"),
        (2, 9, "busy"),
        (5, 0, "locked"),
        (5, 3, "locked"),
        (7, 0, "locked"),
    ],
)
def test_only_settled_failures_lock_and_attempts_in_flight_make_busy(
    failed: int, in_flight: int, outcome: str
) -> None:
    assert lockout.decide(failed, in_flight, max_failures=5) == outcome


def test_attempts_in_flight_count_until_their_time_is_up() -> None:
    assert lockout.live_in_flight(3, NOW + timedelta(seconds=1), NOW) == 3
    assert lockout.live_in_flight(3, NOW, NOW) == 0
    assert lockout.live_in_flight(3, None, NOW) == 0


# ---------------------------------------------------------------- lockout (store)


def add_user(conn: Connection) -> None:
    conn.execute(
        users.insert().values(
            realm="r",
            user_id="u",
            failed_attempts=0,
            lockouts=0,
            enroll_required=False,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def counts(conn: Connection) -> tuple[int, int]:
    row = conn.execute(select(users.c.failed_attempts, users.c.in_flight)).one()
    return row.failed_attempts, row.in_flight


def test_a_late_settlement_of_a_voided_batch_records_its_failure_but_frees_no_place(engine: Engine) -> None:
    later = NOW + timedelta(seconds=lockout.IN_FLIGHT_SECONDS)
    with engine.begin() as conn:
        add_user(conn)
        stale = lockout.admit(conn, "r", "u", max_failures=3, now=NOW)
        fresh = [lockout.admit(conn, "r", "u", max_failures=3, now=later) for _ in range(2)]
        assert [a.batch for a in fresh] == [stale.batch + 1] * 2
        lockout.settle_failure(
            conn, "r", "u", stale.batch, max_failures=3, lockout_seconds=60, lockout_max_seconds=60, now=later
        )
        assert counts(conn) == (1, 2)
        assert lockout.admit(conn, "r", "u", max_failures=3, now=later).outcome == "busy"


def test_the_failure_that_reaches_the_limit_places_the_lock(engine: Engine) -> None:
    with engine.begin() as conn:
        add_user(conn)
        admitted = [lockout.admit(conn, "r", "u", max_failures=2, now=NOW) for _ in range(2)]
        settled = [
            lockout.settle_failure(
                conn, "r", "u", a.batch, max_failures=2, lockout_seconds=60, lockout_max_seconds=60, now=NOW
            )
            for a in admitted
        ]
        assert [s.placed_lock_until for s in settled] == [None, NOW + timedelta(seconds=60)]
        assert counts(conn) == (2, 0)
        assert lockout.admit(conn, "r", "u", max_failures=2, now=NOW).outcome == "locked"


# ---------------------------------------------------------------- policy (pure)


def test_policy_needs_64_secret_bits() -> None:
    assert Policy(code_length=15).validated()
    with pytest.raises(PolicyError, match="64"):
        Policy(code_length=14).validated()


def test_policy_caps_failures_at_100() -> None:
    assert Policy(max_failures=100).validated()
    with pytest.raises(PolicyError):
        Policy(max_failures=101).validated()


def test_policy_from_dict_rejects_booleans_for_numbers() -> None:
    with pytest.raises(PolicyError):
        Policy.from_dict({"max_failures": True})
