"""The hash gate: one Argon2 evaluation per slot across processes, and no slot lost to a dead worker."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.http.app import BoundedHasher
from bridge.ops.hash_gate import HashGate

fork = multiprocessing.get_context("fork")


@pytest.fixture
def gate() -> Any:
    made: list[HashGate] = []

    def make(slots: int) -> HashGate:
        made.append(HashGate(slots))
        return made[-1]

    yield make
    for each in made:
        each.remove()


def _hold_in_threads(gate: HashGate, running: Any, peak: Any, threads: int) -> None:
    def hold() -> None:
        with gate:
            with running.get_lock():
                running.value += 1
                peak.value = max(peak.value, running.value)
            time.sleep(0.02)  # room for an overlap; the bound holds however long this takes
            with running.get_lock():
                running.value -= 1

    workers = [threading.Thread(target=hold) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_the_slots_bound_evaluations_across_forked_processes(gate: Any) -> None:
    shared = gate(2)
    running, peak = fork.Value("i", 0), fork.Value("i", 0)
    children = [fork.Process(target=_hold_in_threads, args=(shared, running, peak, 4)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0]
    assert 1 <= peak.value <= 2
    assert shared.free == 2


def _take_and_die(gate: HashGate, taken: Any) -> None:
    gate.__enter__()
    taken.set()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_while_holding_a_slot_gives_it_back(gate: Any) -> None:
    shared = gate(1)
    taken = fork.Event()
    child = fork.Process(target=_take_and_die, args=(shared, taken))
    child.start()
    child.join(60)
    assert taken.is_set() and child.exitcode == -signal.SIGKILL
    assert shared.free == 1


def _wait_for_a_slot(gate: HashGate, waiting: Any, through: Any) -> None:
    signal.signal(signal.SIGUSR1, lambda *_: None)  # a handled signal, as serve's SIGTERM handler
    waiting.set()
    with gate:
        through.set()


@pytest.mark.parametrize(
    "interruption",
    [(signal.SIGSTOP, signal.SIGCONT), (signal.SIGUSR1,)],
    ids=["stopped-and-continued", "handled-signal"],
)
def test_a_signal_while_waiting_for_a_slot_does_not_fail_the_wait(
    gate: Any, interruption: tuple[signal.Signals, ...]
) -> None:
    # semop() returns EINTR after a stop signal (a debugger, a profiler, kill -STOP) or a handled one;
    # the request waiting for its hash must go on waiting, not answer 500.
    shared = gate(1)
    waiting, through = fork.Event(), fork.Event()
    with shared:
        child = fork.Process(target=_wait_for_a_slot, args=(shared, waiting, through))
        child.start()
        assert waiting.wait(30)
        while shared.waiting == 0:  # until the child blocks in semop() (bounded by the test timeout)
            time.sleep(0.01)
        for signum in interruption:
            os.kill(child.pid, signum)
        time.sleep(0.2)
        assert not through.is_set()
    child.join(60)
    assert through.is_set() and child.exitcode == 0
    assert shared.free == 1


def test_every_argon2_evaluation_of_the_app_holds_a_slot(gate: Any) -> None:
    shared = gate(1)
    seen: list[int] = []

    class Recording:
        def verify(self, *_args: Any) -> bool:
            seen.append(shared.free)
            return False

        def hash(self, *_args: Any) -> str:
            seen.append(shared.free)
            return "h"

    bounded = BoundedHasher(Recording(), shared)  # type: ignore[arg-type]
    bounded.verify(None, "r", "u", "c")
    bounded.hash("r", "u", "c")
    assert seen == [0, 0]
    assert shared.free == 1


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        HashGate(0)


def _logged_semaphore(bridge: Any) -> int:
    found = re.search(r"hash gate: semaphore (\d+)", bridge.log_text())
    assert found, "serve should log its semaphore id"
    return int(found.group(1))


def _semaphore_ids() -> set[int]:
    lines = Path("/proc/sysvipc/sem").read_text().splitlines()[1:]
    return {int(line.split()[1]) for line in lines}


@pytest.mark.skipif(not Path("/proc/sysvipc/sem").exists(), reason="needs Linux /proc/sysvipc")
def test_serve_removes_its_semaphore_when_it_stops(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    semaphore = _logged_semaphore(bridge)
    assert semaphore in _semaphore_ids()
    bridge.stop()
    assert semaphore not in _semaphore_ids()


@pytest.mark.skipif(not Path("/proc/sysvipc/sem").exists(), reason="needs Linux /proc/sysvipc")
def test_a_hangup_stops_serve_as_cleanly_as_sigterm(start_bridge: Any) -> None:
    # SIGHUP (the terminal closed, or a careless `kill -HUP`) used to kill the supervisor outright:
    # workers cut short and the semaphore left behind.
    bridge = start_bridge(workers=2)
    semaphore = _logged_semaphore(bridge)
    bridge.process.send_signal(signal.SIGHUP)
    assert bridge.process.wait(60) == 0
    assert semaphore not in _semaphore_ids()
    assert "stopping 2 worker(s)" in bridge.log_text()


def test_serve_started_under_nohup_survives_a_hangup(start_bridge: Any) -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does; serve inherits it
    try:
        bridge = start_bridge(workers=1)
    finally:
        signal.signal(signal.SIGHUP, previous)
    bridge.process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert bridge.process.poll() is None
    assert requests.get(f"{bridge.url}/healthz", timeout=30).status_code == 200


def test_serve_names_the_semaphore_when_the_kernel_refuses_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import sysv_ipc

    from bridge.ops import hash_gate, supervisor

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise sysv_ipc.Error("No space left on device")

    monkeypatch.setattr(hash_gate.sysv_ipc, "Semaphore", refuse)
    with pytest.raises(supervisor.ServeError, match=r"System V semaphore.*No space left"):
        supervisor._hash_gate(2)
