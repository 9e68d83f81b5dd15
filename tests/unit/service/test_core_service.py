"""``service.BackupCodes`` on SQLite: issue, verify, lockout, rate limit, helpdesk, contacts, deletion."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bridge import service
from bridge.domain import codes
from bridge.service import BackupCodes, PermanentLockError
from bridge.service.policy import Policy, PolicyError
from bridge.settings import Settings
from bridge.store import audit, db
from bridge.store import codes as code_rows
from bridge.store import locks as lockout
from bridge.store.schema import codes as codes_table
from bridge.store.schema import contacts, devices, locks, users
from tests.fixtures.argon2 import FAST_ARGON2, CountingHasher

REALM, USER = "acme", "alice"
CHEAP = FAST_ARGON2
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Outbox:
    """Stands in for notify.enqueue and checks it runs inside the caller's transaction."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, conn: Any, **kwargs: Any) -> int:
        assert conn.in_transaction()
        self.sent.append(kwargs)
        return len(self.sent)

    def kinds(self) -> list[str]:
        return [item["kind"] for item in self.sent]


@dataclass
class Harness:
    svc: BackupCodes
    engine: Engine
    clock: Clock
    outbox: Outbox
    spy: CountingHasher

    def issue(self, user: str = USER) -> list[str]:
        return self.svc.issue(REALM, user, actor=user).codes

    def verify(self, code: str, user: str = USER, ip: str = "192.0.2.1") -> service.VerifyResult:
        return self.svc.verify(REALM, user, code, client_ip=ip, user_agent="pytest")

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        return audit.query(self.engine, realm=REALM, event=event)


def make_harness(tmp_path: Path, **overrides: Any) -> Harness:
    settings = Settings(data_dir=tmp_path / "data", **{**CHEAP, "ip_rate_limit": 1000, **overrides})
    engine = db.make_engine(settings)
    db.create_all(engine)
    clock, outbox = Clock(), Outbox()
    svc = BackupCodes(engine, settings, enqueue=outbox, clock=clock)
    spy = CountingHasher(svc.hasher._ph)
    svc.hasher._ph = spy  # type: ignore[assignment]
    return Harness(svc, engine, clock, outbox, spy)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


