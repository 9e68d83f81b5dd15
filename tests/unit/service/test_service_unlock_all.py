"""Keycloak's "unlock all users": every temporary codes lock of the realm goes, nothing else does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.service.test_core_service import REALM, WRONG, Harness, make_harness

ADMIN = "keycloak-admin:master/helpdesk"
REASON = "all users unlocked in the Keycloak admin console (brute-force detection)"


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


def lock_out(h: Harness, user: str) -> str:
    """Issue a set for ``user``, lock them out by wrong codes; one of their codes, unused."""
    code = h.issue(user)[0]
    for _ in range(5):
        h.verify(WRONG, user=user)
    assert h.svc.lock_state(REALM, user).source == "codes"
    return code


def unlock_all(h: Harness, realm: str = REALM) -> list[str]:
    return h.svc.clear_temporary_codes_locks(realm, actor=ADMIN, reason=REASON)


def test_every_temporary_codes_lock_of_the_realm_is_lifted(h: Harness) -> None:
    codes = {user: lock_out(h, user) for user in ("alice", "bob", "carol")}
    assert unlock_all(h) == ["alice", "bob", "carol"]
    assert all(h.verify(code, user=user).valid for user, code in codes.items())


def test_a_permanent_codes_lock_stays(h: Harness) -> None:
    h.svc.set_lock(REALM, "dave", source="codes", kind="permanent", reason="admin", actor="ops")
    lock_out(h, "alice")
    assert unlock_all(h) == ["alice"]
    assert h.svc.lock_state(REALM, "dave").kind == "permanent"


def test_a_directory_lock_stays(h: Harness) -> None:
    until = h.clock.now + timedelta(hours=1)
    h.svc.set_lock(
        REALM, "erin", source="directory", kind="temporary", reason="ldap", actor="sync", expires_at=until
    )
    lock_out(h, "alice")
    assert unlock_all(h) == ["alice"]
    assert h.svc.lock_state(REALM, "erin").source == "directory"


def test_another_realms_locks_stay(h: Harness) -> None:
    lock_out(h, "alice")
    assert unlock_all(h, "other") == []
    assert h.svc.lock_state(REALM, "alice").locked


def test_each_lifted_user_gets_one_audit_row_naming_the_admin(h: Harness) -> None:
    for user in ("alice", "bob"):
        lock_out(h, user)
    unlock_all(h)
    rows = h.events("unlocked")
    assert sorted((row["user_id"], row["actor"]) for row in rows) == [("alice", ADMIN), ("bob", ADMIN)]
    assert {row["details"]["reason"] for row in rows} == {REASON}


def test_an_expired_lock_is_removed_but_not_counted_nor_audited(h: Harness) -> None:
    code = lock_out(h, "alice")
    h.clock.advance(24 * 3600)
    assert unlock_all(h) == []
    assert h.events("unlocked") == []
    assert h.verify(code, user="alice").valid


def test_nothing_locked_lifts_nothing(h: Harness) -> None:
    h.issue("alice")
    assert unlock_all(h) == []
    assert h.events("unlocked") == []
