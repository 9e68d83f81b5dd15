"""Serving: `backup-codes serve` (pre-fork supervisor + waitress) against gunicorn, same app and load.

Run: ``.venv/bin/python benchmarks/serving.py`` (three to six minutes; needs gunicorn in the venv:
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

Both servers run side by side, each idle while the other is measured. ``--rounds`` rounds (10) each
send a batch of ``--requests`` verifications of valid codes (100) to one server and then to the other,
the order flipping every round (supervisor first, then gunicorn first, ...): the load from elsewhere on
a shared machine changes within a minute, and short alternating batches let it fall on both alike. A
batch comes from ``--clients`` threads (4), each on its own keep-alive connection warmed with two
verifications (the minimal client of ``benchmarks/verify.py``; it reconnects only when the server
closes). It prints per batch, then per server:

* throughput, verifications per second (median of the batches), and the ratio of each round;
* latency p50 / p95 / p99 (ms) of every measured request of the server, as the client saw it;
* the server's CPU time per verification (user + system time of its whole process tree, master and
  workers, from /proc/PID/stat before and after each batch: the load generator's CPU on the same cores
  is left out; median of the batches);
* peak RSS per worker (the largest VmHWM of its workers, at the end).

and the ratios gunicorn / supervisor.
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
from concurrent.futures import ThreadPoolExecutor
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


@dataclass
class Run:
    """One batch against one server."""

    server: str
    per_second: float
    latencies: list[float]  # ms
    cpu_ms: float  # server process tree, per verification

    def percentile(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)


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

    def verify(conn: KeepAlive, user: str, code: str) -> None:
        body = json.dumps({"code": code, "client_ip": next_ip()}).encode()
        status, payload = conn.post(f"/v1/realms/bench/users/{user}/codes/verify", body)
        if status != 200 or not json.loads(payload)["valid"]:
            failures.append(f"{status} {payload[:200]!r}")

    def client(first: list[tuple[str, str]]) -> None:
        try:
            conn = KeepAlive(port, headers)
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
        if self.args.worker_class == "sync":  # gunicorn would run gthread for sync with threads > 1
            size[-1] = "1"
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
        headers = {"Authorization": f"Bearer {self.key}"}

        def one(user: str) -> list[str]:
            url = f"http://127.0.0.1:{port}/v1/realms/bench/users/{user}/codes"
            response = requests.post(url, headers=headers, timeout=120)
            response.raise_for_status()
            return list(response.json()["codes"])

        with ThreadPoolExecutor(4) as pool:
            users = [f"u{i}" for i in range(count)]
            sets = dict(zip(users, pool.map(one, users), strict=True))
        return [(user, codes[i]) for i in range(CODES_PER_USER) for user, codes in sets.items()]


def all_workers(root: int, args: argparse.Namespace) -> list[int]:
    """The server's process tree once every worker has started (/healthz answers after the first)."""
    for _ in range(600):
        if len(tree := process_tree(root)) > args.workers:
            return tree
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start {args.workers} workers")


def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(900):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def measure(
    server: str, port: int, tree: list[int], key: str, work: list[tuple[str, str]], clients: int
) -> Run:
    before = cpu_seconds(tree)
    latencies, elapsed = load(port, key, work, clients)
    cpu = cpu_seconds(tree) - before
    return Run(server, len(latencies) / elapsed, latencies, cpu * 1000 / len(latencies))


# -------------------------------------------------------------------------------------------- main


FIGURES: tuple[tuple[str, str, Callable[[list[Run]], float]], ...] = (
    ("verifications/s, median", "{:8.1f}", lambda runs: statistics.median(run.per_second for run in runs)),
    ("latency p50 ms, all batches", "{:8.1f}", lambda runs: pooled(runs, 0.50)),
    ("latency p95 ms, all batches", "{:8.1f}", lambda runs: pooled(runs, 0.95)),
    ("latency p99 ms, all batches", "{:8.1f}", lambda runs: pooled(runs, 0.99)),
    ("server CPU ms/verif., median", "{:8.2f}", lambda runs: statistics.median(run.cpu_ms for run in runs)),
)


def pooled(runs: list[Run], fraction: float) -> float:
    return percentile([ms for run in runs for ms in run.latencies], fraction)


def report(runs: list[Run], rss: dict[str, float]) -> None:
    print()
    print(f"{'':30s}" + "".join(f"{name:>12s}" for name in SERVERS) + f"{'gunicorn/supervisor':>22s}")
    for name, fmt, figure in FIGURES:
        values = [figure([run for run in runs if run.server == server]) for server in SERVERS]
        cells = "".join(f"{fmt.format(value):>12s}" for value in values)
        print(f"{name:30s}{cells}{values[1] / values[0]:22.2f}")
    cells = "".join(f"{rss[server]:12.1f}" for server in SERVERS)
    print(f"{'peak RSS per worker MB, max':30s}{cells}{rss['gunicorn'] / rss['supervisor']:22.2f}")
    by_round = [{run.server: run.per_second for run in runs[i : i + 2]} for i in range(0, len(runs), 2)]
    ratios = [pair["gunicorn"] / pair["supervisor"] for pair in by_round]
    print()
    print(f"throughput gunicorn/supervisor per round: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(
        f"  median {statistics.median(ratios):.2f}; rounds where gunicorn was faster: "
        f"{sum(r > 1 for r in ratios)} of {len(ratios)}"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10, help="batches on each server, alternating (10)")
    parser.add_argument("--requests", type=int, default=100, help="measured verifications per batch (100)")
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
        f"{args.rounds} rounds of {args.requests} verifications per server",
        flush=True,
    )
    users = -(-(args.requests + 2 * args.clients) // CODES_PER_USER)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp, contextlib.ExitStack() as stack:
        bench = Bench(Path(tmp), args)
        servers = {server: stack.enter_context(bench.started(server)) for server in SERVERS}
        trees = {server: all_workers(process.pid, args) for server, (_, process) in servers.items()}
        work = bench.issue(servers["supervisor"][0], users * 2 * args.rounds)  # not measured
        batches = iter([work[i :: 2 * args.rounds] for i in range(2 * args.rounds)])
        print()
        print(f"{'batch':>5s}  {'server':12s}{'verif/s':>10s}{'p50 ms':>10s}{'p95 ms':>10s}{'CPU ms':>10s}")
        runs: list[Run] = []
        for n in range(args.rounds):
            for server in SERVERS if n % 2 == 0 else SERVERS[::-1]:
                port, _ = servers[server]
                run = measure(server, port, trees[server], bench.key, next(batches), args.clients)
                runs.append(run)
                print(
                    f"{len(runs):5d}  {server:12s}{run.per_second:10.1f}{run.percentile(0.5):10.1f}"
                    f"{run.percentile(0.95):10.1f}{run.cpu_ms:10.2f}",
                    flush=True,
                )
        rss = {s: max(peak_rss_mb(pid) for pid in trees[s] if pid != servers[s][1].pid) for s in SERVERS}
    report(runs, rss)


if __name__ == "__main__":
    main()
