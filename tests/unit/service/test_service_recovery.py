"""``verify(purpose="recovery")``: which locks it may pass and lift, what it records and whom it tells."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from bridge import notify
from bridge.ldap.sync import LdapSync, StaticResolver
from bridge.service import VerifyResult
from bridge.settings import Settings
from bridge.store.schema import directory_entries
from tests.unit.service.test_core_service import REALM, USER, WRONG, Harness, make_harness


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


def recover(h: Harness, code: str, **kwargs: Any) -> VerifyResult:
    return h.svc.verify(REALM, USER, code, client_ip="192.0.2.1", purpose="recovery", **kwargs)


def login(h: Harness, code: str) -> VerifyResult:
    return h.svc.verify(REALM, USER, code, client_ip="192.0.2.1")


def lock(h: Harness, source: str, kind: str = "temporary", seconds: int = 600) -> None:
    expires = h.clock.now + timedelta(seconds=seconds) if kind == "temporary" else None
    h.svc.set_lock(REALM, USER, source=source, kind=kind, reason="test", actor="test", expires_at=expires)


def lock_sources(h: Harness) -> set[str]:
    return {row.source for row in h.svc.list_locks(REALM, USER)}


# ---------------------------------------------------------------- which locks refuse a recovery


@pytest.mark.parametrize("source", ["directory", "keycloak"])
def test_recovery_is_not_refused_by_a_temporary_lock_of(h: Harness, source: str) -> None:
    codes = h.issue()
    lock(h, source)
    assert recover(h, codes[0]).valid


@pytest.mark.parametrize("source", ["directory", "keycloak"])
def test_login_is_still_refused_by_a_temporary_lock_of(h: Harness, source: str) -> None:
    codes = h.issue()
    lock(h, source)
    assert login(h, codes[0]).reason == "locked"


def test_recovery_is_refused_while_the_codes_lock_runs(h: Harness) -> None:
    codes = h.issue()
    lock(h, "codes")
    result = recover(h, codes[0])
    assert result.reason == "locked" and result.locked_until is not None


@pytest.mark.parametrize("source", ["directory", "keycloak", "codes"])
def test_recovery_is_refused_by_a_permanent_lock_of(h: Harness, source: str) -> None:
    codes = h.issue()
    lock(h, source, kind="permanent")
    assert recover(h, codes[0]).reason == "locked"


def test_permanent_directory_lock_is_never_cleared_by_recovery(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory", kind="permanent")
    lock(h, "keycloak")
    recover(h, codes[0])
    assert lock_sources(h) == {"directory", "keycloak"}
    assert h.svc.lock_state(REALM, USER).kind == "permanent"


def test_recovery_after_too_many_wrong_codes_is_refused_like_a_login(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    for _ in range(5):
        recover(h, WRONG)
    assert recover(h, codes[0]).reason == "locked"
    assert "directory" in lock_sources(h)


# ---------------------------------------------------------------- what a successful recovery does


def test_recovery_lifts_the_temporary_directory_and_keycloak_locks(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    lock(h, "keycloak")
    result = recover(h, codes[0])
    assert result.cleared_locks == ("directory", "keycloak")
    assert lock_sources(h) == set()
    assert not h.svc.lock_state(REALM, USER).locked


def test_recovery_audits_one_unlocked_event_per_lifted_lock_with_actor_recovery(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    recover(h, codes[0])
    unlocked = [e for e in h.events("unlocked") if e["actor"] == "recovery"]
    assert [(e["details"]["source"], e["details"]["kind"]) for e in unlocked] == [("directory", "temporary")]


def test_keycloak_locked_flag_is_audited_and_answered_as_a_cleared_keycloak_lock(h: Harness) -> None:
    codes = h.issue()
    result = recover(h, codes[0], keycloak_locked=True)
    assert result.cleared_locks == ("keycloak",)
    [event] = h.events("unlocked")
    assert event["actor"] == "recovery" and event["details"]["source"] == "keycloak"


def test_keycloak_locked_flag_and_a_keycloak_lock_row_are_one_cleared_lock(h: Harness) -> None:
    codes = h.issue()
    lock(h, "keycloak")
    result = recover(h, codes[0], keycloak_locked=True)
    assert result.cleared_locks == ("keycloak",)
    assert len(h.events("unlocked")) == 1


def test_keycloak_locked_flag_means_nothing_for_a_login(h: Harness) -> None:
    codes = h.issue()
    result = h.svc.verify(REALM, USER, codes[0], client_ip="192.0.2.1", keycloak_locked=True)
    assert result.valid and result.cleared_locks == ()
    assert h.events("unlocked") == []


def test_recovery_without_any_lock_clears_nothing(h: Harness) -> None:
    codes = h.issue()
    assert recover(h, codes[0]).cleared_locks == ()


def test_expired_temporary_lock_is_not_reported_as_cleared(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory", seconds=60)
    h.clock.advance(120)
    assert recover(h, codes[0]).cleared_locks == ()


def test_recovery_requires_a_new_set_in_the_answer_and_the_status(h: Harness) -> None:
    codes = h.issue()
    assert recover(h, codes[0]).enroll_required is True
    assert h.svc.status(REALM, USER).enroll_required is True


def test_login_does_not_require_a_new_set(h: Harness) -> None:
    codes = h.issue()
    assert login(h, codes[0]).enroll_required is False


def test_recovery_consumes_the_code(h: Harness) -> None:
    codes = h.issue()
    recover(h, codes[0])
    assert login(h, codes[0]).reason == "used"


def test_remaining_codes_keep_working_after_a_recovery(h: Harness) -> None:
    codes = h.issue()
    recover(h, codes[0])
    assert login(h, codes[1]).valid


def test_recovery_audits_used_with_purpose_recovery(h: Harness) -> None:
    codes = h.issue()
    recover(h, codes[0])
    [used] = h.events("used")
    assert used["details"]["purpose"] == "recovery"


def test_recovery_mails_account_recovered_instead_of_code_used(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    recover(h, codes[0])
    kinds = h.outbox.kinds()
    assert "account_recovered" in kinds and "code_used" not in kinds


def test_account_recovered_mail_tells_remaining_codes_and_that_a_lock_was_lifted(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    recover(h, codes[0])
    [mail] = [m for m in h.outbox.sent if m["kind"] == "account_recovered"]
    assert mail["context"]["remaining"] == 9 and mail["context"]["lock_lifted"] is True


def test_account_recovered_mail_without_a_lock_says_no_lock_was_lifted(h: Harness) -> None:
    codes = h.issue()
    recover(h, codes[0])
    [mail] = [m for m in h.outbox.sent if m["kind"] == "account_recovered"]
    assert mail["context"]["lock_lifted"] is False


# ---------------------------------------------------------------- negative twins


def test_wrong_code_in_recovery_leaves_the_locks_in_place(h: Harness) -> None:
    h.issue()
    lock(h, "directory")
    lock(h, "keycloak")
    result = recover(h, WRONG, keycloak_locked=True)
    assert not result.valid and result.cleared_locks == ()
    assert lock_sources(h) == {"directory", "keycloak"}
    assert h.events("unlocked") == []
    assert "account_recovered" not in h.outbox.kinds()


def test_wrong_code_in_recovery_does_not_require_a_new_set(h: Harness) -> None:
    h.issue()
    recover(h, WRONG)
    assert h.svc.status(REALM, USER).enroll_required is False


def test_login_answer_lists_no_cleared_locks(h: Harness) -> None:
    codes = h.issue()
    assert login(h, codes[0]).to_dict()["cleared_locks"] == []


# ---------------------------------------------------------------- the directory write-back


class RecordingDirectory:
    """Stands in for LdapDirectory: records which entries the sync reads; the entry is 'gone'."""

    def __init__(self) -> None:
        self.read_dns: list[str] = []

    def read(self, dn: str, _attributes: Any) -> None:
        self.read_dns.append(dn)
        return None


def directory_sync(h: Harness, directory: RecordingDirectory) -> LdapSync:
    settings = Settings(data_dir=h.svc.settings.data_dir, ldap_realm=REALM, ldap_write_unlocks=True)
    with h.engine.begin() as conn:
        conn.execute(
            insert(directory_entries).values(
                ldap_id="uuid-alice",
                realm=REALM,
                user_id=USER,
                dn="uid=alice,ou=people,dc=example,dc=org",
                fingerprint="f",
                seen_at=h.clock.now,
                state={"lock_kind": "temporary"},
                lock_kind="temporary",
                lock_expires_at=h.clock.now + timedelta(seconds=600),
            )
        )
    return LdapSync(
        h.engine, settings, h.svc, StaticResolver(lambda ldap_id: ldap_id), directory=directory, clock=h.clock
    )  # type: ignore[arg-type]


def test_recovery_makes_push_unlocks_write_the_directory_unlock_back(h: Harness) -> None:
    codes = h.issue()
    lock(h, "directory")
    directory = RecordingDirectory()
    sync = directory_sync(h, directory)
    sync.push_unlocks()
    assert directory.read_dns == []  # the bridge still holds the directory lock: nothing to write back

    recover(h, codes[0])
    sync.push_unlocks()

    assert directory.read_dns == ["uid=alice,ou=people,dc=example,dc=org"]


def test_failed_recovery_gives_push_unlocks_nothing_to_write_back(h: Harness) -> None:
    h.issue()
    lock(h, "directory")
    directory = RecordingDirectory()
    sync = directory_sync(h, directory)
    recover(h, WRONG)
    sync.push_unlocks()
    assert directory.read_dns == []


# ---------------------------------------------------------------- the mail text


@pytest.mark.parametrize(
    ("locale", "line"), [("en", "temporary lock on your account has been lifted"), ("es", "bloqueo temporal")]
)
def test_account_recovered_mail_mentions_the_lifted_lock(locale: str, line: str) -> None:
    settings = Settings()
    with_lock = notify.render("account_recovered", locale, {"remaining": 9, "lock_lifted": True}, settings)
    without = notify.render("account_recovered", locale, {"remaining": 9, "lock_lifted": False}, settings)
    assert line in with_lock.text and line in with_lock.html
    assert line not in without.text
