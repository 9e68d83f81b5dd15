"""The service writes its mail to the real ``notify`` outbox, in the same transaction as the event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bridge.domain import codes
from bridge.service import BackupCodes
from bridge.store import codes as code_rows
from bridge.store import db
from bridge.store.schema import notifications
from tests.fixtures.argon2 import fast_settings

REALM, USER = "acme", "alice"
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"


@pytest.fixture
def svc(tmp_path: Path) -> BackupCodes:
    settings = fast_settings(data_dir=tmp_path / "data", ip_rate_limit=0, max_failures=3)
    engine = db.make_engine(settings)
    db.create_all(engine)
    backup_codes = BackupCodes(engine, settings)  # default enqueue: bridge.notify
    backup_codes.set_contact(REALM, USER, email="alice@example.org", locale="en", actor="test")
    return backup_codes


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(notifications).order_by(notifications.c.id)).mappings().all()
    return [dict(row) for row in rows]


def test_lifecycle_mails_are_queued_without_any_code(svc: BackupCodes) -> None:
    issued = svc.issue(REALM, USER, actor=USER).codes
    for code in issued[:7]:
        assert svc.verify(REALM, USER, code, client_ip="192.0.2.1", user_agent="Firefox").valid
    for _ in range(3):
        svc.verify(REALM, USER, WRONG, client_ip="192.0.2.1")
    svc.clear_lock(REALM, USER, source="codes", actor="helpdesk", reason="call")
    svc.helpdesk_reset(REALM, USER, actor="helpdesk", reason="lost", identity_check="callback")
    queued = outbox(svc.engine)
    assert [row["kind"] for row in queued] == [
        "codes_issued",
        *["code_used"] * 7,
        "codes_low",
        "locked",
        "unlocked",
        "helpdesk_reset",
    ]
    assert {row["to_address"] for row in queued} == {"alice@example.org"}
    used = queued[1]["context"]
    assert (used["client_ip"], used["user_agent"], used["remaining"]) == ("192.0.2.1", "Firefox", 9)
    dump = json.dumps([row["context"] for row in queued], default=str)
    for code in issued:
        assert code not in dump and codes.parse(code) not in dump


def test_email_change_is_queued_to_old_and_new_address(svc: BackupCodes) -> None:
    svc.set_contact(REALM, USER, email="alice@new.example.org", actor="test")
    queued = [row for row in outbox(svc.engine) if row["kind"] == "email_changed"]
    assert sorted(row["to_address"] for row in queued) == ["alice@example.org", "alice@new.example.org"]


def test_a_rolled_back_regeneration_queues_no_mail(svc: BackupCodes, monkeypatch: pytest.MonkeyPatch) -> None:
    svc.issue(REALM, USER, actor=USER)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("crash between delete and insert")

    monkeypatch.setattr(code_rows, "insert_set", crash)
    with pytest.raises(RuntimeError):
        svc.issue(REALM, USER, actor=USER)
    assert [row["kind"] for row in outbox(svc.engine)] == ["codes_issued"]
