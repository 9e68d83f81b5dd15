"""Run a long-running loop (``ldap-sync run``, ``notify run``) until SIGTERM or SIGINT, and stop on time.

A service manager waits a while after SIGTERM and then kills: a loop that is killed mid-write loses the
guarantee that a unit of work is either done or not started. So the signal only sets an event; the loop
ends at its next safe point (in a pause at once, otherwise after the item being written), normally within
milliseconds. The loop runs in a worker thread so that the main thread can keep the promise even when
the worker is stuck in I/O that no event can interrupt (a socket read from a directory or mail server
that stopped answering): after ``grace`` seconds it runs ``abandon`` (e.g. release a lease, so another
instance takes over at once) and returns; the worker, a daemon thread, ends with the process, and the
transaction it had open, if any, is rolled back by the database when its connection closes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_SECONDS = 1.5  # within the 2 s a stop may take, with room for the interpreter's exit


def run_until_stopped(
    work: Callable[[threading.Event], None],
    *,
    name: str,
    grace: float = GRACE_SECONDS,
    abandon: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Call ``work(stop)`` in a thread; SIGTERM/SIGINT set ``stop``; return when it ends or grace is up."""
    stop = stop or threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    worker.start()
    while worker.is_alive() and not stop.is_set():
        worker.join(0.1)  # short joins: the signal handler runs in this thread between them
    if not worker.is_alive():
        return
    asked = time.monotonic()
    worker.join(grace)
    if worker.is_alive():
        log.warning(
            "%s: still busy %.1f s after the stop request (waiting on I/O); leaving without it",
            name,
            time.monotonic() - asked,
        )
        if abandon is not None:
            try:
                abandon()
            except Exception:  # the process is leaving anyway; the log says why
                log.exception("%s: cleanup on stop failed", name)
