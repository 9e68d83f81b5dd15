"""The pre-fork process supervisor behind ``backup-codes serve``.

Pre-forks workers that share one listening socket (each a waitress server over its own app, engine and
service: nothing database-related crosses a fork), restarts crashed ones, and stops them all on
SIGTERM/SIGINT/SIGHUP with a grace period. All workers share one System V semaphore, the hash gate, so
no more Argon2 evaluations run at once than there are cores.

What a worker serves is handed in (``load_worker``, from ``backup-codes serve``): operations sit below
the HTTP layer and import none of it.

Why not gunicorn: measured against it on the same app and load (``benchmarks/serving.py``), it is
within noise on throughput and tail latency, costs a little more CPU and memory, and would need its
private API overridden for the JSON refusals and the graceful SIGINT/SIGHUP (docs/operations.md, Serving).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.ops.hash_gate import HashGate

SHUTDOWN_GRACE_SECONDS = 30
# serve stops gracefully on each (in-flight requests finish, the hash gate's semaphore is removed); a
# hangup included, unless ignored (nohup): the default action would kill the supervisor without either.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
CRASH_LOOP_SECONDS = 5.0  # a worker dying this soon after start, repeatedly, is a configuration problem
CRASH_LOOP_LIMIT = 5
SWITCH_INTERVAL_SECONDS = 0.0005  # serve workers; see _worker

log = logging.getLogger("bridge.cli")

# Serves HTTP on the inherited listening socket until stopped: (socket, settings, threads, hash gate).
Worker = Callable[[socket.socket, Settings, int, "HashGate"], None]


class ServeError(Exception):
    """The service cannot start (port taken, kernel limits): the message is for the operator as is."""


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    check_database: Callable[[Settings], None],
    load_worker: Callable[[], Worker],
) -> int:
    """Listen on ``host:port`` and run ``workers`` processes until stopped; the exit status.

    ``load_worker`` runs once, after the metrics directory is set; workers inherit what it imported.
    """
    # prometheus_client picks its storage when first imported: the shared directory must exist first.
    metrics_dir, own_metrics_dir = _metrics_dir()
    gate = None
    try:
        from bridge.ops import logs

        logs.configure(settings.log_level)
        check_database(settings)
        serve_http = load_worker()  # import once here; workers inherit it

        sock = _listen(host, port)
        gate = _hash_gate(os.cpu_count() or 1)
        log.info(
            "listening on http://%s:%d with %d worker(s), %d threads each; hash gate: semaphore %d, %d slots",
            host,
            sock.getsockname()[1],
            workers,
            threads,
            gate.id,
            gate.slots,
            extra={
                "workers": workers,
                "threads": threads,
                "port": sock.getsockname()[1],
                "hash_gate_semaphore": gate.id,  # for `ipcrm -s` should the supervisor be killed with -9
            },
        )
        return _Supervisor(sock, lambda: _worker(sock, settings, threads, gate, serve_http), workers).run()
    finally:
        if gate is not None:
            gate.remove()
        if own_metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir() -> tuple[str, bool]:
    """Switch prometheus_client to its multiprocess mode (a directory of per-process files).

    The mode is normally fixed when prometheus_client is first imported, and a plugin module may have
    imported it already to build the parser; our own metrics are created later (``bridge.ops.metrics`` is
    imported by the app), so choosing the value class again here is enough for them.
    """
    existing = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if existing:
        os.makedirs(existing, exist_ok=True)
        path, owned = existing, False
    else:
        path, owned = tempfile.mkdtemp(prefix="backup-codes-metrics-"), True
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    if "bridge.ops.metrics" in sys.modules:
        raise ServeError("internal: metrics were created before the multiprocess directory was set")
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    return path, owned


def _hash_gate(slots: int) -> HashGate:
    """One Argon2 evaluation per core across all workers (see bridge.ops.hash_gate)."""
    import sysv_ipc

    from bridge.ops.hash_gate import HashGate

    try:
        return HashGate(slots)
    except sysv_ipc.Error as exc:  # kernel limits (kernel.sem), no IPC namespace of its own
        raise ServeError(f"cannot create the System V semaphore for the hash gate: {exc}") from None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


def _worker(
    sock: socket.socket,
    settings: Settings,
    threads: int,
    hash_gate: HashGate,
    serve_http: Worker,
) -> int:
    """One worker process: its own engine and service (nothing database-related crosses a fork)."""
    _die_with_parent()
    _tune_malloc(settings.argon2_memory_cost, hash_gate.slots)
    # A thread back from Argon2 needs the GIL to give its slot back; at the default 5 ms switch interval
    # it may wait that long behind a thread running Python while another worker's core idles for the
    # slot (measured: 0.75-0.83 of raw Argon2 at 5 ms, 0.84-0.88 at 0.5 ms, less again at 0.2 ms).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    _on_stop_signals(_exit_on_signal)
    serve_http(sock, settings, threads, hash_gate)
    return 0


def _on_stop_signals(handler: Callable[[int, Any], None]) -> None:
    for signum in STOP_SIGNALS:
        if signum == signal.SIGHUP and signal.getsignal(signum) is signal.SIG_IGN:
            continue  # started under nohup: a hangup is meant to leave it running
        signal.signal(signum, handler)


def _exit_on_signal(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)  # waitress catches it, finishes in-flight requests and returns


def _tune_malloc(block_kib: int, blocks: int) -> None:
    """glibc: keep this worker's Argon2 blocks in one arena and never hand them back to the kernel.

    One arena for the whole worker, so a freed block is reused by any thread: each waitress thread would
    otherwise get its own arena keeping the block of the last hash its thread computed, and peak RSS would
    grow with the thread count rather than with the evaluations that run at once (the app's hash gate).
    Fixed thresholds, because glibc's adaptive ones trim the heap whenever two freed blocks meet at its
    top, and the next hash faults its whole block back in (measured with two evaluations at once in a
    worker: 2 760 page faults and 7 ms of system time per verification, 52 instead of 65 verifications/s
    in ``benchmarks/verify.py``; with these settings, under 50 faults). Blocks above glibc's 32 MiB mmap
    ceiling are still mapped and unmapped per hash.
    """
    with contextlib.suppress(Exception):
        import ctypes

        m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
        block = (block_kib + 1024) * 1024  # with room for the allocator's and Python's own use
        libc = ctypes.CDLL(None)
        libc.mallopt(m_arena_max, 1)
        libc.mallopt(m_mmap_threshold, min(block, 32 * 1024 * 1024))
        libc.mallopt(m_trim_threshold, (blocks + 1) * block)


def _die_with_parent() -> None:
    """Linux: get SIGTERM if the supervisor dies without stopping us (no orphaned workers)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() == 1:
            os._exit(0)


class _Supervisor:
    """Pre-forks ``count`` workers sharing one listening socket, restarts crashed ones, stops them all."""

    def __init__(self, sock: socket.socket, target: Callable[[], int], count: int) -> None:
        self.sock = sock
        self.target = target
        self.count = count
        self.children: dict[int, float] = {}
        self.stopping = False
        self.quick_deaths = 0

    def run(self) -> int:
        _on_stop_signals(self._stop)
        signal.signal(signal.SIGALRM, self._kill_stragglers)
        for _ in range(self.count):
            self._spawn()
        status = 0
        while self.children:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                break
            started = self.children.pop(pid, None)
            self._forget_metrics(pid)
            if self.stopping or started is None:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            log.warning("worker %d exited with status %d; starting a new one", pid, code)
            self.quick_deaths = (
                self.quick_deaths + 1 if time.monotonic() - started < CRASH_LOOP_SECONDS else 0
            )
            if self.quick_deaths >= CRASH_LOOP_LIMIT:
                log.error("workers keep dying right after start; giving up")
                status = 1
                self._stop(signal.SIGTERM, None)
                continue
            self._spawn()
        self.sock.close()
        return status

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = self.target()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, _signum: int, _frame: Any) -> None:
        if not self.stopping:
            log.info("stopping %d worker(s)", len(self.children))
            signal.alarm(SHUTDOWN_GRACE_SECONDS)
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _kill_stragglers(self, _signum: int, _frame: Any) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _forget_metrics(pid: int) -> None:
        with contextlib.suppress(Exception):
            from bridge.ops import metrics

            metrics.worker_exited(pid)