def count_rows(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---------------------------------------------------------------- issuing


def test_issue_returns_ten_display_codes_of_sixteen_characters(h: Harness) -> None:
    issued = h.svc.issue(REALM, USER, actor=USER)
    assert len(issued.codes) == 10
    for code in issued.codes:
        assert len(code) == 19 and code.count("-") == 3
    assert issued.created_at.tzinfo is not None


def test_codes_are_stored_only_as_argon2id_hashes(h: Harness) -> None:
    issued = h.issue()
    with h.engine.connect() as conn:
        stored = [row.hash for row in conn.execute(select(codes_table.c.hash))]
    dump = json.dumps(stored)
    assert all(value.startswith("$argon2id$") for value in stored)
    for code in issued:
        assert code not in dump and codes.parse(code) not in dump


def test_issue_honours_the_realm_policy_count_and_length(h: Harness) -> None:
    h.svc.set_policy(REALM, {"code_count": 5, "code_length": 20}, actor="admin")
    issued = h.issue()
    assert len(issued) == 5
    assert all(len(codes.parse(code)) == 20 for code in issued)


def test_issue_enqueues_codes_issued_then_codes_regenerated(h: Harness) -> None:
    h.issue()
    h.issue()
    assert h.outbox.kinds() == ["codes_issued", "codes_regenerated"]
    assert [e["event"] for e in h.events()] == ["issued", "regenerated"]


# ---------------------------------------------------------------- verifying


def test_each_code_works_exactly_once_in_any_order(h: Harness) -> None:
    h.svc.set_policy(REALM, {"max_failures": 100}, actor="admin")
    issued = h.issue()
    order = issued[:]
    random.Random(7).shuffle(order)
    for i, code in enumerate(order, start=1):
        result = h.verify(code)
        assert result.valid and result.reason == "ok"
        assert result.remaining == len(issued) - i
    for code in issued:
        assert h.verify(code).reason == "used"


def test_used_code_is_refused_with_reason_used(h: Harness) -> None:
    code = h.issue()[0]
    assert h.verify(code).valid
    again = h.verify(code)
    assert not again.valid and again.reason == "used" and again.remaining == 0


def test_typed_variants_of_a_code_are_accepted(h: Harness) -> None:
    code = h.issue()[0]
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert h.verify(typed).valid


def test_wrong_code_is_invalid(h: Harness) -> None:
    h.issue()
    result = h.verify(WRONG)
    assert not result.valid and result.reason == "invalid"


def test_regeneration_kills_every_old_code(h: Harness) -> None:
    h.svc.set_policy(REALM, {"max_failures": 100}, actor="admin")
    old = h.issue()
    new = h.issue()
    for code in old:
        assert h.verify(code).reason == "invalid"
    assert h.verify(new[0]).valid


def test_regeneration_failing_midway_leaves_the_old_set_complete(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = h.issue()
    before = h.svc.status(REALM, USER)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("power cut between delete and insert")

    monkeypatch.setattr(code_rows, "insert_set", crash)
    with pytest.raises(RuntimeError):
        h.issue()
    monkeypatch.undo()
    after = h.svc.status(REALM, USER)
    assert (after.total, after.remaining, after.created_at) == (
        before.total,
        before.remaining,
        before.created_at,
    )
    assert h.verify(old[3]).valid
    assert [e["event"] for e in h.events()] == ["issued", "used"]


def test_verify_result_reports_low_when_remaining_reaches_the_threshold(h: Harness) -> None:
    issued = h.issue()
    results = [h.verify(code) for code in issued[:7]]
    assert [r.low for r in results] == [False] * 6 + [True]
    assert h.outbox.kinds().count("codes_low") == 1


def test_code_used_mail_has_time_ip_agent_and_remaining_but_never_the_code(h: Harness) -> None:
    code = h.issue()[0]
    h.verify(code, ip="198.51.100.7")
    used = next(item for item in h.outbox.sent if item["kind"] == "code_used")
    assert used["context"]["client_ip"] == "198.51.100.7"
    assert used["context"]["user_agent"] == "pytest"
    assert used["context"]["remaining"] == 9
    assert used["context"]["when"]
    dump = json.dumps(h.outbox.sent)
    assert code not in dump and codes.parse(code) not in dump


def test_audit_trail_never_contains_a_code(h: Harness) -> None:
    issued = h.issue()
    h.verify(issued[0])
    h.verify(issued[0])
    h.verify(WRONG)
    dump = audit.export(h.events(), "jsonl")
    for code in issued:
        assert code not in dump and codes.parse(code) not in dump


def test_unknown_user_costs_one_verification_and_leaves_no_user_row(h: Harness) -> None:
    result = h.verify(WRONG, user="nobody")
    assert not result.valid and result.reason == "unknown_user"
    assert h.spy.verifications == 1
    assert count_rows(h.engine, users) == 0


def test_user_without_codes_gets_no_codes_after_one_verification(h: Harness) -> None:
    h.issue()
    h.svc.revoke(REALM, USER, actor="admin")
    result = h.verify(WRONG)
    assert result.reason == "no_codes"
    assert h.spy.verifications == 1


@pytest.mark.parametrize("case", ["right", "wrong", "used", "unknown_selector", "unknown_user", "no_codes"])
def test_every_non_refused_attempt_costs_exactly_one_argon2_verification(h: Harness, case: str) -> None:
    issued = h.issue()
    h.verify(issued[0])
    selectors = {codes.selector_of(codes.parse(code)) for code in issued}
    unknown_selector = next(
        a + b + "ZZZZZZZZZZZZZZ" for a in "0123456789" for b in "ABCDEF" if a + b not in selectors
    )
    if case == "no_codes":
        h.svc.revoke(REALM, USER, actor="admin")
    code = {
        "right": issued[1],
        "wrong": issued[1][:-1] + ("0" if issued[1][-1] != "0" else "1"),
        "used": issued[0],
        "unknown_selector": unknown_selector,
        "unknown_user": issued[1],
        "no_codes": issued[1],
    }[case]
    before = h.spy.verifications
    h.verify(code, user="mallory" if case == "unknown_user" else USER)
    assert h.spy.verifications - before == 1


@pytest.mark.parametrize("text", ["x" * 65, "U123-4567-89AB-CDEF", "", "12-34", "😀" * 16])
def test_malformed_input_is_refused_before_any_hashing(h: Harness, text: str) -> None:
    h.issue()
    result = h.verify(text)
    assert not result.valid and result.reason == "malformed"
    assert h.spy.verifications == 0


def test_malformed_input_does_not_count_as_a_failure(h: Harness) -> None:
    code = h.issue()[0]
    for _ in range(10):
        h.verify("x" * 100)
    assert h.verify(code).valid


# ---------------------------------------------------------------- lockout


def test_lock_after_max_failures(h: Harness) -> None:
    h.issue()
    results = [h.verify(WRONG) for _ in range(5)]
    assert [r.locked_until is not None for r in results] == [False] * 4 + [True]
    assert results[-1].locked_until == h.clock.now + timedelta(seconds=60)
    state = h.svc.lock_state(REALM, USER)
    assert (state.locked, state.source, state.kind) == (True, "codes", "temporary")
    assert "locked" in h.outbox.kinds()
    assert len(h.events("locked")) == 1


def test_correct_code_is_refused_while_locked_and_not_consumed(h: Harness) -> None:
    code = h.issue()[0]
    for _ in range(5):
        h.verify(WRONG)
    before = h.spy.verifications
    result = h.verify(code)
    assert not result.valid and result.reason == "locked"
    assert h.spy.verifications == before  # refused before any hashing
    assert h.svc.status(REALM, USER).remaining == 10
    h.clock.advance(61)
    assert h.verify(code).valid


def test_lock_from_another_source_refuses_a_correct_code_without_hashing(h: Harness) -> None:
    code = h.issue()[0]
    h.svc.set_lock(
        REALM, USER, source="directory", kind="permanent", reason="disabled in AD", actor="ldap-sync"
    )
    result = h.verify(code)
    assert result.reason == "locked" and result.locked_until is None
    assert h.spy.verifications == 0
    assert h.svc.status(REALM, USER).remaining == 10


def test_attempts_while_locked_do_not_extend_the_lock(h: Harness) -> None:
    code = h.issue()[0]
    for _ in range(5):
        h.verify(WRONG)
    for _ in range(20):
        h.verify(WRONG)
    h.clock.advance(61)
    assert h.verify(code).valid


def test_success_resets_the_failure_counter(h: Harness) -> None:
    issued = h.issue()
    for _ in range(4):
        h.verify(WRONG)
    assert h.verify(issued[0]).valid
    for _ in range(4):
        assert h.verify(WRONG).reason == "invalid"
    assert not h.svc.lock_state(REALM, USER).locked


def during_next_hash(h: Harness, action: Any) -> list[Any]:
    """Run ``action()`` once, inside the next Argon2 verification: a request in flight, deterministically."""
    outer = h.svc.hasher._ph
    seen: list[Any] = []

    class Hook:
        def verify(self, *args: Any, **kwargs: Any) -> bool:
            h.svc.hasher._ph = outer
            seen.append(action())
            return bool(outer.verify(*args, **kwargs))

    h.svc.hasher._ph = Hook()  # type: ignore[assignment]
    return seen


def failed_attempts(h: Harness) -> int:
    with h.engine.connect() as conn:
        return int(conn.execute(select(users.c.failed_attempts)).scalar_one())


def test_a_code_over_the_limit_only_by_attempts_in_flight_is_busy_not_locked(h: Harness) -> None:
    issued = h.issue()
    h.svc.set_policy(REALM, {"max_failures": 1}, actor="admin")
    inner = during_next_hash(h, lambda: h.verify(issued[1]))
    assert h.verify(issued[0]).valid
    assert [(r.valid, r.reason, r.locked_until) for r in inner] == [(False, "busy", None)]
    assert not h.svc.lock_state(REALM, USER).locked


def test_a_busy_attempt_costs_no_hash_uses_nothing_and_counts_nothing(h: Harness) -> None:
    issued = h.issue()
    h.svc.set_policy(REALM, {"max_failures": 1}, actor="admin")
    during_next_hash(h, lambda: h.verify(issued[1]))
    h.verify(issued[0])
    assert h.spy.verifications == 1
    assert (failed_attempts(h), h.svc.status(REALM, USER).remaining) == (0, 9)
    assert [e["details"]["reason"] for e in h.events("failed")] == []
    assert h.verify(issued[1]).valid  # the retry


def test_the_lock_comes_from_settled_failures_not_from_attempts_in_flight(h: Harness) -> None:
    h.issue()
    h.svc.set_policy(REALM, {"max_failures": 1}, actor="admin")
    inner = during_next_hash(h, lambda: h.verify(WRONG))
    outer = h.verify(WRONG)
    assert (inner[0].reason, outer.reason) == ("busy", "invalid")
    assert outer.locked_until == h.clock.now + timedelta(seconds=60)
    assert h.verify(WRONG).reason == "locked"


def test_an_attempt_whose_hash_raised_gives_its_place_back(h: Harness) -> None:
    code = h.issue()[0]
    h.svc.set_policy(REALM, {"max_failures": 1}, actor="admin")
    outer = h.svc.hasher._ph

    class Broken:
        def verify(self, *_args: Any, **_kwargs: Any) -> bool:
            h.svc.hasher._ph = outer
            raise MemoryError("argon2 could not allocate")

    h.svc.hasher._ph = Broken()  # type: ignore[assignment]
    with pytest.raises(MemoryError):
        h.verify(code)
    assert h.verify(code).valid


def test_a_place_never_given_back_expires(h: Harness) -> None:
    """A worker killed mid-hash never settles its attempt: its place is void after IN_FLIGHT_SECONDS."""
    code = h.issue()[0]
    with h.engine.begin() as conn:
        for _ in range(5):
            assert lockout.admit(conn, REALM, USER, max_failures=5, now=h.clock.now).outcome == "counted"
    assert h.verify(code).reason == "busy"
    h.clock.advance(lockout.IN_FLIGHT_SECONDS - 1)
    assert h.verify(code).reason == "busy"
    h.clock.advance(1)
    assert h.verify(code).valid


def test_backoff_doubles_with_each_consecutive_lockout_up_to_the_cap(h: Harness) -> None:
    h.issue()
    h.svc.set_policy(REALM, {"lockout_seconds": 60, "lockout_max_seconds": 300}, actor="admin")
    durations = []
    for _ in range(5):
        for _ in range(5):
            result = h.verify(WRONG)
        assert result.locked_until is not None
        durations.append((result.locked_until - h.clock.now).total_seconds())
        h.clock.advance(durations[-1] + 1)
    assert durations == [60, 120, 240, 300, 300]


def test_success_resets_the_backoff(h: Harness) -> None:
    issued = h.issue()
    for _ in range(5):
        h.verify(WRONG)
    h.clock.advance(61)
    assert h.verify(issued[0]).valid
    for _ in range(5):
        result = h.verify(WRONG)
    assert result.locked_until == h.clock.now + timedelta(seconds=60)


def test_expired_temporary_lock_is_not_a_lock(h: Harness) -> None:
    h.svc.set_lock(
        REALM,
        USER,
        source="keycloak",
        kind="temporary",
        reason="brute force",
        actor="kc",
        expires_at=h.clock.now + timedelta(seconds=30),
    )
    assert h.svc.lock_state(REALM, USER).locked
    h.clock.advance(31)
    assert not h.svc.lock_state(REALM, USER).locked


def test_permanent_lock_is_not_cleared_without_allow_permanent(h: Harness) -> None:
    h.svc.set_lock(REALM, USER, source="directory", kind="permanent", reason="disabled", actor="ldap-sync")
    with pytest.raises(PermanentLockError):
        h.svc.clear_lock(REALM, USER, source="directory", actor="helpdesk", reason="asked nicely")
    assert h.svc.lock_state(REALM, USER).kind == "permanent"
    assert h.svc.clear_lock(
        REALM, USER, source="directory", actor="admin", reason="re-enabled", allow_permanent=True
    )
    assert not h.svc.lock_state(REALM, USER).locked


def test_clearing_the_codes_lock_lets_the_user_in_and_is_audited(h: Harness) -> None:
    code = h.issue()[0]
    for _ in range(5):
        h.verify(WRONG)
    assert h.svc.clear_lock(REALM, USER, source="codes", actor="helpdesk", reason="user called")
    assert h.verify(code).valid
    unlocked = h.events("unlocked")
    assert unlocked[0]["actor"] == "helpdesk" and unlocked[0]["details"]["reason"] == "user called"
    assert "unlocked" in h.outbox.kinds()


def test_clear_lock_without_a_lock_returns_false(h: Harness) -> None:
    assert not h.svc.clear_lock(REALM, USER, source="keycloak", actor="a", reason="r")


def test_strongest_lock_wins(h: Harness) -> None:
    h.svc.set_lock(
        REALM,
        USER,
        source="keycloak",
        kind="temporary",
        reason="",
        actor="kc",
        expires_at=h.clock.now + timedelta(hours=1),
    )
    h.svc.set_lock(REALM, USER, source="directory", kind="permanent", reason="", actor="ldap")
    state = h.svc.lock_state(REALM, USER)
    assert (state.source, state.kind, state.until) == ("directory", "permanent", None)
    assert {lock.source for lock in h.svc.list_locks(REALM, USER)} == {"keycloak", "directory"}


def test_setting_the_same_lock_twice_is_audited_once(h: Harness) -> None:
    for _ in range(2):
        h.svc.set_lock(REALM, USER, source="directory", kind="permanent", reason="disabled", actor="ldap")
    assert len(h.events("locked")) == 1


def test_temporary_lock_needs_a_future_expiry(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.svc.set_lock(REALM, USER, source="keycloak", kind="temporary", reason="", actor="kc")
    with pytest.raises(ValueError):
        h.svc.set_lock(
            REALM,
            USER,
            source="keycloak",
            kind="temporary",
            reason="",
            actor="kc",
            expires_at=h.clock.now - timedelta(seconds=1),
        )


def test_unknown_lock_source_is_refused(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.svc.set_lock(REALM, USER, source="elsewhere", kind="permanent", reason="", actor="x")


# ---------------------------------------------------------------- rate limit


def test_client_ip_over_the_rate_limit_is_refused_before_hashing(tmp_path: Path) -> None:
    h = make_harness(tmp_path, ip_rate_limit=3, ip_rate_window_seconds=60)
    code = h.issue()[0]
    for _ in range(3):
        h.verify(WRONG, ip="203.0.113.9")
    before = h.spy.verifications
    result = h.verify(code, ip="203.0.113.9")
    assert not result.valid and result.reason == "rate_limited"
    assert h.spy.verifications == before
    assert h.verify(code, ip="203.0.113.10").valid


def test_rate_limit_resets_in_the_next_window(tmp_path: Path) -> None:
    h = make_harness(tmp_path, ip_rate_limit=1, ip_rate_window_seconds=60)
    code = h.issue()[0]
    h.verify(WRONG)
    assert h.verify(code).reason == "rate_limited"
    h.clock.advance(60)
    assert h.verify(code).valid


# ---------------------------------------------------------------- status, helpdesk, contacts, deletion


def test_status_of_an_unknown_user_is_not_enrolled(h: Harness) -> None:
    status = h.svc.status(REALM, "nobody")
    assert (status.enrolled, status.total, status.remaining, status.low, status.lock.locked) == (
        False,
        0,
        0,
        False,
        False,
    )


def test_status_counts_and_dates(h: Harness) -> None:
    issued = h.issue()
    h.clock.advance(10)
    h.verify(issued[0])
    status = h.svc.status(REALM, USER)
    assert (status.enrolled, status.total, status.remaining) == (True, 10, 9)
    assert status.created_at == h.clock.now - timedelta(seconds=10)
    assert status.last_used_at == h.clock.now
    assert status.to_dict()["lock"] == {"locked": False, "source": None, "kind": None, "until": None}


def test_helpdesk_reset_revokes_the_set_and_requires_enrolment(h: Harness) -> None:
    code = h.issue()[0]
    h.svc.helpdesk_reset(
        REALM, USER, actor="bob@helpdesk", reason="lost sheet", identity_check="video call + badge"
    )
    status = h.svc.status(REALM, USER)
    assert (status.enrolled, status.enroll_required) == (False, True)
    result = h.verify(code)
    assert not result.valid and result.enroll_required
    event = h.events("helpdesk_reset")[0]
    assert event["actor"] == "bob@helpdesk"
    assert event["details"]["identity_check"] == "video call + badge"
    assert "helpdesk_reset" in h.outbox.kinds()


def test_issue_after_helpdesk_reset_clears_enroll_required(h: Harness) -> None:
    h.issue()
    h.svc.helpdesk_reset(REALM, USER, actor="bob", reason="lost", identity_check="callback")
    h.issue()
    assert not h.svc.status(REALM, USER).enroll_required


def test_helpdesk_reset_needs_an_identity_check(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.svc.helpdesk_reset(REALM, USER, actor="bob", reason="lost", identity_check=" ")


def test_contact_round_trip(h: Harness) -> None:
    h.svc.set_contact(REALM, USER, email="alice@example.org", locale="de", display_name="Alice", actor="api")
    contact = h.svc.get_contact(REALM, USER)
    assert contact is not None
    assert (contact.email, contact.locale, contact.display_name, contact.source) == (
        "alice@example.org",
        "de",
        "Alice",
        "api",
    )
    assert h.events("contact_changed")[0]["details"]["changed"] == ["display_name", "email", "locale"]


def test_changed_email_is_announced_to_both_addresses(h: Harness) -> None:
    h.svc.set_contact(REALM, USER, email="old@example.org", actor="api")
    h.outbox.sent.clear()
    h.svc.set_contact(REALM, USER, email="new@example.org", actor="api")
    assert h.outbox.kinds() == ["email_changed", "email_changed"]
    assert {item["to_address"] for item in h.outbox.sent} == {"old@example.org", "new@example.org"}


def test_unchanged_contact_writes_nothing(h: Harness) -> None:
    h.svc.set_contact(REALM, USER, email="a@example.org", actor="api")
    h.svc.set_contact(REALM, USER, email="a@example.org", actor="api")
    assert len(h.events("contact_changed")) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"email": "not-an-address"},
        {"email": "a@b\r\nBcc: x@y"},
        {"locale": "../../etc"},
        {"phone": "call me"},
    ],
)
def test_invalid_contact_values_are_refused(h: Harness, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        h.svc.set_contact(REALM, USER, actor="api", **kwargs)
    assert h.svc.get_contact(REALM, USER) is None


def test_delete_user_removes_everything_but_the_audit_trail(h: Harness) -> None:
    h.issue()
    h.svc.set_contact(REALM, USER, email="alice@example.org", actor="api")
    h.svc.set_lock(REALM, USER, source="keycloak", kind="permanent", reason="", actor="kc")
    with h.engine.begin() as conn:
        conn.execute(
            devices.insert().values(
                id="d1",
                realm=REALM,
                user_id=USER,
                name="laptop",
                first_seen=h.clock.now,
                last_seen=h.clock.now,
            )
        )
    trail = len(h.events())
    h.svc.delete_user(REALM, USER, actor="gdpr-bot")
    for table in (codes_table, users, contacts, locks, devices):
        assert count_rows(h.engine, table) == 0
    events = h.events()
    assert len(events) == trail + 1 and events[-1]["event"] == "user_deleted"


def test_other_users_are_untouched_by_delete_user(h: Harness) -> None:
    h.issue()
    bob_codes = h.issue(user="bob")
    h.svc.delete_user(REALM, USER, actor="admin")
    assert h.verify(bob_codes[0], user="bob").valid


# ---------------------------------------------------------------- policy


def test_policy_defaults_come_from_settings(tmp_path: Path) -> None:
    h = make_harness(tmp_path, code_count=12, max_failures=3)
    pol = h.svc.get_policy(REALM)
    assert (pol.code_count, pol.max_failures, pol.code_length) == (12, 3, 16)


@pytest.mark.parametrize(
    "change",
    [
        {"code_length": 14},
        {"max_failures": 101},
        {"max_failures": 0},
        {"code_count": 0},
        {"low_threshold": 10},
        {"code_count": "10"},
        {"colour": "blue"},
        {"reset_mode": "anyone"},
    ],
)
def test_unsafe_or_malformed_policies_are_refused(h: Harness, change: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        h.svc.set_policy(REALM, change, actor="admin")
    assert h.svc.get_policy(REALM) == h.svc.get_policy("untouched")


def test_policy_change_is_audited_and_kept_per_realm(h: Harness) -> None:
    h.svc.set_policy(REALM, Policy(max_failures=7), actor="admin")
    assert h.svc.get_policy(REALM).max_failures == 7
    assert h.svc.get_policy("other").max_failures == 5
    assert h.events("policy_changed")[0]["details"]["new"]["max_failures"] == 7


def test_codes_issued_under_an_old_length_still_work_after_a_policy_change(h: Harness) -> None:
    code = h.issue()[0]
    h.svc.set_policy(REALM, {"code_length": 20}, actor="admin")
    assert h.verify(code).valid


def test_policy_max_failures_applies_to_the_lockout(h: Harness) -> None:
    h.issue()
    h.svc.set_policy(REALM, {"max_failures": 2}, actor="admin")
    assert h.verify(WRONG).locked_until is None
    assert h.verify(WRONG).locked_until is not None


# ---------------------------------------------------------------- default cost


def test_issue_and_verify_with_the_default_argon2_cost(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    engine = db.make_engine(settings)
    db.create_all(engine)
    svc = BackupCodes(engine, settings, enqueue=Outbox())
    svc.set_policy(REALM, {"code_count": 2, "low_threshold": 1}, actor="admin")
    issued = svc.issue(REALM, USER, actor=USER).codes
    with engine.connect() as conn:
        stored = conn.execute(select(codes_table.c.hash)).scalars().all()
    assert all("$m=19456,t=2,p=1$" in value for value in stored)
    assert svc.verify(REALM, USER, issued[1], client_ip="192.0.2.1").valid
    assert svc.verify(REALM, USER, issued[1], client_ip="192.0.2.1").reason == "used"


def test_first_email_address_sends_no_change_mail(h: Harness) -> None:
    h.svc.set_contact(REALM, USER, email="first@example.org", actor="api")
    assert "email_changed" not in h.outbox.kinds()


def test_removed_email_address_is_announced_to_the_old_one(h: Harness) -> None:
    h.svc.set_contact(REALM, USER, email="old@example.org", actor="api")
    h.svc.set_contact(REALM, USER, email=None, actor="api")
    assert [(i["kind"], i["to_address"]) for i in h.outbox.sent] == [("email_changed", "old@example.org")]


def test_settings_below_the_code_length_floor_fail_at_start_up(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", code_length=14, **CHEAP)
    with pytest.raises(PolicyError):
        BackupCodes(db.make_engine(settings), settings)
