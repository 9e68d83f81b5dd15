"""The service's guarantees on a real PostgreSQL (the multi-node deployment)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from bridge.service import BackupCodes
from bridge.store import codes as code_rows
from tests.fixtures.argon2 import fast_settings

pytestmark = pytest.mark.postgres

REALM, USER = "acme", "alice"
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
SETTINGS = fast_settings(ip_rate_limit=0)


@pytest.fixture
def svc(pg_engine: Engine) -> BackupCodes:
    return BackupCodes(pg_engine, SETTINGS, enqueue=lambda _conn, **_kw: None)


def test_each_code_works_once_on_postgres(svc: BackupCodes) -> None:
    issued = svc.issue(REALM, USER, actor=USER).codes
    for code in issued[:4]:
        assert svc.verify(REALM, USER, code, client_ip="192.0.2.1").valid
    assert svc.verify(REALM, USER, issued[0], client_ip="192.0.2.1").reason == "used"
    status = svc.status(REALM, USER)
    assert (status.total, status.remaining) == (10, 6)
    assert status.created_at is not None and status.created_at.tzinfo is not None


def test_lock_after_max_failures_refuses_the_right_code_on_postgres(svc: BackupCodes) -> None:
    code = svc.issue(REALM, USER, actor=USER).codes[0]
    results = [svc.verify(REALM, USER, WRONG, client_ip="192.0.2.1") for _ in range(5)]
    assert results[-1].locked_until is not None
    assert svc.verify(REALM, USER, code, client_ip="192.0.2.1").reason == "locked"
    assert svc.status(REALM, USER).remaining == 10


def test_regeneration_is_all_or_nothing_on_postgres(
    svc: BackupCodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = svc.issue(REALM, USER, actor=USER).codes

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("crash between delete and insert")

    monkeypatch.setattr(code_rows, "insert_set", crash)
    with pytest.raises(RuntimeError):
        svc.issue(REALM, USER, actor=USER)
    monkeypatch.undo()
    assert svc.verify(REALM, USER, old[0], client_ip="192.0.2.1").valid
    new = svc.issue(REALM, USER, actor=USER).codes
    assert svc.verify(REALM, USER, old[1], client_ip="192.0.2.1").reason == "invalid"
    assert svc.verify(REALM, USER, new[1], client_ip="192.0.2.1").valid


def test_rate_limit_and_audit_on_postgres(pg_engine: Engine) -> None:
    from bridge.store import audit

    svc = BackupCodes(pg_engine, fast_settings(ip_rate_limit=2))
    svc.issue(REALM, USER, actor=USER)
    reasons = [svc.verify(REALM, USER, WRONG, client_ip="192.0.2.1").reason for _ in range(3)]
    assert reasons == ["invalid", "invalid", "rate_limited"]
    events = [e["event"] for e in audit.query(pg_engine, realm=REALM, user_id=USER)]
    assert events == ["issued", "failed", "failed"]


def test_a_failed_statement_never_carries_its_bound_values_on_postgres(pg_engine: Engine) -> None:
    with pytest.raises(Exception) as raised, pg_engine.connect() as conn:
        conn.execute(text("SELECT no_such_column FROM codes WHERE hash = :h"), {"h": "secret-value-1"})
    assert "no_such_column" in str(raised.value)
    assert "secret-value-1" not in str(raised.value)


def test_api_key_scopes_round_trip_on_postgres(pg_engine: Engine) -> None:
    from bridge.store import api_keys

    with pg_engine.begin() as conn:
        realm_key = api_keys.create_key(conn, name="kc", actor="tests", realms=["red", "blue"]).key
        admin_key = api_keys.create_key(conn, name="admin", actor="tests").key
    scoped, everywhere = (
        api_keys.authenticate(pg_engine, realm_key),
        api_keys.authenticate(pg_engine, admin_key),
    )
    assert scoped is not None and scoped.realms == ("blue", "red")
    assert everywhere is not None and everywhere.realms is None
    with pg_engine.connect() as conn:  # every realm is SQL NULL, as the keys the migration kept
        assert conn.execute(text("SELECT count(*) FROM api_keys WHERE realms IS NULL")).scalar_one() == 1
