"""Serving: `backup-codes serve` (pre-fork supervisor + waitress) against gunicorn, same app and load.

Run: ``.venv/bin/python benchmarks/serving.py`` (about three minutes; needs gunicorn in the venv:
``.venv/bin/pip install gunicorn``). Uses a throwaway SQLite database, a free loopback port and the
Argon2 cost from the environment, i.e. the production defaults unless BACKUP_CODES_ARGON2_* are set.

Both servers run the same app factory (``bridge.http.app.create_app``) with the same number of worker
processes (``--workers``, 2) and request threads (``--threads``, 4), and get the same setup:

* supervisor: ``backup-codes serve --workers 2 --threads 4`` as shipped (waitress in each worker);
* gunicorn: the ``gthread`` worker class (``--worker-class``; ``sync`` handles one request at a time
  and closes every connection, which Keycloak's keep-alive client and the hash gate's waiting do not
  suit), a master that creates the same hash gate (one System V semaphore, one slot per core) and the
  prometheus multiprocess directory before forking, and a ``post_fork`` hook applying the same malloc
  tuning and GIL switch interval as the supervisor's workers; the app is built in each worker, after
  the fork, as in ``serve``. Access logging off in both (the app logs its own lines, at WARNING here).

Each run starts the server afresh, warms every client connection with two verifications, then sends
``--requests`` verifications of valid codes from ``--clients`` threads (4) on keep-alive connections
(the minimal client of ``benchmarks/verify.py``; it reconnects only when the server closes). The runs
alternate (supervisor, gunicorn, then gunicorn, supervisor, ...) for ``--rounds`` rounds (3), so load
from elsewhere on a shared machine falls on both alike. Per run it prints:

* throughput, verifications per second;
* latency p50 / p95 / p99 (ms) of the measured requests, as the client saw them;
* the server's CPU time per verification (user + system of the server's whole process tree, master and
  workers, read from /proc/PID/stat before and after: the load generator's CPU on the same cores is
  left out);
* peak RSS per worker (the largest VmHWM of the workers).

Then the median of each figure per server and the ratios gunicorn / supervisor.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from verify import KeepAlive, cpu_seconds, free_port, next_ip, peak_rss_mb  # noqa: E402

from bridge.settings import Settings  # noqa: E402
from bridge.store import api_keys, migrations  # noqa: E402
from bridge.store.db import make_engine  # noqa: E402

CODES_PER_USER = 10
SERVERS = ("supervisor", "gunicorn")


# ----------------------------------------------------------------------------------- gunicorn server


def run_gunicorn(port: int, workers: int, threads: int, worker_class: str) -> None:
    """gunicorn in this process, set up as ``serve`` sets up its supervisor (see the module docstring)."""
    from gunicorn.app.base import BaseApplication

    from bridge.ops import logs, supervisor

    settings = Settings.from_env()
    metrics_dir, own_metrics_dir = supervisor._metrics_dir()
    logs.configure(settings.log_level)
    from bridge.http.app import create_app  # imported once in the master, as in serve

    gate = supervisor._hash_gate(os.cpu_count() or 1)
    master = os.getpid()

    def post_fork(_server: Any, _worker: Any) -> None:
        supervisor._tune_malloc(settings.argon2_memory_cost, gate.slots)
        sys.setswitchinterval(supervisor.SWITCH_INTERVAL_SECONDS)

    def child_exit(_server: Any, worker: Any) -> None:
        from bridge.ops import metrics

        metrics.worker_exited(worker.pid)

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"127.0.0.1:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": worker_class,
                "backlog": 1024,
                "timeout": 30,
                "graceful_timeout": supervisor.SHUTDOWN_GRACE_SECONDS,
                "loglevel": "warning",
                "accesslog": None,
                "post_fork": post_fork,
                "child_exit": child_exit,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings, hash_gate=gate)

    try:
        Gunicorn().run()
    finally:
        if os.getpid() == master:  # gunicorn's workers leave through here too, by SystemExit
            gate.remove()
            if own_metrics_dir:
                shutil.rmtree(metrics_dir, ignore_errors=True)


# ----------------------------------------------------------------------------------- load generator


class Closing(KeepAlive):
    """KeepAlive that opens a new connection after an answer with ``Connection: close`` (gunicorn sync)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        super().__init__(port, headers)
        self.port, self.headers = port, headers

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.sock.sendall(request.encode("latin-1") + body)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self.buffer += self._recv()
        head, rest = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        status_line, *lines = head.split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, value in (x.split(":", 1) for x in lines)}
        length = int(fields["content-length"])
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            super().__init__(self.port, self.headers)
        return int(status_line.split(" ", 2)[1]), rest[:length]


