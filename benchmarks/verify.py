"""How close the served bridge comes to raw Argon2, and what a wrong code costs.

Run: ``.venv/bin/python benchmarks/verify.py`` (about two minutes; uses a throwaway SQLite database and a
``backup-codes serve --workers 2`` on a free loopback port, with the Argon2 cost from the environment,
i.e. the production defaults unless BACKUP_CODES_ARGON2_* are set).

Prints, for each of ``BENCH_ROUNDS`` short rounds (3), and the median ratios over them:
* raw Argon2 verifications per second with 2 processes (the ceiling), right before and after the round;
* bridge verifications per second over HTTP (valid codes, 4 client threads on keep-alive connections,
  with a minimal HTTP/1.1 client, ``KeepAlive``: the load generator shares the cores, and whatever CPU
  it spends is taken from the service it measures);
* their ratio (target >= 0.9);
* for scale, the same load against a bare Flask app on waitress (2 processes sharing the bridge's hash
  gate, same client) whose only work is the Argon2 verification: the ratio no Flask/waitress service
  can beat on this machine, before any database, authentication or validation;
* the cost of a wrong code: median latency of a wrong-code request minus that of a request refused
  before any hashing (malformed code), divided by one Argon2 verification (target <= 1.1);
* peak RSS per worker process (VmHWM; target <= 150 MB);
* where the difference goes: CPU per verification (user + system time) of the raw loop, the bare
  service, the bridge and the load generator, medians over the rounds. The service is CPU-bound (the
  cores idle as little as under the raw loop), so the ratio is about raw CPU / (bridge + load generator
  CPU): the budget at the target is raw / 0.9. Bridge minus bare is the bridge's own work
  (authentication, validation, SQL, audit, notification queue).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import requests
from argon2 import PasswordHasher

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.ops.hash_gate import HashGate  # noqa: E402
from bridge.ops.supervisor import SWITCH_INTERVAL_SECONDS  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from bridge.store import api_keys, migrations  # noqa: E402
from bridge.store.db import make_engine  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
VERIFY_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))  # per round
CLIENT_THREADS = int(os.environ.get("BENCH_CLIENT_THREADS", "4"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "90"))
RAW_PER_PROCESS = int(os.environ.get("BENCH_RAW_PER_PROCESS", "100"))
CODES_PER_USER = 10
MATERIAL = b"demo\x00alice\x007KQ4M2XP9DWR3HZT"  # what the bridge hashes: realm, user and code
WORKERS = 2
THREADS = os.environ.get("BENCH_THREADS", "")  # empty: the serve default


def argon2_params(settings: Settings) -> dict[str, int]:
    """The configured cost, as plain values a forked or pooled process can take."""
    return {
        "time_cost": settings.argon2_time_cost,
        "memory_cost": settings.argon2_memory_cost,
        "parallelism": settings.argon2_parallelism,
    }


def hasher(params: dict[str, int]) -> PasswordHasher:
    return PasswordHasher(**params, hash_len=32, salt_len=16)


def _raw_loop(args: tuple[dict[str, int], str, int]) -> float:
    """CPU seconds of ``count`` verifications in this (pool) process."""
    params, stored, count = args
    ph = hasher(params)
    started = time.process_time()
    for _ in range(count):
        ph.verify(stored, MATERIAL)
    return time.process_time() - started


def raw_argon2(settings: Settings) -> Load:
    """Verifications/s with 2 processes (the ceiling), and their CPU per verification."""
    params = argon2_params(settings)
    stored = hasher(params).hash(MATERIAL)
    with Pool(2) as pool:
        pool.map(_raw_loop, [(params, stored, 5)] * 2)  # warm up both processes
        started = time.perf_counter()
        cpu = pool.map(_raw_loop, [(params, stored, RAW_PER_PROCESS)] * 2)
        elapsed = time.perf_counter() - started
    return Load(2 * RAW_PER_PROCESS / elapsed, sum(cpu) * 1000 / (2 * RAW_PER_PROCESS), 0.0)


def single_verify_ms(settings: Settings) -> float:
    """Median ms of one verification in this process, nothing else running."""
    ph = hasher(argon2_params(settings))
    stored = ph.hash(MATERIAL)
    single = []
    for _ in range(40):
        started = time.perf_counter()
        ph.verify(stored, MATERIAL)
        single.append((time.perf_counter() - started) * 1000)
    return statistics.median(single)


def _bare_worker(sock: socket.socket, params: dict[str, int], stored: str, gate: HashGate) -> None:
    import logging

    import waitress
    from flask import Flask, jsonify, request

    logging.getLogger("waitress").setLevel(logging.ERROR)  # no "task queue depth" chatter

    ph = hasher(params)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)  # as in the bridge's workers
    app = Flask("bare")

    @app.post("/v1/realms/bench/users/<user>/codes/verify")
    def verify(user: str) -> Any:
        request.get_json()
        with gate:
            ph.verify(stored, MATERIAL)
        return jsonify(valid=True, remaining=9)

    waitress.serve(app, sockets=[sock], threads=4, _quiet=True)


def bare_flask_ceiling(settings: Settings, users: dict[str, list[str]]) -> Load:
    """A service doing nothing but the hash, measured like the bridge."""
    params = argon2_params(settings)
    stored = hasher(params).hash(MATERIAL)
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    context = multiprocessing.get_context("fork")
    gate = HashGate(os.cpu_count() or 1)  # shared by the workers, as in the bridge
    args = (sock, params, stored, gate)
    workers = [context.Process(target=_bare_worker, args=args) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    try:
        target = SimpleNamespace(port=sock.getsockname()[1], headers={"Authorization": "Bearer -"})
        return throughput(target, users, [worker.pid for worker in workers])  # type: ignore[arg-type]
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()
        sock.close()
        gate.remove()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bridge:
    def __init__(self, data_dir: Path) -> None:
        self.url_db = f"sqlite:///{data_dir / 'bench.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        engine = make_engine(Settings(database_url=self.url_db))
        migrations.upgrade(engine)
        with engine.begin() as conn:
            self.key = api_keys.create_key(conn, name="bench", actor="bench").key
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env.update({"BACKUP_CODES_DATABASE_URL": self.url_db, "BACKUP_CODES_LOG_LEVEL": "WARNING"})
        self.log = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "serve", "--port", str(self.port), "--workers", str(WORKERS)]
            + (["--threads", THREADS] if THREADS else []),
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        for _ in range(600):
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("bridge did not start")
        self.headers = {"Authorization": f"Bearer {self.key}"}

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


_ip_counter = iter(range(1, 10_000_000))
_ip_lock = threading.Lock()


def next_ip() -> str:
    """A distinct client address per request, so the per-IP rate limit counts but never refuses."""
    with _ip_lock:
        n = next(_ip_counter)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def issue_users(bridge: Bridge, count: int, prefix: str) -> dict[str, list[str]]:
    session = requests.Session()
    users = {}
    for i in range(count):
        user = f"{prefix}-{i}"
        response = session.post(
            f"{bridge.url}/v1/realms/bench/users/{user}/codes", headers=bridge.headers, timeout=60
        )
        response.raise_for_status()
        users[user] = response.json()["codes"]
    return users


class KeepAlive:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads ``Content-Length`` answers.

    The load generator shares the two cores with what it measures: ``http.client`` spends about
    0.7 ms of CPU per call here (``requests`` 1.5 ms), this about a fifth of that, which is left to the
    bridge. It speaks only what the bridge and waitress answer (no chunking, no redirects);
    after an answer with ``Connection: close`` (gunicorn's sync workers) it opens a new connection.
    """

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._connect()

    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.sock.sendall(request.encode("latin-1") + body)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self.buffer += self._recv()
        head, rest = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        status_line, *header_lines = head.split("\r\n")
        pairs = (line.split(":", 1) for line in header_lines)
        fields = {name.strip().lower(): value.strip() for name, value in pairs}
        length = int(fields["content-length"])
        status = int(status_line.split(" ", 2)[1])
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            self._connect()
        return status, rest[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


def verify(conn: KeepAlive, user: str, code: str) -> dict:
    body = json.dumps({"code": code, "client_ip": next_ip()}).encode()
    status, payload = conn.post(f"/v1/realms/bench/users/{user}/codes/verify", body)
    if status != 200:
        raise RuntimeError(f"verify answered {status}: {payload[:200]!r}")
    return json.loads(payload)


def connect(bridge: Bridge) -> KeepAlive:
    return KeepAlive(bridge.port, bridge.headers)


class Load(NamedTuple):
    per_second: float  # verifications
    server_cpu_ms: float  # per verification: the server's processes (raw: the Argon2 processes)
    client_cpu_ms: float  # per verification: this process, the load generator


def cpu_seconds(pids: list[int]) -> float:
    """User + system time of ``pids`` so far (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def throughput(bridge: Bridge, users: dict[str, list[str]], server_pids: list[int]) -> Load:
    # Round-robin over users: attempts in flight for one user count against its failure limit until
    # they succeed, so more client threads than max_failures on one user would lock it (by design).
    work = [(user, codes[i]) for i in range(CODES_PER_USER) for user, codes in users.items()]
    work = work[: VERIFY_REQUESTS + CLIENT_THREADS * 2]
    measured = iter(work[CLIENT_THREADS * 2 :])
    take = threading.Lock()
    ready = threading.Barrier(CLIENT_THREADS + 1)
    failures: list[BaseException | tuple[str, str]] = []

    def client(warm_up: list[tuple[str, str]]) -> None:
        # Plain threads pulling from one iterator: an executor's futures cost the shared cores too.
        try:
            conn = connect(bridge)
            for item in warm_up:  # the connection, and the worker that accepted it, are warm
                verify(conn, *item)
        except BaseException as error:
            failures.append(error)
            ready.abort()
            raise
        ready.wait()
        try:
            while True:
                with take:
                    item = next(measured, None)
                if item is None:
                    return
                if not verify(conn, *item)["valid"]:
                    failures.append(item)
        except BaseException as error:
            failures.append(error)
            raise

    clients = [
        threading.Thread(target=client, args=(work[2 * n : 2 * n + 2],)) for n in range(CLIENT_THREADS)
    ]
    for each in clients:
        each.start()
    ready.wait()
    started, server_cpu, client_cpu = time.perf_counter(), cpu_seconds(server_pids), time.process_time()
    for each in clients:
        each.join()
    elapsed = time.perf_counter() - started
    server_cpu, client_cpu = cpu_seconds(server_pids) - server_cpu, time.process_time() - client_cpu
    if failures:
        raise RuntimeError(
            f"{len(failures)} requests failed or were refused during the throughput run: {failures[0]!r}"
        )
    count = len(work) - CLIENT_THREADS * 2
    return Load(count / elapsed, server_cpu * 1000 / count, client_cpu * 1000 / count)


def latencies_ms(bridge: Bridge, users: list[str], settings: Settings) -> tuple[float, float, float]:
    """Median latency of a wrong-code request, of a malformed one (refused before hashing) and of one
    local Argon2 verification, sampled in turn so that load from elsewhere affects all three alike."""
    ph = hasher(argon2_params(settings))
    stored = ph.hash(MATERIAL)
    conn = connect(bridge)
    wrong: list[float] = []
    malformed: list[float] = []
    local: list[float] = []
    for i in range(LATENCY_SAMPLES):
        user = users[i % len(users)]
        for code, samples in ((f"ZZZZ-ZZZZ-ZZZZ-Z{i % 900 + 100}", wrong), ("!", malformed)):
            started = time.perf_counter()
            verify(conn, user, code)
            samples.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        ph.verify(stored, MATERIAL)
        local.append((time.perf_counter() - started) * 1000)
    return statistics.median(wrong), statistics.median(malformed), statistics.median(local)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    # No options: the Argon2 cost comes from the environment. --help prints what the run measures.
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    settings = Settings.from_env()
    print(
        f"Argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_cost} KiB "
        f"p={settings.argon2_parallelism}; "
        f"{os.cpu_count()} CPU(s); {WORKERS} bridge workers (threads: {THREADS or 'default'}); "
        f"{CLIENT_THREADS} client threads; {ROUNDS} rounds",
        flush=True,
    )
    print(f"raw Argon2 verify, one (median)     : {single_verify_ms(settings):8.2f} ms", flush=True)
    print()
    print("round  raw before  bridge  bare Flask  raw after   bridge/raw  bare/raw   (verifies/s)")
    ratios: list[float] = []
    bare_ratios: list[float] = []
    cpu: dict[str, list[float]] = {"raw": [], "bare": [], "bridge": [], "client": []}
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
        bridge = Bridge(Path(tmp))
        try:
            per_round = -(-(VERIFY_REQUESTS + CLIENT_THREADS * 2) // CODES_PER_USER)
            users = issue_users(bridge, per_round * ROUNDS, "tp")
            names = list(users)
            # Short rounds, raw Argon2 measured right before and after each: the load from elsewhere on
            # a shared machine changes within a minute, and each ratio should compare like with like.
            for n in range(ROUNDS):
                mine = {user: users[user] for user in names[n * per_round : (n + 1) * per_round]}
                before = raw_argon2(settings)
                served = throughput(bridge, mine, bridge.worker_pids())
                bare = bare_flask_ceiling(settings, mine)
                after = raw_argon2(settings)
                raw_before, raw_after = before.per_second, after.per_second
                raw_vps = (raw_before + raw_after) / 2
                bridge_vps, bare_vps = served.per_second, bare.per_second
                cpu["raw"].append((before.server_cpu_ms + after.server_cpu_ms) / 2)
                cpu["bare"].append(bare.server_cpu_ms)
                cpu["bridge"].append(served.server_cpu_ms)
                cpu["client"].append(served.client_cpu_ms)
                ratios.append(bridge_vps / raw_vps)
                bare_ratios.append(bare_vps / raw_vps)
                print(
                    f"{n + 1:5d}  {raw_before:10.1f}  {bridge_vps:6.1f}  {bare_vps:10.1f}  {raw_after:9.1f}"
                    f"   {ratios[-1]:10.2f}  {bare_ratios[-1]:8.2f}",
                    flush=True,
                )

            # Wrong codes: spread over users so no one reaches the failure limit (a lock skips hashing).
            wrong_users = list(issue_users(bridge, max(1, LATENCY_SAMPLES // 3), "wrong"))
            wrong, malformed, one_verify_ms = latencies_ms(bridge, wrong_users, settings)
            rss = {pid: peak_rss_mb(pid) for pid in bridge.worker_pids()}
        finally:
            bridge.stop()

    print()
    print(f"wrong-code request (median)         : {wrong:8.2f} ms")
    print(f"malformed request, no hash (median) : {malformed:8.2f} ms")
    print(f"one Argon2 verify, same time (med.) : {one_verify_ms:8.2f} ms")
    print()
    print(f"throughput ratio bridge/raw, median : {statistics.median(ratios):8.2f}   (target >= 0.9)")
    print(f"  for scale, bare Flask/raw, median : {statistics.median(bare_ratios):8.2f}   (only the hash)")
    print(
        f"wrong-code cost / one Argon2 verify : {(wrong - malformed) / one_verify_ms:8.2f}   (target <= 1.1)"
    )
    for pid, mb in rss.items():
        print(f"peak RSS worker {pid:<8}           : {mb:8.1f} MB (target <= 150 MB)")
    raw_ms, bare_ms, bridge_ms, client_ms = (statistics.median(cpu[key]) for key in cpu)
    print()
    print("CPU per verification (medians over the rounds)")
    print(f"  raw Argon2                        : {raw_ms:8.2f} ms")
    print(f"  bare Flask + waitress, server     : {bare_ms:8.2f} ms   ({bare_ms - raw_ms:+.2f}: HTTP, Flask)")
    print(
        f"  bridge, server                    : {bridge_ms:8.2f} ms   ({bridge_ms - bare_ms:+.2f} over bare: "
        "auth, validation, SQL, audit)"
    )
    print(f"  load generator (this process)     : {client_ms:8.2f} ms")
    print(f"  budget at the target, raw / 0.9   : {raw_ms / 0.9:8.2f} ms   (server and load generator)")


if __name__ == "__main__":
    main()
