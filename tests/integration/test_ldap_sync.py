"""LDAP sync end to end: a real slapd with ppolicy (started by the tests), the real service on SQLite.

The resolver maps entryUUID → a deterministic user id; the Keycloak-backed resolver is exercised
end to end with a real Keycloak by the Keycloak part of the suite.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from bridge.ldap.cli import add_cli
from bridge.ldap.connection import DirectoryUnavailable
from bridge.ldap.lease import LeaseLost
from bridge.ldap.poll import poll_window_start
from bridge.ldap.resolvers import StaticResolver
from bridge.ldap.sync import LdapSync
from bridge.ldap.values import parse_generalized_time
from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.store import db
from bridge.store.schema import audit_events, codes, contacts, directory_entries, job_state, notifications
from tests.fixtures.argon2 import FAST_ARGON2
from tests.fixtures.postgres import refuse_connections
from tests.fixtures.slapd import PERMANENT, Slapd

pytestmark = pytest.mark.ldap

REALM = "acme"
CHEAP = FAST_ARGON2


def user_id_for(ldap_id: str) -> str:
    return f"kc-{ldap_id}"


@dataclass
class Bridge:
    settings: Settings
    engine: Engine
    svc: BackupCodes
    sync: LdapSync

    def run(self, **kwargs: Any) -> Any:
        return self.sync.run_once(**kwargs)

    def lock(self, ldap_id: str) -> Any:
        return self.svc.lock_state(REALM, user_id_for(ldap_id))

    def verify(self, ldap_id: str, code: str) -> Any:
        return self.svc.verify(REALM, user_id_for(ldap_id), code, client_ip="192.0.2.10")

    def issue(self, ldap_id: str) -> list[str]:
        return self.svc.issue(REALM, user_id_for(ldap_id), actor="test").codes

    def scalar(self, stmt: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def rows(self, stmt: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).all())

    def audit(self, ldap_id: str, event: str) -> list[Any]:
        return self.rows(
            select(audit_events).where(
                audit_events.c.user_id == user_id_for(ldap_id), audit_events.c.event == event
            )
        )

    def mails(self, ldap_id: str, kind: str | None = None) -> list[Any]:
        stmt = select(notifications).where(notifications.c.user_id == user_id_for(ldap_id))
        if kind:
            stmt = stmt.where(notifications.c.kind == kind)
        return self.rows(stmt.order_by(notifications.c.id))


def make_settings(tmp_path: Path, slapd: Slapd, **overrides: Any) -> Settings:
    tmp_path.mkdir(parents=True, exist_ok=True)
    base = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
        ldap_url=slapd.url,
        ldap_bind_dn=slapd.sync_dn,
        ldap_bind_password=slapd.sync_pw,
        ldap_base_dn=slapd.base_dn,
        ldap_default_policy_dn=slapd.default_policy,
        ldap_realm=REALM,
        ldap_page_size=5,
        ldap_poll_overlap_seconds=2,
        ldap_timeout_seconds=3,
        **CHEAP,
    )
    return replace(base, **overrides)


def make_bridge(
    tmp_path: Path,
    slapd: Slapd,
    *,
    sleep: Any = None,
    owner: str | None = None,
    clock: Any = None,
    **overrides: Any,
) -> Bridge:
    settings = make_settings(tmp_path, slapd, **overrides)
    engine = db.make_engine(settings)
    db.create_all(engine)
    svc = BackupCodes(engine, settings)
    sync = LdapSync(
        engine,
        settings,
        svc,
        StaticResolver(user_id_for),
        retry_delays=(0.05, 0.1, 0.2, 0.5, 1.0),
        sleep=sleep or time.sleep,
        owner=owner,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return Bridge(settings, engine, svc, sync)


@pytest.fixture
def bridge(tmp_path: Path, slapd: Slapd) -> Bridge:
    bridge = make_bridge(tmp_path, slapd)
    bridge.run()  # first pass: full reconcile, watermark set
    return bridge


def wait_until_expired(locked_time: str, seconds: int) -> None:
    """Wait (not assert on time) until a lock of ``seconds`` that started at ``locked_time`` has run out."""
    end = parse_generalized_time(locked_time) + timedelta(seconds=seconds + 1)
    while datetime.now(UTC) < end:
        time.sleep(0.1)


# --- directory → bridge: locks ---------------------------------------------------------------


def test_three_bad_binds_lock_the_user_after_one_sync_and_a_code_is_refused(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    codes_issued = bridge.issue(user.entry_uuid)
    slapd.bad_binds(user.dn, 3)

    result = bridge.run()

    state = bridge.lock(user.entry_uuid)
    assert (result.mode, state.locked, state.source, state.kind) == ("poll", True, "directory", "temporary")
    assert bridge.verify(user.entry_uuid, codes_issued[0]).reason == "locked"


def test_admin_unlock_in_the_directory_unlocks_the_user_at_the_next_sync(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    codes_issued = bridge.issue(user.entry_uuid)
    slapd.bad_binds(user.dn, 3)
    bridge.run()

    slapd.admin_unlock(user.dn)
    bridge.run()

    assert not bridge.lock(user.entry_uuid).locked
    assert bridge.verify(user.entry_uuid, codes_issued[0]).valid


def test_expired_temporary_lock_still_on_the_entry_is_treated_as_unlocked(bridge, slapd, ldap_user) -> None:
    user = ldap_user(policy=slapd.short_policy)  # pwdLockoutDuration: 2
    bridge.run()
    slapd.bad_binds(user.dn, 3)
    locked_time = slapd.locked_time(user.dn)
    assert locked_time
    wait_until_expired(locked_time, 2)

    bridge.run(full=True)

    assert slapd.locked_time(user.dn) == locked_time  # the directory still carries it
    assert not bridge.lock(user.entry_uuid).locked


def test_lock_under_a_policy_without_duration_is_permanent(bridge, slapd, ldap_user) -> None:
    user = ldap_user(policy=slapd.until_reset_policy)
    bridge.run()
    slapd.bad_binds(user.dn, 3)

    bridge.run()

    assert bridge.lock(user.entry_uuid).kind == "permanent"


def test_permanent_directory_lock_is_never_cleared_by_the_bridge(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    slapd.replace(user.dn, pwdAccountLockedTime=PERMANENT)
    bridge.run()
    assert bridge.lock(user.entry_uuid).kind == "permanent"

    # Even an admin lifting the directory lock in the bridge does not touch the directory.
    bridge.svc.clear_lock(
        REALM,
        user_id_for(user.entry_uuid),
        source="directory",
        actor="admin",
        reason="test",
        allow_permanent=True,
    )
    bridge.run()
    bridge.run(full=True)

    assert slapd.locked_time(user.dn) == PERMANENT
    assert not slapd.bind(user.dn, user.password)


def test_failed_bind_noise_changes_nothing_in_the_bridge(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    slapd.bad_binds(user.dn, 1)  # bumps modifyTimestamp and pwdFailureTime only

    result = bridge.run()

    assert result.scanned >= 1
    assert result.applied == 0
    assert not bridge.lock(user.entry_uuid).locked


# --- bridge → directory ----------------------------------------------------------------------


def test_code_based_recovery_clears_the_temporary_lock_in_the_directory(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    slapd.bad_binds(user.dn, 3)
    bridge.run()
    assert not slapd.bind(user.dn, user.password)

    bridge.svc.clear_lock(
        REALM,
        user_id_for(user.entry_uuid),
        source="directory",
        actor="alice",
        reason="account recovered with a backup code",
    )
    result = bridge.run()

    assert result.written_back == 1
    assert slapd.locked_time(user.dn) is None
    assert slapd.bind(user.dn, user.password)
    assert any(row.details.get("target") == "directory" for row in bridge.audit(user.entry_uuid, "unlocked"))
    assert not bridge.lock(user.entry_uuid).locked


def test_a_new_directory_lock_after_the_recovery_is_applied_not_cleared(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    slapd.bad_binds(user.dn, 3)
    bridge.run()
    bridge.svc.clear_lock(
        REALM, user_id_for(user.entry_uuid), source="directory", actor="alice", reason="recovered"
    )
    slapd.replace(user.dn, pwdAccountLockedTime=PERMANENT)  # an admin acted meanwhile

    bridge.run()

    assert slapd.locked_time(user.dn) == PERMANENT
    assert bridge.lock(user.entry_uuid).kind == "permanent"


def test_bridge_lockout_locks_the_directory_account_only_when_enabled(tmp_path, slapd, ldap_user) -> None:
    off, on = ldap_user(), ldap_user()
    for name, user, enabled in (("off", off, False), ("on", on, True)):
        bridge = make_bridge(tmp_path / name, slapd, ldap_write_locks=enabled, max_failures=2)
        bridge.run()
        bridge.issue(user.entry_uuid)
        for _ in range(2):
            bridge.verify(user.entry_uuid, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
        assert bridge.lock(user.entry_uuid).source == "codes"
        bridge.run()

    assert slapd.locked_time(off.dn) is None
    assert slapd.locked_time(on.dn) is not None
    assert not slapd.bind(on.dn, on.password)


# --- contacts and deletion -------------------------------------------------------------------


def test_mail_change_tells_the_old_address_and_the_next_mail_goes_to_the_new_one(
    bridge, slapd, ldap_user
) -> None:
    user = ldap_user(mail="old.address@example.org")
    bridge.run()
    slapd.replace(user.dn, mail="new.address@example.org")

    bridge.run()
    bridge.issue(user.entry_uuid)

    changed = {row.to_address for row in bridge.mails(user.entry_uuid, "email_changed")}
    assert changed == {"old.address@example.org", "new.address@example.org"}
    assert bridge.mails(user.entry_uuid)[-1].to_address == "new.address@example.org"


def test_mobile_change_reaches_the_contact_record(bridge, slapd, ldap_user) -> None:
    user = ldap_user(mobile="+15550111")
    bridge.run()
    slapd.replace(user.dn, mobile="+15550222")

    bridge.run()

    assert bridge.svc.get_contact(REALM, user_id_for(user.entry_uuid)).phone == "+15550222"


def test_deleted_entry_revokes_codes_and_removes_contacts_but_keeps_the_audit(
    bridge, slapd, ldap_user
) -> None:
    user = ldap_user()
    bridge.run()
    bridge.issue(user.entry_uuid)
    slapd.delete(user.dn)

    result = bridge.run(full=True)

    uid = user_id_for(user.entry_uuid)
    assert result.deleted >= 1
    assert bridge.scalar(select(func.count()).select_from(codes).where(codes.c.user_id == uid)) == 0
    assert bridge.scalar(select(func.count()).select_from(contacts).where(contacts.c.user_id == uid)) == 0
    assert bridge.audit(user.entry_uuid, "user_deleted")
    assert bridge.audit(user.entry_uuid, "issued")


def test_malformed_entry_is_skipped_and_the_others_still_sync(bridge, slapd, ldap_user) -> None:
    bad = ldap_user(mail="not an address")
    good = ldap_user(mail="fine@example.org")

    bridge.run()
    slapd.bad_binds(bad.dn, 3)
    bridge.run()

    assert bridge.svc.get_contact(REALM, user_id_for(good.entry_uuid)).email == "fine@example.org"
    assert bridge.lock(bad.entry_uuid).locked  # its lock still counts


def test_running_twice_applies_nothing_new(bridge, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge.run()
    slapd.replace(user.dn, mail="twice@example.org")
    slapd.bad_binds(user.dn, 3)
    first = bridge.run()

    again = bridge.run()
    full = bridge.run(full=True)

    assert first.applied >= 1
    assert again.applied == 0
    assert full.applied == 0
    assert len(bridge.audit(user.entry_uuid, "locked")) == 1


# --- resilience ------------------------------------------------------------------------------


def test_directory_restarted_mid_sync_applies_every_change_exactly_once(tmp_path, slapd, ldap_user) -> None:
    restarts: list[float] = []

    def restart(delay: float) -> None:
        restarts.append(delay)
        slapd.start()

    bridge = make_bridge(tmp_path, slapd, sleep=restart)
    users = [ldap_user() for _ in range(12)]
    bridge.run()
    for user in users:
        slapd.replace(user.dn, mail=f"moved-{user.uid}@example.org")

    real_set_contact = bridge.svc.set_contact
    calls = {"n": 0}

    def set_contact_then_stop_directory(*args: Any, **kwargs: Any) -> None:
        real_set_contact(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            slapd.stop()  # the directory goes away in the middle of the first page

    bridge.svc.set_contact = set_contact_then_stop_directory  # type: ignore[method-assign]
    try:
        bridge.run()
    finally:
        slapd.start()

    assert restarts  # it did fail and retry
    for user in users:
        assert (
            bridge.svc.get_contact(REALM, user_id_for(user.entry_uuid)).email
            == f"moved-{user.uid}@example.org"
        )
        assert len(bridge.audit(user.entry_uuid, "contact_changed")) == 2  # initial + the move, once
        assert len(bridge.mails(user.entry_uuid, "email_changed")) == 2  # old and new address, once each


def test_directory_down_is_recorded_and_the_next_pass_resumes_from_the_watermark(
    bridge, slapd, ldap_user
) -> None:
    user = ldap_user()
    bridge.run()
    watermark = bridge.sync.status()["watermark"]
    slapd.stop()
    try:
        with pytest.raises(DirectoryUnavailable):
            bridge.run(attempts=2)
        assert bridge.sync.status()["last_error"]
        assert bridge.sync.status()["watermark"] == watermark
    finally:
        slapd.start()
    slapd.bad_binds(user.dn, 3)

    bridge.run()

    assert bridge.lock(user.entry_uuid).locked
    assert bridge.sync.status()["last_error"] is None


def test_a_database_failure_while_applying_an_entry_abandons_the_pass_instead_of_skipping_it(
    bridge, slapd, ldap_user, monkeypatch
) -> None:
    from sqlalchemy.exc import OperationalError

    user = ldap_user()
    bridge.run()
    watermark = bridge.sync.status()["watermark"]
    slapd.bad_binds(user.dn, 3)

    def database_gone(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with monkeypatch.context() as patched:
        patched.setattr(bridge.svc, "set_lock", database_gone)
        with pytest.raises(OperationalError):
            bridge.run()
    assert bridge.sync.status()["watermark"] == watermark, "the lock was not applied: read it again"

    bridge.run()

    assert bridge.lock(user.entry_uuid).locked


def test_watermark_survives_a_new_sync_instance(tmp_path, slapd, ldap_user) -> None:
    first = make_bridge(tmp_path, slapd)
    first.run()
    user = ldap_user()
    second = make_bridge(tmp_path, slapd)  # same database: a restarted process

    result = second.run()

    assert result.mode == "poll"
    assert bridge_has_entry(second, user.entry_uuid)


def test_an_idle_poll_reads_no_entry_again(tmp_path, slapd, ldap_user) -> None:
    ldap_user()
    offset = [timedelta(0)]
    bridge = make_bridge(tmp_path, slapd, clock=lambda: datetime.now(UTC) + offset[0])
    bridge.run()  # full reconcile: the new entry is inside the overlap window below the watermark
    offset[0] = timedelta(minutes=1)  # a minute later, nothing changed in the directory
    bridge.run()

    result = bridge.run()

    assert result.mode == "poll"
    assert result.scanned == 0


def test_the_poll_window_starts_an_overlap_below_the_watermark_while_changes_are_recent() -> None:
    hwm = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    overlap = timedelta(seconds=5)

    assert poll_window_start(hwm, hwm + timedelta(seconds=1), overlap) == hwm - overlap
    assert poll_window_start(hwm, None, overlap) == hwm - overlap


def test_the_poll_window_moves_on_with_time_when_nothing_changes() -> None:
    hwm = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    polled_at = hwm + timedelta(minutes=1)

    start = poll_window_start(hwm, polled_at, timedelta(seconds=5))

    assert start == polled_at - timedelta(seconds=10)  # commit lag plus clock skew, each ≤ the overlap


def bridge_has_entry(bridge: Bridge, ldap_id: str) -> bool:
    return bool(bridge.rows(select(directory_entries).where(directory_entries.c.ldap_id == ldap_id)))


def test_only_one_instance_holds_the_lease(tmp_path, slapd) -> None:
    a = make_bridge(tmp_path, slapd, owner="a")
    b = make_bridge(tmp_path, slapd, owner="b")

    assert a.sync.acquire_lease()
    assert not b.sync.acquire_lease()
    assert a.sync.acquire_lease()  # renewal
    a.sync.release_lease()
    assert b.sync.acquire_lease()


def test_status_reports_last_success_lag_and_counts(bridge, ldap_user) -> None:
    ldap_user()
    bridge.run(full=True)

    status = bridge.sync.status()

    assert status["last_success"] and status["lag_seconds"] is not None
    assert status["last_counts"]["scanned"] >= 1
    assert status["entries_mapped"] >= 1
    assert status["last_error"] is None


# --- CLI -------------------------------------------------------------------------------------


def test_cli_once_then_status(tmp_path, slapd, ldap_user, capsys) -> None:
    user = ldap_user()
    settings = make_settings(
        tmp_path, slapd, ldap_resolver="federation-id", ldap_federation_component_id="c1"
    )
    db.create_all(db.make_engine(settings))
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))

    once = parser.parse_args(["ldap-sync", "once", "--full"])
    assert once.handler(once, settings) == 0
    status = parser.parse_args(["ldap-sync", "status"])
    assert status.handler(status, settings) == 0

    out = capsys.readouterr().out
    first, rest = out.split("\n", 1)
    assert json.loads(first)["mode"] == "full"
    assert json.loads(rest)["entries_mapped"] >= 1
    engine = db.make_engine(settings)
    with engine.connect() as conn:
        mapped = conn.execute(
            select(directory_entries.c.user_id).where(directory_entries.c.ldap_id == user.entry_uuid)
        ).scalar()
    assert mapped == f"f:c1:{user.entry_uuid}"


def test_a_pass_stops_when_another_instance_took_the_lease(tmp_path, slapd, ldap_user) -> None:
    ldap_user()
    a = make_bridge(tmp_path, slapd, owner="a")
    assert a.sync.acquire_lease()
    with a.engine.begin() as conn:  # b took over (a's lease had run out while it was stalled)
        conn.execute(
            update(job_state)
            .where(job_state.c.name == a.sync.lease_name)
            .values(owner="b", lease_until=datetime.now(UTC) + timedelta(minutes=5))
        )

    with pytest.raises(LeaseLost):
        a.run(full=True)
    assert a.sync.status()["watermark"] is None


def test_run_loop_picks_up_a_lock_and_releases_the_lease_on_stop(tmp_path, slapd, ldap_user) -> None:
    user = ldap_user()
    bridge = make_bridge(tmp_path, slapd, owner="loop", ldap_poll_seconds=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.sync.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        slapd.bad_binds(user.dn, 3)
        while not bridge.lock(user.entry_uuid).locked:  # bounded by the test timeout, not asserted on time
            assert thread.is_alive()
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not thread.is_alive()
    assert bridge.sync.status()["leader"] is None


@pytest.mark.postgres
def test_run_loop_outlives_a_database_outage_and_syncs_once_it_is_back(
    tmp_path, slapd, ldap_user, pg_empty_url, caplog
) -> None:
    user = ldap_user()
    bridge = make_bridge(tmp_path, slapd, owner="loop", ldap_poll_seconds=0.2, database_url=pg_empty_url)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.sync.run_forever, args=(stop,), daemon=True)
    try:
        with caplog.at_level(logging.ERROR, logger="bridge.ldap.sync"):
            refuse_connections(pg_empty_url, refuse=True)
            thread.start()
            while "database unavailable" not in caplog.text:  # bounded by the test timeout
                assert thread.is_alive()
                time.sleep(0.05)
            time.sleep(0.5)  # a few more failed passes
            assert thread.is_alive()
            refuse_connections(pg_empty_url, refuse=False)
        slapd.bad_binds(user.dn, 3)
        while not bridge.lock(user.entry_uuid).locked:
            assert thread.is_alive()
            time.sleep(0.05)
    finally:
        refuse_connections(pg_empty_url, refuse=False)
        stop.set()
        thread.join(timeout=30)
        bridge.engine.dispose()
    assert not thread.is_alive()
    assert "Traceback" not in caplog.text


def test_a_stop_mid_page_keeps_the_applied_entries_and_leaves_the_rest_for_the_next_run(
    tmp_path, slapd, ldap_user
) -> None:
    users = [ldap_user() for _ in range(8)]
    bridge = make_bridge(tmp_path, slapd, owner="loop", ldap_poll_seconds=30)
    bridge.run()
    watermark = bridge.sync.status()["watermark"]
    for user in users:
        slapd.replace(user.dn, mail=f"moved-{user.uid}@example.org")
    stop = threading.Event()
    real_set_contact = bridge.svc.set_contact
    calls = {"n": 0}

    def set_contact_then_ask_to_stop(*args: Any, **kwargs: Any) -> None:
        real_set_contact(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            stop.set()  # SIGTERM arrives while the page is being applied

    bridge.svc.set_contact = set_contact_then_ask_to_stop  # type: ignore[method-assign]
    thread = threading.Thread(target=bridge.sync.run_forever, args=(stop,), daemon=True)
    thread.start()
    thread.join(timeout=30)

    assert not thread.is_alive()
    moved = [
        u
        for u in users
        if bridge.svc.get_contact(REALM, user_id_for(u.entry_uuid)).email.startswith("moved-")
    ]
    assert 1 <= len(moved) < len(users)  # the pass ended mid-page
    for user in users:  # an applied entry is recorded whole, an unapplied one not started
        row = bridge.rows(select(directory_entries).where(directory_entries.c.ldap_id == user.entry_uuid))[0]
        assert row.state["email"].startswith("moved-") == (user in moved)
    assert bridge.sync.status()["watermark"] == watermark
    assert bridge.sync.status()["leader"] is None

    bridge.svc.set_contact = real_set_contact  # type: ignore[method-assign]
    bridge.run()

    for user in users:  # the next run finishes the page; nothing is applied twice
        assert len(bridge.audit(user.entry_uuid, "contact_changed")) == 2


def test_metrics_count_scanned_entries_changes_and_lag(bridge, slapd, ldap_user) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    scanned = sample("backup_codes_ldap_sync_entries_scanned_total", mode="poll")
    locked = sample("backup_codes_ldap_sync_changes_applied_total", change="locked")
    user = ldap_user()
    bridge.run()
    slapd.bad_binds(user.dn, 3)

    bridge.run()

    assert sample("backup_codes_ldap_sync_entries_scanned_total", mode="poll") > scanned
    assert sample("backup_codes_ldap_sync_changes_applied_total", change="locked") == locked + 1
    assert REGISTRY.get_sample_value("backup_codes_ldap_sync_lag_seconds") is not None
