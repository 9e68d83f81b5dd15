"""How many SQL statements one verification runs: a count of cursor executions, not a timing.

Every statement costs the bridge CPU next to the one Argon2 evaluation a verification is sized by, so
the count is part of the contract. Before the hash: the rate-limit count with the read of everything
the decision needs (one statement), then the decision's one write (the place in flight, or the audit
row of a refusal). After it: consume, settle the counter, the audit row, the mail. That is one
statement per table and transaction a path must write, the floor (docs/design.md, "Why 6, 4 and 2").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.store import db
from bridge.store.schema import notifications
from tests.fixtures.argon2 import FAST_ARGON2

REALM, USER = "acme", "alice"
CHEAP = FAST_ARGON2
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement.split(None, 1)[0].upper())


@pytest.fixture
def svc(tmp_path: Path) -> BackupCodes:
    settings = Settings(data_dir=tmp_path / "data", **CHEAP, ip_rate_limit=1000)
    engine = db.make_engine(settings)
    db.create_all(engine)
    service = BackupCodes(engine, settings)  # the real outbox: a used code is mailed
    service.set_contact(REALM, USER, email="alice@example.org", actor="test")
    service.verify(REALM, "warm-up", WRONG, client_ip="192.0.2.9")  # the rate-limit window's first hit purges
    return service


@contextmanager
def counting(service: BackupCodes) -> Iterator[Counter]:
    counter = Counter()
    event.listen(service.engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(service.engine, "before_cursor_execute", counter)


def verify(service: BackupCodes, code: str) -> Any:
    return service.verify(REALM, USER, code, client_ip="192.0.2.1", user_agent="pytest")


def test_a_successful_verification_runs_at_most_six_statements(svc: BackupCodes) -> None:
    code = svc.issue(REALM, USER, actor=USER).codes[0]
    with counting(svc) as counter:
        assert verify(svc, code).valid
    assert len(counter.statements) <= 6, counter.statements


def test_the_mail_of_a_used_code_still_reaches_the_address_read_before_the_hash(svc: BackupCodes) -> None:
    code = svc.issue(REALM, USER, actor=USER).codes[0]
    verify(svc, code)
    with svc.engine.connect() as conn:
        mails = conn.execute(select(notifications.c.kind, notifications.c.to_address)).all()
    assert ("code_used", "alice@example.org") in [tuple(mail) for mail in mails]


def test_a_wrong_code_runs_at_most_four_statements(svc: BackupCodes) -> None:
    svc.issue(REALM, USER, actor=USER)
    with counting(svc) as counter:
        assert verify(svc, WRONG).reason == "invalid"
    assert len(counter.statements) <= 4, counter.statements


def test_a_locked_user_is_refused_in_at_most_two_statements(svc: BackupCodes) -> None:
    svc.issue(REALM, USER, actor=USER)
    svc.set_lock(REALM, USER, source="keycloak", kind="permanent", reason="admin", actor="admin")
    with counting(svc) as counter:
        assert verify(svc, WRONG).reason == "locked"
    assert len(counter.statements) <= 2, counter.statements


def test_a_successful_recovery_that_lifts_a_lock_runs_at_most_eight_statements(svc: BackupCodes) -> None:
    """The success's six, the lifted lock's DELETE and its ``unlocked`` audit row: the new set is
    required by the success's own write of the users row, the mail goes to the contact read before
    the hash, and one DELETE lifts every recoverable lock."""
    code = svc.issue(REALM, USER, actor=USER).codes[0]
    until = datetime.now(UTC) + timedelta(hours=1)
    svc.set_lock(REALM, USER, source="keycloak", kind="temporary", reason="kc", actor="kc", expires_at=until)
    with counting(svc) as counter:
        result = svc.verify(REALM, USER, code, client_ip="192.0.2.1", purpose="recovery")
    assert result.valid and result.enroll_required and result.cleared_locks == ("keycloak",)
    assert len(counter.statements) <= 8, counter.statements
