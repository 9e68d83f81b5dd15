"""The run loop of ``ldap-sync run``: poll every interval while holding the lease, back off on failures.

A directory that cannot be reached is tried again after :func:`retry_delay`; a database that cannot
answer only pauses the loop (a PostgreSQL restart or failover must not end the sync); a stop request
ends it at the next safe point and releases the lease on the way out.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from ldap3.core.exceptions import LDAPException
from sqlalchemy.exc import OperationalError

from bridge.ldap.connection import DirectoryUnavailable
from bridge.ldap.context import SyncContext
from bridge.ldap.lease import LeaseLost
from bridge.ldap.state import ERRORS, Stopping, database_unavailable, log

RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16, 30, 60)


def retry_delay(failures: int, poll_seconds: float, delays: tuple[float, ...] = RETRY_DELAYS) -> float:
    """Pause after the ``failures``-th failed attempt in a row: 1, 2, 4 … 60 s, never longer than a poll.

    The cap is what lets a directory that comes back be read within one poll interval, as if it had
    never been away; below it, the pauses double so a long outage is not hammered.
    """
    if failures < 1 or not delays:
        return 0.0
    return min(delays[min(failures, len(delays)) - 1], poll_seconds)


class RunLoop:
    """Polls at a fixed rate (a change waits at most one interval); ``one_pass`` is one try of a pass."""

    def __init__(
        self, ctx: SyncContext, one_pass: Callable[[], object], retry_delays: tuple[float, ...]
    ) -> None:
        self.ctx = ctx
        self.one_pass = one_pass
        self.retry_delays = retry_delays
        self.failures = 0

    def run(self) -> None:
        """Until ``ctx.stop_event`` is set; the lease is released and the connection closed at the end."""
        stop = self.ctx.stop_event
        wake = threading.Event()
        log.info(
            "ldap-sync: running for realm %s, polling every %s s",
            self.ctx.realm,
            self.ctx.settings.ldap_poll_seconds,
        )
        try:
            start_change_listener(self.ctx, wake, stop)
            while not stop.is_set():
                try:
                    started, pause = self._turn()
                except Stopping:
                    break
                deadline = started + pause
                while not (stop.is_set() or wake.is_set()) and time.monotonic() < deadline:
                    stop.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                wake.clear()
        finally:
            with contextlib.suppress(OperationalError):  # the lease runs out by itself
                self.ctx.lease.release()
            self.ctx.directory.close()
            log.info("ldap-sync: stopped; lease released")

    def _turn(self) -> tuple[float, float]:
        """One interval's work: a pass if this instance leads. Returns (when the pause starts, its length)."""
        poll_seconds = self.ctx.settings.ldap_poll_seconds
        started = time.monotonic()
        if not self._lease_or_wait():
            return started, poll_seconds
        try:
            self.one_pass()
            self.failures = 0
        except DirectoryUnavailable as exc:
            self.failures += 1
            pause = retry_delay(self.failures, poll_seconds, self.retry_delays)
            log.error("ldap-sync: pass failed: %s; retrying in %.1f s", exc, pause)
            return time.monotonic(), pause  # the pause runs from the failure
        except LeaseLost as exc:
            log.warning("ldap-sync: %s", exc)
        except OperationalError as exc:
            database_unavailable(exc, "pass abandoned")
        except Stopping:
            raise
        except Exception:
            ERRORS.labels("internal").inc()
            self.ctx.state.record_error("internal error (see log)")
            log.exception("ldap-sync: pass failed")
        return started, poll_seconds

    def _lease_or_wait(self) -> bool:
        """The lease, or False (wait for the next interval) while the database cannot answer."""
        try:
            return self.ctx.lease.acquire()
        except OperationalError as exc:
            self.ctx.lease.holding = False
            database_unavailable(exc, "next try in an interval")
            return False


def start_change_listener(ctx: SyncContext, wake: threading.Event, stop: threading.Event) -> None:
    """Where the server offers persistent search, use it as a doorbell; polling still reads the changes.

    A persistent search has no resume cookie, so it cannot replace the watermark: it only makes the
    next poll start early. OpenLDAP does not offer it, and then nothing is started.
    """
    try:
        if not ctx.directory.supports_persistent_search():
            return
    except (LDAPException, DirectoryUnavailable):
        return
    thread = threading.Thread(target=_listen, args=(ctx, wake, stop), name="ldap-psearch", daemon=True)
    thread.start()


def _listen(ctx: SyncContext, wake: threading.Event, stop: threading.Event) -> None:
    from ldap3 import ASYNC_STREAM

    while not stop.is_set():
        try:
            conn = ctx.directory.open(ASYNC_STREAM)
            search = conn.extend.standard.persistent_search(
                ctx.settings.ldap_base_dn,
                ctx.settings.ldap_user_filter,
                attributes=[ctx.reader.names.ldap_id],
                changes_only=True,
                streaming=False,
                controls=None,
            )
            while not stop.is_set():
                if search.next(block=True, timeout=5) is not None:
                    wake.set()
        except Exception as exc:
            log.info("ldap-sync: persistent search ended (%s); polling continues", type(exc).__name__)
            stop.wait(30)
