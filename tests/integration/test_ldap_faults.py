"""The sync under a directory crash: slapd killed with SIGKILL, changed while down, restarted on its port.

A slapd of its own (the session one is shared). The sync keeps running in the same process throughout;
every change made while the directory was down, or right after it came back, must reach the bridge by the
next poll after the restart. The delay is printed (no timing assertion: the bound is poll + 1 s).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.slapd import PERMANENT, SLAPD, Slapd, launch
from tests.integration.test_ldap_sync import REALM, make_bridge, user_id_for

pytestmark = pytest.mark.ldap

POLL_SECONDS = 2.0
GENEROUS = 60.0  # how long the test waits for the outcome; not the figure under test


@pytest.fixture
def own_slapd(tmp_path: Path) -> Iterator[Slapd]:
    if not Path(SLAPD).exists():
        pytest.skip("slapd not installed")
    server = launch(tmp_path / "slapd")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp_path / "slapd", ignore_errors=True)


def wait_until(condition: Callable[[], bool], what: str, alive: threading.Thread) -> float:
    """Seconds until ``condition`` holds (polled every 20 ms); fails after GENEROUS seconds."""
    started = time.monotonic()
    while not condition():
        assert alive.is_alive(), "the sync loop died"
        assert time.monotonic() - started < GENEROUS, f"never happened: {what}"
        time.sleep(0.02)
    return time.monotonic() - started


def test_changes_made_while_slapd_was_killed_reach_the_bridge_after_its_restart(tmp_path, own_slapd) -> None:
    locked, moved, late = (own_slapd.add_user() for _ in range(3))
    bridge = make_bridge(
        tmp_path / "bridge", own_slapd, owner="loop", ldap_poll_seconds=POLL_SECONDS, ldap_timeout_seconds=3
    )
    stop = threading.Event()
    loop = threading.Thread(target=bridge.sync.run_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        wait_until(lambda: bridge.sync.status()["last_success"] is not None, "first pass", loop)

        tries_before = bridge.sync.directory.connect_attempts
        own_slapd.kill()
        own_slapd.offline_replace(
            {
                locked.dn: {"pwdAccountLockedTime": PERMANENT},
                moved.dn: {"mail": f"moved-{moved.uid}@example.org"},
            }
        )
        time.sleep(3)  # down for a while: the sync is failing and backing off
        tries_while_down = bridge.sync.directory.connect_attempts - tries_before
        own_slapd.start()  # same database, same port
        restarted = time.monotonic()
        own_slapd.replace(late.dn, mobile="+15550199")  # right after the restart

        def contact(user: object) -> object:
            return bridge.svc.get_contact(REALM, user_id_for(user.entry_uuid))  # type: ignore[attr-defined]

        wait_until(lambda: bridge.lock(locked.entry_uuid).locked, "the offline admin lock", loop)
        wait_until(lambda: contact(moved).email == f"moved-{moved.uid}@example.org", "offline mail", loop)
        wait_until(lambda: contact(late).phone == "+15550199", "the mobile changed after the restart", loop)
        delay = time.monotonic() - restarted
        print(
            f"every change reached the bridge {delay:.2f} s after slapd answered again "
            f"(poll {POLL_SECONDS:.0f} s, bound {POLL_SECONDS + 1:.0f} s)"
        )
    finally:
        stop.set()
        loop.join(timeout=GENEROUS)

    assert not loop.is_alive()
    assert bridge.lock(locked.entry_uuid).kind == "permanent"
    # It kept trying at its backoff pace (0.05, 0.1, 0.2 … s here), not once per 10 s pool sleep.
    assert tries_while_down >= 2
