"""Figures for the HA section of docs/operations.md, measured on a real two-node cluster on this machine.

Starts what ``tests/fixtures/cluster.py`` starts (PostgreSQL, two ``backup-codes serve`` with the production
Argon2 cost, two production-mode Keycloak nodes with the provider, clustered over jdbc-ping on loopback),
then measures and prints:

* cluster start time (unpack and ``kc.sh build``, node A ready, node B ready and in the view);
* logins per second (password + backup code, over HTTP as a browser does it) with ``--clients`` concurrent
  people: through node A only, and spread over both nodes;
* backup-code verifications per second on one bridge worker (one core), straight at the bridge API;
* bridge failover: ``kill -9`` of the bridge node A prefers while one person after another signs in on A:
  logins lost, and the duration of the first login after the kill next to the median;
* Keycloak node failover: ``kill -9`` of node B, then logins on node A: how long until one succeeds, and
  how long that login took (Infinispan waits for the failure detector before it gives up on B's copies);
* memory (RSS, PSS) of the whole cluster.

    .venv/bin/python benchmarks/cluster_login.py --logins 60 --clients 4

The machine's 2 cores are shared by everything (load generator included): the figures are for the whole
machine, a floor for what one node gets on its own cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks import login as http_login  # noqa: E402
from tests.fixtures import bridge_server, postgres  # noqa: E402
from tests.fixtures.cluster import Cluster, ClusterNode, running_cluster  # noqa: E402


def one_login(node: ClusterNode, realm: str, user: str, code: str) -> bool:
    try:
        http_login.login_ours(node.base_url, realm, user, code)
    except Exception:  # a failed login is a figure here, not a crash
        return False
    return True


def logins_per_second(
    cluster: Cluster,
    users: list[tuple[str, str, list[str]]],
    nodes: list[ClusterNode],
    count: int,
    clients: int,
) -> tuple[float, int]:
    """``count`` logins by ``clients`` concurrent people, round robin over ``nodes``; (logins/s, failures)."""
    queue = [(name, codes[i]) for i in range(len(users[0][2])) for name, _, codes in users][:count]
    lanes: list[list[tuple[int, str, str]]] = [[] for _ in range(clients)]
    names = [name for name, _, _ in users]
    for i, (name, code) in enumerate(queue):
        lanes[names.index(name) % clients].append((i, name, code))
    results: list[bool] = []

    def lane(items: list[tuple[int, str, str]]) -> None:
        for i, name, code in items:
            results.append(one_login(nodes[i % len(nodes)], cluster.realm, name, code))

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(lane, items) for items in lanes]:
            future.result()
    elapsed = time.perf_counter() - start
    return sum(results) / elapsed, results.count(False)


def verifications_per_second(cluster: Cluster, seconds: float = 20.0, clients: int = 2) -> float:
    """Valid codes verified by bridge 1 (one worker: one core's Argon2) straight over its API."""
    bridge = cluster.bridges[0]
    session = requests.Session()
    pairs: list[tuple[str, str]] = []
    for n in range(40):
        user = f"bench-verify-{n}"
        response = session.post(
            f"{bridge.url}/v1/realms/{cluster.realm}/users/{user}/codes", headers=bridge.headers, timeout=60
        )
        response.raise_for_status()
        pairs += [(user, code) for code in response.json()["codes"]]
    lock, done = threading.Lock(), [0]
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        own = requests.Session()
        for user, code in pairs[offset::clients]:
            if time.perf_counter() > deadline:
                return
            own.post(
                f"{bridge.url}/v1/realms/{cluster.realm}/users/{user}/codes/verify",
                headers=bridge.headers,
                json={"code": code, "client_ip": "192.0.2.1"},
                timeout=60,
            ).raise_for_status()
            with lock:
                done[0] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return done[0] / (time.perf_counter() - start)


def timed(login: Callable[[], bool]) -> tuple[bool, float]:
    start = time.perf_counter()
    ok = login()
    return ok, time.perf_counter() - start


def bridge_failover(cluster: Cluster, users: list[tuple[str, str, list[str]]]) -> str:
    """Sequential logins on node A (which prefers bridge 1); bridge 1 is killed after the tenth."""
    pairs = [(name, codes[i]) for i in range(len(users[0][2])) for name, _, codes in users][:30]
    durations: list[float] = []
    lost = 0
    after_kill: float | None = None
    for i, (name, code) in enumerate(pairs):
        if i == 10:
            cluster.kill_bridge(0)
        ok, seconds = timed(lambda name=name, code=code: one_login(cluster.a, cluster.realm, name, code))
        lost += not ok
        if i == 10:
            after_kill = seconds
        elif ok:
            durations.append(seconds)
    return (
        f"{lost} of {len(pairs)} logins lost; first login after the kill {after_kill:.3f} s "
        f"(median of the others {statistics.median(durations):.3f} s)"
    )


def node_failover(cluster: Cluster, users: list[tuple[str, str, list[str]]]) -> str:
    """kill -9 of node B, then logins on node A until one succeeds."""
    pairs = [(name, codes[i]) for i in range(len(users[0][2])) for name, _, codes in users]
    process = cluster.b.process
    assert process is not None
    killed = time.perf_counter()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    cluster.b.process = None
    for attempts, (name, code) in enumerate(pairs, 1):
        ok, seconds = timed(lambda name=name, code=code: one_login(cluster.a, cluster.realm, name, code))
        if ok:
            return (
                f"first successful login on A {time.perf_counter() - killed:.1f} s after kill -9 of B "
                f"(attempt {attempts}, that login took {seconds:.2f} s)"
            )
    return "no login succeeded on A after B was killed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=60, help="logins per throughput figure")
    parser.add_argument("--clients", type=int, default=4, help="concurrent people signing in")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    started: list[bridge_server.RunningBridge] = []
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [b.stop() for b in started])
        pg_url = stack.enter_context(contextlib.contextmanager(postgres.postgres_url.__wrapped__)())
        start_bridge = bridge_server._factory(base / "bridges", started)  # the tests' factory
        cluster = stack.enter_context(running_cluster(base, pg_url, start_bridge, fast_argon2=False))
        print("start: " + ", ".join(f"{k} {v:.0f} s" for k, v in cluster.start_seconds.items()), flush=True)
        per_user = 9
        users = [cluster.enrolled_user() for _ in range(-(-(3 * args.logins + 40) // per_user))]
        chunk = -(-args.logins // per_user)
        a_only, failed_a = logins_per_second(cluster, users[:chunk], [cluster.a], args.logins, args.clients)
        both, failed_both = logins_per_second(
            cluster, users[chunk : 2 * chunk], [cluster.a, cluster.b], args.logins, args.clients
        )
        print(f"logins/s through node A only, {args.clients} clients: {a_only:.2f} ({failed_a} failed)")
        print(f"logins/s spread over A and B, {args.clients} clients: {both:.2f} ({failed_both} failed)")
        print(f"verifications/s, one bridge worker (one core): {verifications_per_second(cluster):.1f}")
        memory = cluster.memory()
        print("memory: " + ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in memory.items()), flush=True)
        print("bridge failover: " + bridge_failover(cluster, users[2 * chunk : 2 * chunk + 4]), flush=True)
        print("keycloak node failover: " + node_failover(cluster, users[2 * chunk + 4 :]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
