"""Keep the bridge's lock and contact state consistent with an LDAP directory: one realm's sync.

:class:`LdapSync` puts the parts together (docs/ldap-sync.md): ``connection`` (ldap3, failover),
``resolvers`` (entry → Keycloak user id), ``lease`` (one leader per realm), ``poll`` (change detection,
watermark), ``reconcile`` (full pass, deletes), ``apply`` (one entry through the service), ``writeback``
(bridge → directory), ``run`` (the loop of ``ldap-sync run``) and ``cli``. A pass is: lease, poll or full
reconcile when due, then write-backs; a failed try is retried with backoff from the unchanged watermark.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bridge.ldap import poll as polling
from bridge.ldap import writeback
from bridge.ldap.apply import Applier
from bridge.ldap.connection import DirectoryUnavailable, LdapDirectory
from bridge.ldap.context import SyncContext
from bridge.ldap.entries import AccountReader, EntryStore
from bridge.ldap.lease import Lease
from bridge.ldap.profiles import profile_for
from bridge.ldap.reconcile import reconcile
from bridge.ldap.resolvers import Resolver, StaticResolver
from bridge.ldap.run import RETRY_DELAYS, RunLoop, retry_delay
from bridge.ldap.state import ERRORS, JobState, PassResult, Stopping, log, mark_success, parse_iso
from bridge.settings import Settings
from bridge.store.db import utcnow


class LdapSync:
    """One realm's sync. ``run_once`` is a full pass (lease, poll or reconcile, write-backs), retried."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        service: Any,
        resolver: Resolver,
        *,
        directory: LdapDirectory | None = None,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not settings.ldap_realm:
            raise ValueError(
                "BACKUP_CODES_LDAP_REALM is empty: which Keycloak realm do the directory users log in to?"
            )
        self.engine = engine
        self.settings = settings
        self.service = service
        self.realm = settings.ldap_realm
        self.profile = profile_for(settings.ldap_profile)
        self.directory = directory or LdapDirectory(settings, self.profile)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.retry_delays = retry_delays
        self.sleep = sleep or self._pause
        self.lease_name = f"ldap-sync-lease:{self.realm}"
        self.ctx = SyncContext(
            engine=engine,
            settings=settings,
            realm=self.realm,
            profile=self.profile,
            directory=self.directory,
            reader=AccountReader(settings, self.profile, self.directory),
            entries=EntryStore(engine, self.realm),
            state=JobState(engine, f"ldap-sync:{self.realm}", clock),
            lease=Lease(engine, self.lease_name, self.owner, settings.ldap_poll_seconds, clock),
            clock=clock,
        )
        self.applier = Applier(self.ctx, service, resolver)

    @property
    def stop_event(self) -> threading.Event:
        """``run_forever``'s; a set event ends a pass at a safe point."""
        return self.ctx.stop_event

    # -------------------------------------------------------------- lease

    def acquire_lease(self) -> bool:
        """Take or renew the lease; False while another live instance holds it."""
        return self.ctx.lease.acquire()

    def release_lease(self) -> None:
        self.ctx.lease.release()

    # -------------------------------------------------------------- passes

    def run_once(self, *, full: bool | None = None, attempts: int | None = None) -> PassResult:
        """Poll (or fully reconcile when due, or first time), then write back; retried with backoff.

        A failed attempt leaves the watermark where it was, so the retry re-reads the same changes and
        the fingerprints make re-applying them a no-op.
        """
        retries = len(self.retry_delays) if attempts is None else max(attempts - 1, 0)
        for failures in range(1, retries + 2):
            try:
                return self._pass(full)
            except DirectoryUnavailable as exc:
                ERRORS.labels("directory").inc()
                self.ctx.state.record_error(str(exc))
                self.directory.close()
                if failures > retries:
                    raise
                delay = retry_delay(failures, self.settings.ldap_poll_seconds, self.retry_delays)
                log.warning("ldap-sync: %s; retrying in %.1f s", exc, delay)
                self.sleep(delay)
        raise AssertionError("unreachable")

    def _pause(self, seconds: float) -> None:
        """Sleep that a stop request cuts short (and then ends the pass)."""
        if self.stop_event.wait(seconds):
            raise Stopping()

    def _pass(self, full: bool | None) -> PassResult:
        self.applier.discard_pending()
        self.ctx.reader.forget_policies()  # policies may change between passes
        result = self.reconcile() if self._full_due(full) else self.poll()
        result.written_back += self.push_unlocks()
        if self.settings.ldap_write_locks:
            result.written_back += self.push_locks()
        self.ctx.state.save(
            {
                "last_success": self.ctx.clock().isoformat(),
                "last_mode": result.mode,
                "last_counts": result.counts(),
                "last_error": None,
            }
        )
        mark_success()
        return result

    def _full_due(self, full: bool | None) -> bool:
        """Asked for, or the first pass, or ``ldap_full_reconcile_seconds`` since the last full one."""
        if full is not None:
            return full
        state = self.ctx.state.load()
        last_full = parse_iso(state.get("last_full"))
        return (
            not state.get("hwm")
            or last_full is None
            or (self.ctx.clock() - last_full).total_seconds() >= self.settings.ldap_full_reconcile_seconds
        )

    def poll(self) -> PassResult:
        """Incremental: entries modified since the watermark (a full reconcile when there is none yet)."""
        state = self.ctx.state.load()
        if not state.get("hwm"):
            return self.reconcile()
        return polling.poll(self.ctx, self.applier, state)

    def reconcile(self) -> PassResult:
        """Full: every entry under the base DN (paged), then delete what the directory no longer has."""
        return reconcile(self.ctx, self.applier)

    def push_unlocks(self) -> int:
        return writeback.push_unlocks(self.ctx, self.applier)

    def push_locks(self) -> int:
        return writeback.push_locks(self.ctx)

    # -------------------------------------------------------------- loop and status

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Poll every ``ldap_poll_seconds`` while holding the lease; a standby instance just waits.

        A directory that cannot be reached is tried again after :func:`retry_delay` (1, 2, 4 … s, at
        most a poll interval). ``stop`` ends the loop at the next safe point: in a pause at once, in a
        pass after the entry being applied; the lease is released on the way out.
        """
        if stop is not None:
            self.ctx.stop_event = stop
        try:
            RunLoop(self.ctx, lambda: self.run_once(attempts=1), self.retry_delays).run()
        finally:
            self.ctx.stop_event = threading.Event()  # a later run_once (tests, ``once``) is not stopped

    def status(self) -> dict[str, Any]:
        """What ``ldap-sync status`` prints: read from the database only (works with the directory down)."""
        state = self.ctx.state.load()
        now = self.ctx.clock()
        owner, lease_until = self.ctx.lease.holder()
        mapped, locked = self.ctx.entries.counts()
        last_success = parse_iso(state.get("last_success"))
        return {
            "realm": self.realm,
            "profile": self.profile.name,
            "last_success": state.get("last_success"),
            "lag_seconds": round((now - last_success).total_seconds(), 1) if last_success else None,
            "last_full_reconcile": state.get("last_full"),
            "watermark": state.get("hwm"),
            "last_mode": state.get("last_mode"),
            "last_counts": state.get("last_counts") or {},
            "entries_mapped": mapped,
            "entries_locked": locked,
            "last_error": state.get("last_error"),
            "last_error_at": state.get("last_error_at"),
            "leader": owner if lease_until and lease_until > now else None,
            "lease_until": lease_until.isoformat() if lease_until else None,
        }


__all__ = ["LdapSync", "PassResult", "StaticResolver"]
