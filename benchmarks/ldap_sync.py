"""LDAP sync figures against a real slapd with ppolicy: full reconcile of 10 000 entries, lock-change delay.

Run: ``.venv/bin/python benchmarks/ldap_sync.py [--entries 10000] [--poll 2]`` from the repository root.
Targets (issue "LDAP sync", issue 16): a full reconcile ≤ 10 s; an incremental poll with nothing changed
≤ 0.1 s; a directory lock seen by the bridge within the poll interval + 1 s. Prints figures and ratios to
the targets; asserts nothing (CI machines are noisy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on the path, not the repository with tests/ in it.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.ldap.resolvers import StaticResolver  # noqa: E402
from bridge.ldap.sync import LdapSync  # noqa: E402
from bridge.service import BackupCodes  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from bridge.store import db  # noqa: E402
from tests.fixtures.slapd import launch  # noqa: E402

REALM = "bench"
RECONCILE_TARGET_S = 10.0
IDLE_POLL_TARGET_S = 0.1  # issue 16: an incremental pass costs what the changes cost


def load_entries(server, count: int, work: Path) -> float:
    """Bulk-load with ldapadd (the C client) when installed: ldap3 adds one entry at a time in Python."""
    started = time.perf_counter()
    if shutil.which("ldapadd"):
        ldif = work / "users.ldif"
        with ldif.open("w") as out:
            for n in range(count):
                uid = f"bench{n:05d}"
                out.write(
                    f"dn: uid={uid},{server.base_dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                    f"sn: {uid}\nmail: {uid}@example.org\nmobile: +15550100\nuserPassword: user-password\n\n"
                )
        subprocess.run(
            ["ldapadd", "-x", "-H", server.url, "-D", server.root_dn, "-w", server.root_pw, "-f", str(ldif)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started
    conn = server.admin()
    try:
        for n in range(count):
            server.add_user(f"bench{n:05d}", mail=f"bench{n:05d}@example.org", conn=conn)
    finally:
        conn.unbind()
    return time.perf_counter() - started


def lock_delays(sync: LdapSync, svc: BackupCodes, server, samples: int) -> list[float]:
    stop = threading.Event()
    thread = threading.Thread(target=sync.run_forever, args=(stop,), daemon=True)
    thread.start()
    delays = []
    try:
        for n in range(samples):
            dn = f"uid=bench{n:05d},{server.base_dn}"
            ldap_id = server.read(dn, "entryUUID")["entryUUID"][0].decode()
            time.sleep(0.37 * n % 1.0)  # spread the lock moments over the poll cycle
            server.bad_binds(dn, 3)
            locked_at = time.perf_counter()
            while not svc.lock_state(REALM, f"u-{ldap_id}").locked:
                time.sleep(0.02)
            delays.append(time.perf_counter() - locked_at)
    finally:
        stop.set()
        thread.join(timeout=30)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--poll", type=float, default=2.0, help="poll interval in seconds")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ldap-"))
    server = launch(work / "slapd")
    try:
        load_s = load_entries(server, args.entries, work)
        print(
            f"loaded {args.entries} entries into slapd in {load_s:.1f} s "
            f"(load average {os.getloadavg()[0]:.1f})"
        )

        settings = Settings(
            data_dir=work,
            database_url=f"sqlite:///{work / 'bridge.db'}",
            argon2_time_cost=1,
            argon2_memory_cost=64,
            ldap_url=server.url,
            ldap_bind_dn=server.sync_dn,
            ldap_bind_password=server.sync_pw,
            ldap_base_dn=server.base_dn,
            ldap_default_policy_dn=server.default_policy,
            ldap_realm=REALM,
            ldap_page_size=500,
            ldap_poll_seconds=args.poll,
            ldap_full_reconcile_seconds=1e9,
        )
        engine = db.make_engine(settings)
        db.create_all(engine)
        svc = BackupCodes(engine, settings)
        sync = LdapSync(engine, settings, svc, StaticResolver(lambda ldap_id: f"u-{ldap_id}"))

        started = time.perf_counter()
        first = sync.run_once(full=True)
        initial_s = time.perf_counter() - started
        print(
            f"first full reconcile (every entry new: map + contact + audit): {initial_s:.2f} s "
            f"for {first.scanned} entries, {first.applied} applied"
        )

        started = time.perf_counter()
        steady = sync.run_once(full=True)
        steady_s = time.perf_counter() - started
        print(
            f"full reconcile, nothing changed: {steady_s:.2f} s for {steady.scanned} entries "
            f"({steady.applied} applied); target ≤ {RECONCILE_TARGET_S:.0f} s, "
            f"ratio {steady_s / RECONCILE_TARGET_S:.2f}"
        )

        polls = []
        sync.run_once(full=False)  # the first poll after the reconcile re-reads its overlap window
        for _ in range(5):
            started = time.perf_counter()
            sync.run_once(full=False)
            polls.append(time.perf_counter() - started)
        print(
            f"incremental poll pass, nothing changed: median {statistics.median(polls):.3f} s "
            f"for {args.entries} entries; target ≤ {IDLE_POLL_TARGET_S} s, "
            f"ratio {statistics.median(polls) / IDLE_POLL_TARGET_S:.2f}"
        )
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        delays = lock_delays(sync, svc, server, args.samples)
        bound = args.poll + 1.0
        print(
            f"lock change → bridge locked, poll every {args.poll:.1f} s, {len(delays)} samples: "
            f"min {min(delays):.2f} s, median {statistics.median(delays):.2f} s, max {max(delays):.2f} s; "
            f"target ≤ {bound:.1f} s, worst ratio {max(delays) / bound:.2f}"
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
