"""The bridge's own CPU per verification, next to the one Argon2 evaluation it exists to run.

Run: ``.venv/bin/python benchmarks/verify_cpu.py`` (about a minute; a throwaway SQLite database and a real
``backup-codes serve --workers 2`` on a free loopback port, at the Argon2 cost from the environment, i.e.
the production defaults unless BACKUP_CODES_ARGON2_* are set).

Wall-clock throughput on two shared cores mixes in the load generator, so this reads CPU time instead:
the user + system time of the serving processes (the supervisor and its workers, from /proc/PID/stat)
over ``--requests`` valid-code verifications, divided by their number. What the bridge spends on HTTP,
authentication, validation, SQL, audit and the mail queue is that minus its one Argon2 evaluation,
shown as a share of one evaluation at the default parameters, measured in this run (target <= 5%).

By default (``--hash cheap``) the served bridge hashes at the cheapest Argon2 parameters and the
(then tiny) hash is subtracted at those: a memory-hard hash's CPU time grows with whatever else shares
the caches, so subtracting a 19 MiB hash measured elsewhere leaves noise several times the overhead.
``--hash default`` serves at the default parameters and subtracts the hash measured in this process.

``--split`` also says where the bridge's own CPU goes, in this process without a server (the app called
as WSGI, cheap hash): per verification, the service's ``verify`` and the HTTP layer around it (Flask,
authentication, validation, access log, metrics). Run: ``.venv/bin/python benchmarks/verify_cpu.py --split``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from argon2 import PasswordHasher  # noqa: E402

from bridge.settings import Settings  # noqa: E402

TARGET_PERCENT = 5.0


CHEAP = {
    "BACKUP_CODES_ARGON2_TIME_COST": "1",
    "BACKUP_CODES_ARGON2_MEMORY_COST": "64",
    "BACKUP_CODES_ARGON2_PARALLELISM": "1",
}


def argon2_cpu_ms(settings: Settings, count: int) -> float:
    """Median CPU ms of one verification at the configured parameters, in this process."""
    ph = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
        hash_len=32,
        salt_len=16,
    )
    stored = ph.hash(b"demo\x00alice\x007KQ4M2XP9DWR3HZT")
    samples = []
    for _ in range(count):
        started = time.process_time()
        ph.verify(stored, b"demo\x00alice\x007KQ4M2XP9DWR3HZT")
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


def server_cpu_seconds(supervisor: int) -> float:
    """CPU of the supervisor, its live workers, and workers it has already reaped (cutime, cstime)."""
    import verify as bench

    fields = Path(f"/proc/{supervisor}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return reaped + bench.cpu_seconds([supervisor, *(int(pid) for pid in children)])


def run(requests: int, clients: int) -> tuple[float, int]:
    """Server CPU ms per verification over ``requests`` valid codes from ``clients`` threads."""
    import verify as bench

    with tempfile.TemporaryDirectory() as tmp:
        bridge = bench.Bridge(Path(tmp))
        try:
            users = bench.issue_users(bridge, max(1, requests // bench.CODES_PER_USER + clients), "cpu")
            work = [(user, codes[i]) for i in range(bench.CODES_PER_USER) for user, codes in users.items()]
            warm, measured = work[: clients * 2], iter(work[clients * 2 : clients * 2 + requests])
            take, failures = threading.Lock(), []

            def client(first: list[tuple[str, str]], ready: threading.Barrier) -> None:
                conn = bench.connect(bridge)
                for item in first:
                    bench.verify(conn, *item)
                ready.wait()
                while True:
                    with take:
                        item = next(measured, None)
                    if item is None:
                        return
                    if not bench.verify(conn, *item)["valid"]:
                        failures.append(item)

            ready = threading.Barrier(clients + 1)
            threads = [
                threading.Thread(target=client, args=(warm[2 * n : 2 * n + 2], ready)) for n in range(clients)
            ]
            for thread in threads:
                thread.start()
            ready.wait()
            before = server_cpu_seconds(bridge.process.pid)
            for thread in threads:
                thread.join()
            used = server_cpu_seconds(bridge.process.pid) - before
        finally:
            bridge.stop()
    if failures:
        raise RuntimeError(f"{len(failures)} valid codes were refused")
    return used * 1000 / requests, requests


def split(requests: int) -> tuple[float, float]:
    """In-process CPU ms per verification: the whole app called as WSGI, and its service's ``verify``."""
    from werkzeug.test import EnvironBuilder

    from bridge.http.app import create_app
    from bridge.store import api_keys, migrations
    from bridge.store.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        settings = dataclasses.replace(
            Settings.from_env(), data_dir=path, database_url=f"sqlite:///{path}/cpu.db"
        )
        engine = make_engine(settings)
        migrations.upgrade(engine)
        with engine.begin() as conn:
            key = api_keys.create_key(conn, name="bench", actor="bench").key
        app = create_app(settings, engine=engine)
        client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
        environs = []
        for n in range(requests):
            user = f"u{n // 10}"
            if n % 10 == 0:
                codes = client.post(f"/v1/realms/bench/users/{user}/codes", headers=headers).json["codes"]
            ip = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
            body = json.dumps({"code": codes[n % 10], "client_ip": ip})
            builder = EnvironBuilder(
                path=f"/v1/realms/bench/users/{user}/codes/verify", method="POST", headers=headers, data=body
            )
            environs.append({**builder.get_environ(), "CONTENT_TYPE": "application/json"})
        service = app.extensions["backup_codes"].service
        verify, in_service = service.verify, [0.0]

        def timed(*args: object, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return verify(*args, **kwargs)
            finally:
                in_service[0] += time.process_time() - started

        service.verify = timed
        started = time.process_time()
        for environ in environs:
            answer = b"".join(app(environ, lambda *_: None))
            if b'"valid":true' not in answer:
                raise RuntimeError(f"a valid code was refused: {answer[:200]!r}")
        total = time.process_time() - started
        engine.dispose()
    return total * 1000 / requests, in_service[0] * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="valid-code verifications measured")
    parser.add_argument("--clients", type=int, default=2, help="client threads (keep-alive connections)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument(
        "--hash",
        choices=("cheap", "default"),
        default="cheap",
        help="Argon2 parameters the bridge serves with",
    )
    parser.add_argument(
        "--split", action="store_true", help="also: service vs HTTP layer, in process (cheap hash)"
    )
    args = parser.parse_args()
    settings = Settings.from_env()  # the defaults, or BACKUP_CODES_ARGON2_* from the environment
    if args.hash == "cheap":
        os.environ.update(CHEAP)  # what the served bridge hashes with; ``settings`` keeps the defaults
    served = Settings.from_env()
    own, full = [], []
    for n in range(args.rounds):
        full.append(argon2_cpu_ms(settings, 30))
        served_hash = argon2_cpu_ms(served, 30)
        server_ms, _ = run(args.requests, args.clients)
        own.append(server_ms - served_hash)
        print(
            f"round {n + 1}: bridge {server_ms:6.2f} ms/verification, its hash {served_hash:6.2f} ms, "
            f"own {own[-1]:5.2f} ms = {100 * own[-1] / full[-1]:5.1f}% of {full[-1]:5.2f} ms"
        )
    overhead, argon = statistics.median(own), statistics.median(full)
    cost = f"t={settings.argon2_time_cost}, m={settings.argon2_memory_cost} KiB"
    print()
    print(f"one Argon2 evaluation ({cost}), CPU   : {argon:6.2f} ms")
    print(
        f"bridge's own CPU per verification beyond it : {overhead:6.2f} ms = {100 * overhead / argon:.1f}% "
        f"(target <= {TARGET_PERCENT:.0f}%; served with --hash {args.hash})"
    )
    if args.split:
        from bridge.ops import logs

        os.environ.update(CHEAP)
        with open(os.devnull, "w") as devnull:
            logs.configure("INFO", devnull)  # the access log is formatted and written, as when served
            rounds = [split(args.requests) for _ in range(args.rounds)]
        app_ms = statistics.median(app for app, _ in rounds)
        service_ms = statistics.median(service for _, service in rounds)
        print(
            f"in process, per verification: app {app_ms:.2f} ms = service.verify {service_ms:.2f} ms "
            f"+ HTTP layer {app_ms - service_ms:.2f} ms"
        )


if __name__ == "__main__":
    main()