@dataclass
class Run:
    server: str
    per_second: float
    p50: float
    p95: float
    p99: float
    cpu_ms: float  # server process tree, per verification
    rss_mb: float  # largest peak RSS of a worker


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (/proc/PID/task/TID/children of every thread)."""
    pids, index = [root], 0
    while index < len(pids):
        pid = pids[index]
        index += 1
        with contextlib.suppress(FileNotFoundError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(FileNotFoundError):
                    pids += [int(child) for child in (task / "children").read_text().split()]
    return pids


def load(port: int, key: str, work: list[tuple[str, str]], clients: int) -> tuple[list[float], float]:
    """Verify every (user, code) of ``work`` after two warm-up ones per client; latencies (ms), seconds."""
    headers = {"Authorization": f"Bearer {key}"}
    warm, measured = work[: 2 * clients], iter(work[2 * clients :])
    take = threading.Lock()
    ready = threading.Barrier(clients + 1)
    latencies: list[float] = []
    failures: list[BaseException | str] = []

    def verify(conn: Closing, user: str, code: str) -> None:
        body = json.dumps({"code": code, "client_ip": next_ip()}).encode()
        status, payload = conn.post(f"/v1/realms/bench/users/{user}/codes/verify", body)
        if status != 200 or not json.loads(payload)["valid"]:
            failures.append(f"{status} {payload[:200]!r}")

    def client(first: list[tuple[str, str]]) -> None:
        try:
            conn = Closing(port, headers)
            for item in first:
                verify(conn, *item)
        except BaseException as error:
            failures.append(error)
            ready.abort()
            raise
        ready.wait()
        while True:
            with take:
                item = next(measured, None)
            if item is None:
                return
            started = time.perf_counter()
            verify(conn, *item)
            latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client, args=(warm[2 * n : 2 * n + 2],)) for n in range(clients)]
    for each in threads:
        each.start()
    ready.wait()
    started = time.perf_counter()
    for each in threads:
        each.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} verifications failed: {failures[0]!r}")
    return latencies, elapsed


# ----------------------------------------------------------------------------------------- servers


class Bench:
    """The database, the users with their codes, and starting either server on it."""

    def __init__(self, data_dir: Path, args: argparse.Namespace) -> None:
        self.dir, self.args = data_dir, args
        self.url_db = f"sqlite:///{data_dir / 'bench.db'}"
        engine = make_engine(Settings(database_url=self.url_db))
        migrations.upgrade(engine)
        with engine.begin() as conn:
            self.key = api_keys.create_key(conn, name="bench", actor="bench").key
        engine.dispose()
        self.env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        self.env.update({"BACKUP_CODES_DATABASE_URL": self.url_db, "BACKUP_CODES_LOG_LEVEL": "WARNING"})

    def command(self, server: str, port: int) -> list[str]:
        size = ["--workers", str(self.args.workers), "--threads", str(self.args.threads)]
        if server == "supervisor":
            return [sys.executable, "-m", "bridge.cli", "serve", "--port", str(port), *size]
        worker_class = ["--worker-class", self.args.worker_class]
        return [sys.executable, __file__, "--gunicorn-server", "--port", str(port), *size, *worker_class]

    @contextlib.contextmanager
    def started(self, server: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
        port = free_port()
        with (self.dir / f"{server}.log").open("ab") as log:
            process = subprocess.Popen(
                self.command(server, port),
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            try:
                wait_healthy(port, process)
                yield port, process
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(60)

    def issue(self, port: int, count: int) -> list[tuple[str, str]]:
        """``count`` users with a set each, as (user, code) pairs round-robin over the users: a user's
        attempts in flight count against its failure limit until they succeed, so spread them."""
        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.key}"}
        sets = {}
        for i in range(count):
            user = f"u{i}"
            response = session.post(
                f"http://127.0.0.1:{port}/v1/realms/bench/users/{user}/codes", headers=headers, timeout=60
            )
            response.raise_for_status()
            sets[user] = response.json()["codes"]
        return [(user, codes[i]) for i in range(CODES_PER_USER) for user, codes in sets.items()]


def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(900):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def measure(bench: Bench, server: str, work: list[tuple[str, str]]) -> Run:
    with bench.started(server) as (port, process):
        tree = process_tree(process.pid)
        before = cpu_seconds(tree)
        latencies, elapsed = load(port, bench.key, work, bench.args.clients)
        cpu = cpu_seconds(tree) - before
        workers = [pid for pid in tree if pid != process.pid]
        rss = max(peak_rss_mb(pid) for pid in workers)
    count = len(latencies)
    return Run(
        server,
        count / elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        percentile(latencies, 0.99),
        cpu * 1000 / count,
        rss,
    )


# -------------------------------------------------------------------------------------------- main


FIGURES: tuple[tuple[str, str, str, Callable[[Run], float]], ...] = (
    ("verifications/s", "verif/s", "{:8.1f}", lambda run: run.per_second),
    ("latency p50 ms", "p50 ms", "{:8.1f}", lambda run: run.p50),
    ("latency p95 ms", "p95 ms", "{:8.1f}", lambda run: run.p95),
    ("latency p99 ms", "p99 ms", "{:8.1f}", lambda run: run.p99),
    ("server CPU ms/verification", "CPU ms", "{:8.2f}", lambda run: run.cpu_ms),
    ("peak RSS per worker MB", "RSS MB", "{:8.1f}", lambda run: run.rss_mb),
)


def report(runs: list[Run]) -> None:
    print()
    print(f"{'median':28s}" + "".join(f"{name:>12s}" for name in SERVERS) + f"{'gunicorn/supervisor':>22s}")
    for name, _, fmt, value in FIGURES:
        medians = [statistics.median(value(run) for run in runs if run.server == s) for s in SERVERS]
        cells = "".join(f"{fmt.format(m):>12s}" for m in medians)
        print(f"{name:28s}{cells}{medians[1] / medians[0]:22.2f}")
    pairs = [(a, b) for a, b in zip(runs[::2], runs[1::2], strict=False)]
    per_round = [
        (b if b.server == "gunicorn" else a).per_second / (a if a.server == "supervisor" else b).per_second
        for a, b in pairs
    ]
    print(f"throughput ratio per round    : {' '.join(f'{r:.2f}' for r in per_round)}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server, alternating (default 3)")
    parser.add_argument("--requests", type=int, default=300, help="measured verifications per run (300)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="request threads per worker (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"), help="gunicorn's")
    parser.add_argument("--gunicorn-server", action="store_true", help=argparse.SUPPRESS)  # a run's server
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.gunicorn_server:
        run_gunicorn(args.port, args.workers, args.threads, args.worker_class)
        return
    if importlib.util.find_spec("gunicorn") is None:
        sys.exit("gunicorn is not installed: .venv/bin/pip install gunicorn")
    settings = Settings.from_env()
    print(
        f"Argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_cost} KiB "
        f"p={settings.argon2_parallelism}; {os.cpu_count()} CPU(s); {args.workers} workers x "
        f"{args.threads} threads; gunicorn worker class {args.worker_class}; {args.clients} client threads; "
        f"{args.requests} verifications per run; {args.rounds} rounds",
        flush=True,
    )
    per_run = args.requests + 2 * args.clients
    users = -(-per_run // CODES_PER_USER)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        bench = Bench(Path(tmp), args)
        with bench.started("supervisor") as (port, _):
            work = bench.issue(port, users * 2 * args.rounds)  # not measured: codes for every run
        batches = iter([work[i :: 2 * args.rounds] for i in range(2 * args.rounds)])
        print()
        print(f"{'run':>3s}  {'server':12s}" + "".join(f"{short:>10s}" for _, short, _, _ in FIGURES))
        runs: list[Run] = []
        for n in range(args.rounds):
            for server in SERVERS if n % 2 == 0 else SERVERS[::-1]:
                run = measure(bench, server, next(batches))
                runs.append(run)
                cells = "".join(f"{fmt.format(value(run)):>10s}" for _, _, fmt, value in FIGURES)
                print(f"{len(runs):3d}  {server:12s}{cells}", flush=True)
    report(runs)


if __name__ == "__main__":
    main()
