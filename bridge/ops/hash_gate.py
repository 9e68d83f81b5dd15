"""At most one Argon2 evaluation per core, counted across all ``serve`` workers.

Each evaluation walks ``argon2_memory_cost`` KiB: more of them at once than there are cores only share
the cores, caches and memory bandwidth, and each takes longer. A limit per worker is not enough: with
one slot per core in every worker, two workers ran four evaluations on two cores (``benchmarks/
verify.py``: 75 instead of 81 verifications/s). Splitting the cores between workers is not either:
a caller's keep-alive connections stay with the worker that accepted them, and when one worker holds
all of them it must be able to use every core (measured: half the throughput otherwise).

So the slots are one System V semaphore that the supervisor creates and its forked workers inherit.
Every operation on it is made with ``SEM_UNDO``: the kernel gives back what a worker held when it dies,
however it dies, so a worker killed in the middle of a hash never leaks a slot.
"""

from __future__ import annotations

import os
from types import TracebackType

import sysv_ipc


class HashGate:
    """A counting semaphore of ``slots``, shared by this process and every process it forks."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a hash gate needs at least one slot")
        self.slots = slots
        self._owner = os.getpid()
        self._semaphore = sysv_ipc.Semaphore(
            sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, initial_value=slots
        )
        self._semaphore.undo = True

    def __enter__(self) -> None:
        while True:
            try:
                self._semaphore.acquire()  # waits with the GIL released
                return
            except sysv_ipc.Error as error:
                if not _interrupted(error):
                    raise
                # Wait on (PEP 475). Python runs signal handlers in the main thread: in serve the
                # wait is on a request thread, which gets its slot and finishes its request while
                # SIGTERM's SystemExit stops waitress in the main thread (a graceful stop).

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._semaphore.release()

    @property
    def id(self) -> int:
        """The kernel's id of the semaphore (what ``ipcs -s`` lists and ``ipcrm -s`` takes)."""
        return int(self._semaphore.id)

    @property
    def free(self) -> int:
        return int(self._semaphore.value)

    @property
    def waiting(self) -> int:
        """Threads, in any process, blocked waiting for a slot (the kernel's semncnt)."""
        return int(self._semaphore.waiting_for_nonzero)

    def remove(self) -> None:
        """Delete the semaphore (the creating process only, once its workers are gone)."""
        if os.getpid() == self._owner:
            self._semaphore.remove()


def _interrupted(error: sysv_ipc.Error) -> bool:
    """semop() failed with EINTR: after a handled signal, and after a stop signal (kill -STOP, a
    debugger or a sampling profiler attaching) even without a handler (signal(7)). sysv_ipc reports
    EINTR, and only EINTR, as its base ``Error``; every other failure has its own subclass."""
    return type(error) is sysv_ipc.Error
