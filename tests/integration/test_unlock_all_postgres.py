"""Keycloak's "unlock all users" on a real PostgreSQL: the UPDATE … EXISTS and DELETE … RETURNING."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bridge.service import BackupCodes
from tests.fixtures.argon2 import fast_settings

pytestmark = pytest.mark.postgres

REALM = "acme"
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
SETTINGS = fast_settings(ip_rate_limit=0)


@pytest.fixture
def svc(pg_engine: Engine) -> BackupCodes:
    return BackupCodes(pg_engine, SETTINGS, enqueue=lambda _conn, **_kw: None)


def test_unlock_all_lifts_the_temporary_codes_locks_and_keeps_a_permanent_one_on_postgres(
    svc: BackupCodes,
) -> None:
    codes = {user: svc.issue(REALM, user, actor=user).codes[0] for user in ("alice", "bob")}
    for user in codes:
        for _ in range(5):
            svc.verify(REALM, user, WRONG, client_ip="192.0.2.1")
    svc.set_lock(REALM, "carol", source="codes", kind="permanent", reason="admin", actor="ops")

    lifted = svc.clear_temporary_codes_locks(REALM, actor="keycloak-admin:master/hd", reason="all unlocked")

    assert lifted == ["alice", "bob"]
    assert all(svc.verify(REALM, user, code, client_ip="192.0.2.1").valid for user, code in codes.items())
    assert svc.lock_state(REALM, "carol").kind == "permanent"
