"""Stateful property test of the service (Hypothesis ``RuleBasedStateMachine``, security.md §5).

Rules: issue/regenerate, redeem a valid code, redeem a used one, redeem an old-batch one, redeem
random text, fail until locked, let time pass. Invariants: a used code never succeeds again, old
batches always fail, remaining = issued - used, the failure counter never exceeds the limit, and a
locked account rejects even a valid code without consuming it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from bridge.service import BackupCodes
from bridge.store import db
from bridge.store.schema import users
from tests.fixtures.argon2 import fast_settings

REALM, USER = "acme", "alice"
MAX_FAILURES = 3


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class BackupCodesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="bc-stateful-"))
        config = fast_settings(
            data_dir=self.dir,
            ip_rate_limit=0,
            max_failures=MAX_FAILURES,
            lockout_seconds=30,
            lockout_max_seconds=120,
        )
        self.engine = db.make_engine(config)
        db.create_all(self.engine)
        self.clock = Clock()
        self.svc = BackupCodes(self.engine, config, enqueue=lambda _conn, **_kw: None, clock=self.clock)
        self.current: list[str] = []
        self.used: set[str] = set()
        self.old: list[str] = []

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _verify(self, code: str) -> tuple[bool, str]:
        result = self.svc.verify(REALM, USER, code, client_ip="192.0.2.1")
        return result.valid, result.reason

    @rule()
    def issue(self) -> None:
        self.old.extend(self.current)
        self.current = self.svc.issue(REALM, USER, actor=USER).codes
        self.used = set()

    @precondition(lambda self: any(code not in self.used for code in self.current))
    @rule(data=st.data())
    def redeem_valid(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from([c for c in self.current if c not in self.used]))
        locked = self.svc.lock_state(REALM, USER).locked
        valid, reason = self._verify(code)
        if locked:
            assert (valid, reason) == (False, "locked")
        else:
            assert valid and reason == "ok"
            self.used.add(code)

    @precondition(lambda self: bool(self.used))
    @rule(data=st.data())
    def redeem_used(self, data: st.DataObject) -> None:
        valid, reason = self._verify(data.draw(st.sampled_from(sorted(self.used))))
        assert not valid and reason in ("used", "locked")

    @precondition(lambda self: bool(self.old))
    @rule(data=st.data())
    def redeem_old_batch(self, data: st.DataObject) -> None:
        valid, _ = self._verify(data.draw(st.sampled_from(self.old)))
        assert not valid

    @rule(text=st.text(max_size=100))
    def redeem_random(self, text: str) -> None:
        valid, reason = self._verify(text)
        assert not valid and reason in ("invalid", "malformed", "locked", "unknown_user", "no_codes", "used")

    @rule()
    def fail_until_locked(self) -> None:
        for _ in range(MAX_FAILURES + 1):
            self._verify("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
        assert self.svc.lock_state(REALM, USER).locked or not self.current

    @rule(seconds=st.integers(min_value=1, max_value=200))
    def let_time_pass(self, seconds: int) -> None:
        self.clock.now += timedelta(seconds=seconds)

    @invariant()
    def remaining_is_issued_minus_used(self) -> None:
        status = self.svc.status(REALM, USER)
        assert status.total == len(self.current)
        assert status.remaining == len(self.current) - len(self.used)

    @invariant()
    def failure_counter_never_exceeds_the_limit(self) -> None:
        with self.engine.connect() as conn:
            failed = conn.execute(select(users.c.failed_attempts)).scalar()
        assert failed is None or 0 <= failed <= MAX_FAILURES


BackupCodesMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "30")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBackupCodesStateMachine = BackupCodesMachine.TestCase
