"""Keep the bridge's lock and contact state consistent with an LDAP directory (ldap3).

Why polling: ldap3 has no RFC 4533 syncrepl and OpenLDAP has no persistent search, so the portable
change feed is ``modifyTimestamp >= watermark`` (reference ldap.md §3). The watermark lives in
``job_state`` and moves only after a batch has been applied; each poll re-reads an overlap window
below it (1 s timestamps, clock skew between replicas) and skips what it already applied (change
marker per entry, then a fingerprint of the synced attributes). Deletes are invisible to polling,
so a periodic full reconcile (paged search) compares the directory with ``directory_entries``.

Direction directory → bridge: lock state (per profile, see ``directory.py``), mail and mobile,
deletion. Direction bridge → directory: a temporary directory lock cleared in the bridge (code-based
recovery) is cleared in the directory too, and optionally a bridge lockout for wrong codes locks the
directory account. Admin locks and disabled accounts are never written away.

Only one bridge instance syncs a realm: a lease row in ``job_state`` (owner, lease_until) is taken with
one conditional UPDATE, so two instances racing for it cannot both win.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ldap3 import (
    AUTO_BIND_NO_TLS,
    AUTO_BIND_TLS_BEFORE_BIND,
    BASE,
    NONE,
    SUBTREE,
    SYNC,
    Connection,
    Server,
    Tls,
)
from ldap3.core.exceptions import LDAPException
from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, and_, delete, exists, or_, select, update
from sqlalchemy.exc import OperationalError

from bridge.ldap.directory import (
    AttributeNames,
    DirectoryAccount,
    LockInfo,
    MalformedEntry,
    PasswordPolicy,
    Profile,
    first_text,
    format_generalized_time,
    parse_generalized_time,
    profile_for,
)
from bridge.settings import Settings
from bridge.store import audit
from bridge.store.db import as_utc, insert_for, unavailable_reason, utcnow
from bridge.store.schema import directory_entries, job_state, locks

log = logging.getLogger(__name__)

ACTOR = "ldap-sync"
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
PERSISTENT_SEARCH_OID = "2.16.840.1.113730.3.4.3"
MAX_SEEN = 50_000  # bound on the de-duplication map kept in job_state

LAG = Gauge("backup_codes_ldap_sync_lag_seconds", "Seconds since the last successful LDAP sync pass")
_last_success = [time.monotonic()]
LAG.set_function(lambda: time.monotonic() - _last_success[0])
SCANNED = Counter("backup_codes_ldap_sync_entries_scanned_total", "Directory entries read", ["mode"])
APPLIED = Counter("backup_codes_ldap_sync_changes_applied_total", "Changes applied", ["change"])
ERRORS = Counter("backup_codes_ldap_sync_errors_total", "Sync errors", ["kind"])


class DirectoryUnavailable(RuntimeError):
    """The directory could not be reached or answered with an error: retry later from the watermark."""


class LeaseLost(RuntimeError):
    """Another instance holds the sync lease now; this one stops its pass (the watermark is untouched)."""


class Stopping(Exception):
    """A stop was asked for: the pass ends at the next safe point (between entries, or in a pause).

    Entries already applied are recorded, the rest of the page is not started, and the watermark stays
    where it was, so the next run reads the page again and the applied entries are no-ops.
    """


RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16, 30, 60)


def retry_delay(failures: int, poll_seconds: float, delays: tuple[float, ...] = RETRY_DELAYS) -> float:
    """Pause after the ``failures``-th failed attempt in a row: 1, 2, 4 … 60 s, never longer than a poll.

    The cap is what lets a directory that comes back be read within one poll interval, as if it had
    never been away; below it, the pauses double so a long outage is not hammered.
    """
    if failures < 1 or not delays:
        return 0.0
    return min(delays[min(failures, len(delays)) - 1], poll_seconds)


# ---------------------------------------------------------------------------------------------
# Identity mapping: directory entry → Keycloak user id


class Resolver(Protocol):
    """Maps a directory account to the Keycloak user id, or None when Keycloak does not know it (yet)."""

    def __call__(self, account: DirectoryAccount) -> str | None: ...


class StaticResolver:
    """A mapping or function from the LDAP id to the user id (tests, scripted migrations)."""

    def __init__(self, mapping: Mapping[str, str] | Callable[[str], str | None]) -> None:
        self._lookup = mapping.get if isinstance(mapping, Mapping) else mapping

    def __call__(self, account: DirectoryAccount) -> str | None:
        return self._lookup(account.ldap_id)


class FederationIdResolver:
    """Keycloak without "Import users": a federated user's id is ``f:<provider component id>:<LDAP id>``."""

    def __init__(self, component_id: str) -> None:
        if not component_id:
            raise ValueError(
                "BACKUP_CODES_LDAP_FEDERATION_COMPONENT_ID is required for ldap_resolver=federation-id"
            )
        self.component_id = component_id

    def __call__(self, account: DirectoryAccount) -> str | None:
        return f"f:{self.component_id}:{account.ldap_id}"


class KeycloakUserResolver:
    """Keycloak with imported LDAP users: find the user whose ``LDAP_ID`` attribute is the entry's id.

    Keycloak's LDAP federation stores the directory's id attribute (entryUUID, objectGUID…) as the
    user attribute ``LDAP_ID`` next to the ``federationLink``; the admin API's ``q=LDAP_ID:<value>``
    searches it. A match must carry exactly this value (``q`` is a search, not an equality test), and
    never the display name. Results are cached; once mapped, ``directory_entries`` remembers the id.
    """

    def __init__(self, admin: Any, *, attribute: str = "LDAP_ID", cache_size: int = 10_000) -> None:
        self.admin = admin
        self.attribute = attribute
        self.cache_size = cache_size
        self._cache: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> KeycloakUserResolver:
        from keycloak import KeycloakAdmin  # imported lazily: only this resolver needs python-keycloak

        if not (settings.keycloak_url and settings.keycloak_admin_username and settings.ldap_realm):
            raise ValueError(
                "BACKUP_CODES_KEYCLOAK_URL, _KEYCLOAK_ADMIN_USERNAME and _LDAP_REALM are required"
            )
        admin = KeycloakAdmin(
            server_url=settings.keycloak_url,
            username=settings.keycloak_admin_username,
            password=settings.keycloak_admin_password,
            realm_name=settings.ldap_realm,
            user_realm_name="master",
        )
        return cls(admin)

    def __call__(self, account: DirectoryAccount) -> str | None:
        cached = self._cache.get(account.ldap_id)
        if cached:
            return cached
        users = self.admin.get_users(
            {"q": f"{self.attribute}:{account.ldap_id}", "briefRepresentation": "false", "max": 5, "first": 0}
        )
        matches = [
            user
            for user in users
            if account.ldap_id in (user.get("attributes") or {}).get(self.attribute, [])
        ]
        if len(matches) != 1:
            if len(matches) > 1:
                log.error(
                    "ldap-sync: %d Keycloak users carry %s=%s; not mapping it",
                    len(matches),
                    self.attribute,
                    account.ldap_id,
                )
            return None
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[account.ldap_id] = matches[0]["id"]
        return str(matches[0]["id"])


def resolver_from_settings(settings: Settings) -> Resolver:
    if settings.ldap_resolver == "federation-id":
        return FederationIdResolver(settings.ldap_federation_component_id)
    if settings.ldap_resolver == "keycloak":
        return KeycloakUserResolver.from_settings(settings)
    raise ValueError(f"BACKUP_CODES_LDAP_RESOLVER: unknown resolver {settings.ldap_resolver!r}")


# ---------------------------------------------------------------------------------------------
# Directory I/O


Entry = tuple[str, Mapping[str, list[bytes]]]


class LdapDirectory:
    """ldap3 access: one bound connection, failover over the configured URLs, paged searches, modifies."""

    def __init__(self, settings: Settings, profile: Profile) -> None:
        urls = [url.strip() for url in settings.ldap_url.split(",") if url.strip()]
        if not urls:
            raise ValueError("BACKUP_CODES_LDAP_URL is empty")
        if not settings.ldap_base_dn:
            raise ValueError("BACKUP_CODES_LDAP_BASE_DN is empty")
        self.settings = settings
        self.profile = profile
        self.timeout = settings.ldap_timeout_seconds
        self.urls = urls
        self._tls_config = self._tls(settings)
        # Failover is ours, not ldap3's: a ServerPool with ``active`` sleeps POOLING_LOOP_TIMEOUT (10 s)
        # after a cycle of servers that refuse, whatever the connect timeout says (issue 16).
        self.connect_attempts = 0  # one per server tried; what tests count instead of timing
        self._conn: Connection | None = None

    @staticmethod
    def _tls(settings: Settings) -> Tls | None:
        uses_tls = settings.ldap_start_tls or "ldaps://" in settings.ldap_url.lower()
        if not uses_tls:
            return None
        return Tls(
            validate=ssl.CERT_REQUIRED,
            version=ssl.PROTOCOL_TLS_CLIENT,
            ca_certs_file=settings.ldap_ca_file or None,
        )

    def _server(self, url: str) -> Server:
        """A new Server per try: a reused one remembers a refused address as unavailable for ldap3's
        RESET_AVAILABILITY_TIMEOUT (5 s) and fails at once with "invalid server address"."""
        return Server(
            url,
            use_ssl=url.lower().startswith("ldaps://"),
            tls=self._tls_config,
            get_info=NONE,
            connect_timeout=self.timeout,
        )

    def connection(self) -> Connection:
        if self._conn is not None and self._conn.bound and not self._conn.closed:
            return self._conn
        self.close()
        self._conn = self.open(SYNC)
        return self._conn

    def open(self, strategy: str = SYNC) -> Connection:
        """A bound connection to the first URL that answers, trying each once, in order.

        Each try is bounded by ``ldap_timeout_seconds`` (connect and bind), so a directory that refuses or
        does not answer costs at most that per URL, and then the caller's backoff decides when to come
        back. Staying on the first healthy server keeps the watermark on one server's clock.
        """
        failures = []
        for server in map(self._server, self.urls):
            self.connect_attempts += 1
            try:
                return Connection(
                    server,
                    self.settings.ldap_bind_dn or None,
                    self.settings.ldap_bind_password or None,
                    client_strategy=strategy,
                    auto_bind=AUTO_BIND_TLS_BEFORE_BIND if self.settings.ldap_start_tls else AUTO_BIND_NO_TLS,
                    receive_timeout=max(1, math.ceil(self.timeout)),  # ldap3 packs it as an integer
                    raise_exceptions=False,
                    read_only=False,
                )
            except (LDAPException, OSError) as exc:
                failures.append(f"{server.name}: {type(exc).__name__}: {exc}")
        raise DirectoryUnavailable("cannot bind: " + "; ".join(failures))

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead socket is what we are cleaning up after
                self._conn.unbind()
            self._conn = None

    def pages(self, search_filter: str, attributes: list[str]) -> Iterator[list[Entry]]:
        """Paged subtree search under the base DN, one list of entries per page."""
        cookie: bytes | None = None
        while True:
            conn = self.connection()
            try:
                conn.search(
                    self.settings.ldap_base_dn,
                    search_filter,
                    SUBTREE,
                    attributes=attributes,
                    paged_size=self.settings.ldap_page_size,
                    paged_cookie=cookie,
                )
            except (LDAPException, OSError) as exc:
                self.close()
                raise DirectoryUnavailable(f"search failed: {type(exc).__name__}: {exc}") from None
            result = conn.result or {}
            if result.get("result") not in (0, None):
                self.close()
                raise DirectoryUnavailable(
                    f"search failed: {result.get('description')} {result.get('message')}"
                )
            yield [
                (item["dn"], item["raw_attributes"])
                for item in (conn.response or [])
                if item.get("type") == "searchResEntry"
            ]
            cookie = (result.get("controls") or {}).get(PAGED_RESULTS_OID, {}).get("value", {}).get("cookie")
            if not cookie:
                return

    def read(self, dn: str, attributes: Iterable[str]) -> Mapping[str, list[bytes]] | None:
        conn = self.connection()
        try:
            conn.search(dn, "(objectClass=*)", BASE, attributes=list(attributes))
        except (LDAPException, OSError) as exc:
            self.close()
            raise DirectoryUnavailable(f"read failed: {type(exc).__name__}: {exc}") from None
        code = (conn.result or {}).get("result")
        if code == 32:  # noSuchObject
            return None
        if code != 0:
            raise DirectoryUnavailable(f"read of {dn} failed: {(conn.result or {}).get('description')}")
        entries = [item for item in conn.response or [] if item.get("type") == "searchResEntry"]
        return entries[0]["raw_attributes"] if entries else None

    def modify(self, dn: str, changes: dict[str, list[tuple[str, list[str]]]]) -> tuple[bool, str]:
        """Apply a modify; (ok, description). A precondition miss (value gone) is not an outage."""
        conn = self.connection()
        try:
            ok = conn.modify(dn, changes)
        except (LDAPException, OSError) as exc:
            self.close()
            raise DirectoryUnavailable(f"modify failed: {type(exc).__name__}: {exc}") from None
        return bool(ok), str((conn.result or {}).get("description", ""))

    def supports_persistent_search(self) -> bool:
        """Root DSE check: only then may a persistent search be used (OpenLDAP: never)."""
        conn = self.connection()
        conn.search("", "(objectClass=*)", BASE, attributes=["supportedControl"])
        entries = [item for item in conn.response or [] if item.get("type") == "searchResEntry"]
        if not entries:
            return False
        controls = entries[0]["raw_attributes"].get("supportedControl") or []
        return PERSISTENT_SEARCH_OID.encode() in controls


# ---------------------------------------------------------------------------------------------
# Sync


@dataclass
class PassResult:
    """What one poll or reconcile did (also what ``status`` reports as the last counts)."""

    mode: str
    scanned: int = 0
    applied: int = 0
    skipped_unchanged: int = 0
    unmapped: int = 0
    malformed: int = 0
    deleted: int = 0
    written_back: int = 0
    changes: dict[str, int] = field(default_factory=dict)

    def count(self, change: str) -> None:
        self.changes[change] = self.changes.get(change, 0) + 1
        APPLIED.labels(change).inc()


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _database_unavailable(error: OperationalError, consequence: str) -> None:
    """One counted log line, not a trace: the sync outlives a database restart or failover."""
    ERRORS.labels("database").inc()
    log.error("ldap-sync: database unavailable, %s: %s", consequence, unavailable_reason(error))


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
        self.resolver = resolver
        self.realm = settings.ldap_realm
        self.profile = profile_for(settings.ldap_profile)
        self.names: AttributeNames = self.profile.attribute_names(
            ldap_id=settings.ldap_id_attribute,
            username=settings.ldap_username_attribute,
            mail=settings.ldap_mail_attribute,
            mobile=settings.ldap_mobile_attribute,
        )
        self.directory = directory or LdapDirectory(settings, self.profile)
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.retry_delays = retry_delays
        self.stop_event = threading.Event()  # run_forever's; a set event ends a pass at a safe point
        self.sleep = sleep or self._pause
        self.overlap = timedelta(seconds=settings.ldap_poll_overlap_seconds)
        self.state_name = f"ldap-sync:{self.realm}"
        self.lease_name = f"ldap-sync-lease:{self.realm}"
        self._policies: dict[str, PasswordPolicy | None] = {}
        self._holding = False
        self._pending: dict[str, dict[str, Any]] = {}

    # -------------------------------------------------------------- attributes and parsing

    @property
    def attributes(self) -> list[str]:
        wanted = [
            self.names.ldap_id,
            self.names.username,
            self.names.mail,
            self.names.mobile,
            "modifyTimestamp",
            self.profile.change_marker_attribute,
            *self.profile.lock_attributes,
        ]
        return list(dict.fromkeys(wanted))

    def _policy(self, dn: str) -> PasswordPolicy | None:
        if dn not in self._policies:
            raw = (
                self.directory.read(dn, self.profile.policy_attributes)
                if self.profile.policy_attributes
                else None
            )
            if raw is None and self.profile.policy_attributes:
                log.warning("ldap-sync: lockout policy %s not readable; its locks count as admin locks", dn)
            self._policies[dn] = self.profile.parse_policy(raw) if raw is not None else None
        return self._policies[dn]

    def _parse(self, dn: str, raw: Mapping[str, list[bytes]], now: datetime) -> DirectoryAccount:
        policy_dn = self.profile.policy_dn(raw, self.settings.ldap_default_policy_dn)
        policies = (
            {policy_dn: self._policy(policy_dn)} if policy_dn and self.profile.policy_attributes else {}
        )
        return self.profile.parse(
            dn,
            raw,
            self.names,
            policies=policies,
            default_policy_dn=self.settings.ldap_default_policy_dn,
            now=now,
        )

    # -------------------------------------------------------------- job_state

    def _load_state(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(job_state.c.value).where(job_state.c.name == self.state_name)).first()
        return dict(row.value) if row and row.value else {}

    def _save_state(self, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into the state row (one transaction: read, merge, write)."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(select(job_state.c.value).where(job_state.c.name == self.state_name)).first()
            value = dict(row.value) if row and row.value else {}
            value.update(updates)
            stmt = insert_for(conn, job_state).values(name=self.state_name, value=value, updated_at=now)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[job_state.c.name],
                    set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
                )
            )

    # -------------------------------------------------------------- leader lease

    @property
    def lease_seconds(self) -> float:
        return max(60.0, 3 * self.settings.ldap_poll_seconds)

    def acquire_lease(self) -> bool:
        """Take or renew the lease; False while another live instance holds it."""
        now = self.clock()
        until = now + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:
            conn.execute(
                insert_for(conn, job_state)
                .values(name=self.lease_name, value={}, owner=None, lease_until=None, updated_at=now)
                .on_conflict_do_nothing(index_elements=[job_state.c.name])
            )
            taken = conn.execute(
                update(job_state)
                .where(
                    job_state.c.name == self.lease_name,
                    or_(
                        job_state.c.owner == self.owner,
                        job_state.c.owner.is_(None),
                        job_state.c.lease_until.is_(None),
                        job_state.c.lease_until < now,
                    ),
                )
                .values(owner=self.owner, lease_until=until, updated_at=now)
            ).rowcount
        self._holding = taken == 1
        return self._holding

    def _keep_lease(self) -> None:
        """Renew a held lease between pages, so a long reconcile is not taken over halfway."""
        if self._holding and not self.acquire_lease():
            raise LeaseLost(f"another instance took the {self.lease_name} lease; stopping this pass")

    def release_lease(self) -> None:
        self._holding = False
        with self.engine.begin() as conn:
            conn.execute(
                update(job_state)
                .where(job_state.c.name == self.lease_name, job_state.c.owner == self.owner)
                .values(owner=None, lease_until=None, updated_at=self.clock())
            )

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
                self._record_error(str(exc))
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

    def _check_stop(self) -> None:
        """A safe point: record the entries applied so far, then end the pass if a stop was asked for."""
        if self.stop_event.is_set():
            self._flush()
            raise Stopping()

    def _pass(self, full: bool | None) -> PassResult:
        # Entries queued by an abandoned pass are not written later over what a newer pass (or the
        # instance that took the lease over) recorded; they are read and applied again instead, which
        # the service treats as a no-op.
        self._pending.clear()
        state = self._load_state()
        self._policies = {}  # policies may change between passes
        due = full
        if due is None:
            last_full = _parse_iso(state.get("last_full"))
            due = (
                not state.get("hwm")
                or last_full is None
                or (self.clock() - last_full).total_seconds() >= self.settings.ldap_full_reconcile_seconds
            )
        result = self.reconcile() if due else self.poll()
        result.written_back += self.push_unlocks()
        if self.settings.ldap_write_locks:
            result.written_back += self.push_locks()
        now = self.clock()
        self._save_state(
            {
                "last_success": now.isoformat(),
                "last_mode": result.mode,
                "last_counts": {
                    "scanned": result.scanned,
                    "applied": result.applied,
                    "unchanged": result.skipped_unchanged,
                    "unmapped": result.unmapped,
                    "malformed": result.malformed,
                    "deleted": result.deleted,
                    "written_back": result.written_back,
                    **{f"change_{k}": v for k, v in result.changes.items()},
                },
                "last_error": None,
            }
        )
        _last_success[0] = time.monotonic()
        return result

    def _record_error(self, message: str) -> None:
        try:
            self._save_state({"last_error": message[:500], "last_error_at": self.clock().isoformat()})
        except Exception:  # the database may be the thing that is down; the log still has it
            log.exception("ldap-sync: cannot record the error in job_state")

    def poll(self) -> PassResult:
        """Incremental: entries modified since the watermark (minus the overlap window)."""
        started = self.clock()
        state = self._load_state()
        if not state.get("hwm"):
            return self.reconcile()
        hwm = parse_generalized_time(state["hwm"])
        seen: dict[str, list[str]] = dict(state.get("seen") or {})
        since = poll_window_start(hwm, _parse_iso(state.get("polled_at")), self.overlap)
        search_filter = (
            f"(&{self.settings.ldap_user_filter}(modifyTimestamp>={format_generalized_time(since)}))"
        )
        result = PassResult("poll")
        max_seen = hwm
        touched: dict[str, list[str]] = {}
        for page in self.directory.pages(search_filter, self.attributes):
            self._keep_lease()
            known = self._known_rows(page)
            for dn, raw in page:
                self._check_stop()
                result.scanned += 1
                SCANNED.labels("poll").inc()
                marker, modified = self._markers(raw)
                ldap_id = self._raw_id(raw)
                if modified and modified > max_seen:
                    max_seen = modified
                if ldap_id is None:
                    self._malformed(dn, "no id attribute", result)
                    continue
                stamp = [marker or "", format_generalized_time(modified) if modified else ""]
                touched[ldap_id] = stamp
                if marker and seen.get(ldap_id) == stamp:
                    result.skipped_unchanged += 1
                    continue
                self._apply_entry(dn, raw, known.get(ldap_id), result)
            self._flush()
        new_hwm = self._next_watermark(hwm, max_seen, started)
        seen.update(touched)
        floor = format_generalized_time(poll_window_start(new_hwm, started, self.overlap))
        kept = {key: value for key, value in seen.items() if value[1] and value[1] >= floor}
        self._save_state(
            {
                "hwm": format_generalized_time(new_hwm),
                "seen": _bounded(kept),
                "polled_at": started.isoformat(),
            }
        )
        return result

    def reconcile(self) -> PassResult:
        """Full: every entry under the base DN (paged), then delete what the directory no longer has."""
        started = self.clock()
        result = PassResult("full")
        with self.engine.connect() as conn:
            known = {
                row.ldap_id: row
                for row in conn.execute(
                    select(directory_entries).where(directory_entries.c.realm == self.realm)
                )
            }
        present: set[str] = set()
        max_seen: datetime | None = None
        touched: dict[str, list[str]] = {}
        for page in self.directory.pages(self.settings.ldap_user_filter, self.attributes):
            self._keep_lease()
            for dn, raw in page:
                self._check_stop()
                result.scanned += 1
                SCANNED.labels("full").inc()
                ldap_id = self._raw_id(raw)
                marker, modified = self._markers(raw)
                if modified and (max_seen is None or modified > max_seen):
                    max_seen = modified
                if ldap_id is None:
                    self._malformed(dn, "no id attribute", result)
                    continue
                present.add(ldap_id)  # even if malformed below: it exists, so it must not be deleted
                touched[ldap_id] = [marker or "", format_generalized_time(modified) if modified else ""]
                self._apply_entry(dn, raw, known.get(ldap_id), result)
            self._flush()
        gone = [row for ldap_id, row in known.items() if ldap_id not in present]
        if gone and not present:
            ERRORS.labels("reconcile_empty").inc()
            raise DirectoryUnavailable(
                f"full reconcile saw no entries under {self.settings.ldap_base_dn}; refusing to delete "
                f"{len(gone)} users (check the base DN, filter and the service account's read access)"
            )
        for row in gone:
            self._check_stop()
            self._delete(row, result)
        state = self._load_state()
        old_hwm = parse_generalized_time(state["hwm"]) if state.get("hwm") else None
        new_hwm = self._next_watermark(old_hwm, max_seen, started)
        floor = format_generalized_time(poll_window_start(new_hwm, started, self.overlap))
        kept = {key: value for key, value in touched.items() if value[1] and value[1] >= floor}
        self._save_state(
            {
                "hwm": format_generalized_time(new_hwm),
                "seen": _bounded(kept),
                "polled_at": started.isoformat(),
                "last_full": self.clock().isoformat(),
            }
        )
        return result

    def _next_watermark(self, old: datetime | None, max_seen: datetime | None, started: datetime) -> datetime:
        """Never past the pass's start: a change made while paging may be older than a later page's stamp."""
        candidate = min(max_seen, started) if max_seen else started
        if old is not None and candidate < old:
            return old
        return candidate

    # -------------------------------------------------------------- applying one entry

    def _raw_id(self, raw: Mapping[str, list[bytes]]) -> str | None:
        try:
            return self.profile.read_id(raw, self.names.ldap_id)
        except MalformedEntry:
            return None

    def _markers(self, raw: Mapping[str, list[bytes]]) -> tuple[str | None, datetime | None]:
        try:
            marker = first_text(raw, self.profile.change_marker_attribute)
            stamp = first_text(raw, "modifyTimestamp")
            return marker or stamp, parse_generalized_time(stamp) if stamp else None
        except MalformedEntry:
            return None, None

    def _known_rows(self, page: list[Entry]) -> dict[str, Any]:
        ids = [i for i in (self._raw_id(raw) for _, raw in page) if i]
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(directory_entries).where(directory_entries.c.ldap_id.in_(ids)))
            return {row.ldap_id: row for row in rows if row.realm == self.realm}

    def _malformed(self, dn: str, reason: str, result: PassResult) -> None:
        result.malformed += 1
        ERRORS.labels("malformed").inc()
        log.warning("ldap-sync: skipped malformed entry %s: %s", dn, reason)

    def _apply_entry(self, dn: str, raw: Mapping[str, list[bytes]], row: Any, result: PassResult) -> None:
        try:
            account = self._parse(dn, raw, self.clock())
        except MalformedEntry as exc:
            self._malformed(dn, str(exc), result)
            return
        try:
            self.apply(account, row, result)
        except (DirectoryUnavailable, OperationalError):
            # Not this entry's fault: skipping it would let the watermark move past its change. The
            # pass is abandoned and the next one reads the entry again.
            raise
        except Exception as exc:  # one bad entry never stops the sync
            ERRORS.labels("apply").inc()
            log.exception("ldap-sync: could not apply %s: %s", dn, type(exc).__name__)

    def apply(self, account: DirectoryAccount, row: Any, result: PassResult) -> None:
        """Bring the bridge in line with one directory account; no-op when the fingerprint is unchanged."""
        fingerprint = account.fingerprint()
        if row is not None and row.fingerprint == fingerprint:
            result.skipped_unchanged += 1
            return
        user_id = row.user_id if row is not None else self.resolver(account)
        if not user_id:
            result.unmapped += 1
            log.info("ldap-sync: no Keycloak user for %s=%s yet", self.names.ldap_id, account.ldap_id)
            return
        previous: dict[str, Any] = dict(row.state or {}) if row is not None else {}
        self._apply_lock(user_id, account.lock, previous, result)
        self._apply_contact(user_id, account, previous, result)
        self._store(account, user_id, fingerprint)
        result.applied += 1

    def _apply_lock(self, user_id: str, lock: LockInfo, previous: dict[str, Any], result: PassResult) -> None:
        state = {
            k: v
            for k, v in DirectoryAccount("", "", None, None, None, lock).synced_state().items()
            if k.startswith("lock_")
        }
        if previous and all(previous.get(k) == v for k, v in state.items()):
            return
        if not lock.locked:
            if previous.get("lock_kind") not in (None, "none"):
                self.service.clear_lock(
                    self.realm,
                    user_id,
                    source="directory",
                    actor=ACTOR,
                    reason="directory lock cleared",
                    allow_permanent=True,
                )
                result.count("unlocked")
            return
        kind = "temporary" if lock.kind == "temporary" else "permanent"
        try:
            self.service.set_lock(
                self.realm,
                user_id,
                source="directory",
                kind=kind,
                reason=lock.reason,
                actor=ACTOR,
                expires_at=lock.expires_at if kind == "temporary" else None,
            )
        except ValueError:  # the temporary lock ran out between parsing and applying
            return
        result.count("locked")

    def _apply_contact(
        self, user_id: str, account: DirectoryAccount, previous: dict[str, Any], result: PassResult
    ) -> None:
        if previous and (previous.get("email"), previous.get("mobile")) == (account.email, account.mobile):
            return
        current = self.service.get_contact(self.realm, user_id)
        if current is None and not (account.email or account.mobile):
            return
        try:
            self.service.set_contact(
                self.realm,
                user_id,
                email=account.email,
                phone=account.mobile,
                locale=current.locale if current else None,
                display_name=current.display_name if current else None,
                source="directory",
                actor=ACTOR,
            )
        except ValueError as exc:  # a mail or mobile value the bridge cannot accept: keep the old contact
            ERRORS.labels("malformed").inc()
            log.warning("ldap-sync: contact of %s not applied: %s", account.dn, exc)
            return
        result.count("contact")

    def _store(self, account: DirectoryAccount, user_id: str, fingerprint: str) -> None:
        """Queue the entry's new state; :meth:`_flush` writes a page of them in one transaction.

        The service calls for the entry have committed already; if the pass dies before the flush, the
        entry is applied again next time, which the service treats as a no-op.
        """
        self._pending[account.ldap_id] = {
            "ldap_id": account.ldap_id,
            "realm": self.realm,
            "user_id": user_id,
            "dn": account.dn,
            "fingerprint": fingerprint,
            "seen_at": self.clock(),
            "state": account.synced_state(),
            "lock_kind": account.lock.kind,
            "lock_expires_at": account.lock.expires_at,
        }

    def _flush(self) -> None:
        if not self._pending:
            return
        rows = list(self._pending.values())
        with self.engine.begin() as conn:
            stmt = insert_for(conn, directory_entries)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[directory_entries.c.ldap_id],
                    set_={name: stmt.excluded[name] for name in rows[0] if name != "ldap_id"},
                ),
                rows,
            )
        self._pending.clear()

    def _delete(self, row: Any, result: PassResult) -> None:
        log.info(
            "ldap-sync: %s is gone from the directory; deleting user %s's codes and contacts",
            row.dn,
            row.user_id,
        )
        self.service.delete_user(self.realm, row.user_id, actor=ACTOR)
        with self.engine.begin() as conn:
            conn.execute(delete(directory_entries).where(directory_entries.c.ldap_id == row.ldap_id))
        result.deleted += 1
        result.count("deleted")

    # -------------------------------------------------------------- bridge → directory

    def push_unlocks(self) -> int:
        """Temporary directory locks the bridge has cleared (code-based recovery) are cleared there too.

        Found as: ``directory_entries`` says a temporary lock is still running, but the bridge holds no
        ``directory`` lock row for the user any more. The exact lock value is deleted, so a lock that an
        admin replaced meanwhile (or made permanent) is left alone.
        """
        if not self.settings.ldap_write_unlocks:
            return 0
        now = self.clock()
        lock_row = exists().where(
            and_(
                locks.c.realm == directory_entries.c.realm,
                locks.c.user_id == directory_entries.c.user_id,
                locks.c.source == "directory",
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(directory_entries).where(
                    directory_entries.c.realm == self.realm,
                    directory_entries.c.lock_kind == "temporary",
                    directory_entries.c.lock_expires_at > now,
                    ~lock_row,
                )
            ).all()
        written = 0
        for row in rows:
            self._check_stop()
            written += self._unlock_in_directory(row, now)
        return written

    def _unlock_in_directory(self, row: Any, now: datetime) -> int:
        raw = self.directory.read(row.dn, self.attributes)
        if raw is None:
            return 0  # gone: the next reconcile deletes it
        try:
            account = self._parse(row.dn, raw, now)
        except MalformedEntry:
            return 0
        applied_value = (row.state or {}).get("lock_value")
        changes = self.profile.unlock_changes(account.lock)
        result = PassResult("writeback")
        if changes is None or account.lock.value != applied_value:
            # Not the lock the bridge cleared (new, permanent, or gone): the directory's word stands.
            self.apply(account, row, result)
            self._flush()
            return 0
        ok, description = self.directory.modify(row.dn, changes)
        if not ok:
            ERRORS.labels("writeback").inc()
            log.error("ldap-sync: could not clear the directory lock of %s: %s", row.dn, description)
            return 0
        with self.engine.begin() as conn:
            audit.record(
                conn,
                event="unlocked",
                realm=self.realm,
                user_id=row.user_id,
                actor=ACTOR,
                details={
                    "source": "directory",
                    "target": "directory",
                    "reason": "cleared in the bridge",
                    "dn": row.dn,
                },
            )
        fresh = self.directory.read(row.dn, self.attributes)
        if fresh is not None:
            with contextlib.suppress(MalformedEntry):
                self.apply(self._parse(row.dn, fresh, self.clock()), row, result)
            self._flush()
        result.count("directory_unlocked")
        return 1

    def push_locks(self) -> int:
        """Optional: a bridge lockout for wrong codes locks the directory account too (profile permitting)."""
        now = self.clock()
        state = self._load_state()
        since = _parse_iso(state.get("lock_push_since")) or (now - timedelta(seconds=self.lease_seconds))
        done: set[str] = set(state.get("lock_push_done") or [])
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    locks.c.user_id, locks.c.locked_at, directory_entries.c.dn, directory_entries.c.lock_kind
                )
                .join(
                    directory_entries,
                    and_(
                        directory_entries.c.realm == locks.c.realm,
                        directory_entries.c.user_id == locks.c.user_id,
                    ),
                )
                .where(
                    locks.c.realm == self.realm,
                    locks.c.source == "codes",
                    locks.c.locked_at >= since,
                    or_(locks.c.expires_at.is_(None), locks.c.expires_at > now),
                )
                .order_by(locks.c.locked_at)
            ).all()
        written = 0
        newest = since
        for row in rows:
            if self.stop_event.is_set():
                break  # what is done is saved below; the rest waits for the next pass
            locked_at = as_utc(row.locked_at) or now
            key = f"{row.user_id}@{locked_at.isoformat()}"
            newest = max(newest, locked_at)
            if key in done:
                continue
            done.add(key)
            changes = self.profile.lock_changes(now)
            if changes is None or row.lock_kind not in (None, "none"):
                continue  # profile cannot lock over LDAP, or the directory account is locked already
            ok, description = self.directory.modify(row.dn, changes)
            if not ok:
                ERRORS.labels("writeback").inc()
                log.error("ldap-sync: could not lock %s in the directory: %s", row.dn, description)
                continue
            with self.engine.begin() as conn:
                audit.record(
                    conn,
                    event="locked",
                    realm=self.realm,
                    user_id=row.user_id,
                    actor=ACTOR,
                    details={"source": "codes", "target": "directory", "dn": row.dn},
                )
            APPLIED.labels("directory_locked").inc()
            written += 1
        newest_iso = newest.isoformat()
        self._save_state(
            {
                "lock_push_since": newest_iso,
                "lock_push_done": sorted(k for k in done if k.rsplit("@", 1)[1] >= newest_iso),
            }
        )
        return written

    # -------------------------------------------------------------- loop and status

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Poll every ``ldap_poll_seconds`` while holding the lease; a standby instance just waits.

        A directory that cannot be reached is tried again after :func:`retry_delay` (1, 2, 4 … s, at
        most a poll interval). ``stop`` ends the loop at the next safe point: in a pause at once, in a
        pass after the entry being applied; the lease is released on the way out.
        """
        if stop is not None:
            self.stop_event = stop
        stop = self.stop_event
        wake = threading.Event()
        failures = 0
        log.info(
            "ldap-sync: running for realm %s, polling every %s s",
            self.realm,
            self.settings.ldap_poll_seconds,
        )
        try:
            self._start_change_listener(wake, stop)
            while not stop.is_set():
                started = time.monotonic()
                pause = self.settings.ldap_poll_seconds  # fixed rate: a change waits at most one interval
                if self._lease_or_wait():
                    try:
                        self.run_once(attempts=1)
                        failures = 0
                    except DirectoryUnavailable as exc:
                        failures += 1
                        pause = retry_delay(failures, self.settings.ldap_poll_seconds, self.retry_delays)
                        started = time.monotonic()  # the pause runs from the failure
                        log.error("ldap-sync: pass failed: %s; retrying in %.1f s", exc, pause)
                    except LeaseLost as exc:
                        log.warning("ldap-sync: %s", exc)
                    except OperationalError as exc:
                        _database_unavailable(exc, "pass abandoned")
                    except Stopping:
                        break
                    except Exception:
                        ERRORS.labels("internal").inc()
                        self._record_error("internal error (see log)")
                        log.exception("ldap-sync: pass failed")
                deadline = started + pause
                while not (stop.is_set() or wake.is_set()) and time.monotonic() < deadline:
                    stop.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                wake.clear()
        finally:
            with contextlib.suppress(OperationalError):  # the lease runs out by itself
                self.release_lease()
            self.directory.close()
            self.stop_event = threading.Event()  # a later run_once (tests, ``once``) is not stopped
            log.info("ldap-sync: stopped; lease released")

    def _lease_or_wait(self) -> bool:
        """The lease, or False (wait for the next interval) while the database cannot answer: a
        PostgreSQL restart or failover must not end the sync, only pause it."""
        try:
            return self.acquire_lease()
        except OperationalError as exc:
            self._holding = False
            _database_unavailable(exc, "next try in an interval")
            return False

    def _start_change_listener(self, wake: threading.Event, stop: threading.Event) -> None:
        """Where the server offers persistent search, use it as a doorbell; polling still reads the changes.

        A persistent search has no resume cookie, so it cannot replace the watermark: it only makes the
        next poll start early. OpenLDAP does not offer it, and then nothing is started.
        """
        try:
            if not self.directory.supports_persistent_search():
                return
        except (LDAPException, DirectoryUnavailable):
            return
        thread = threading.Thread(target=self._listen, args=(wake, stop), name="ldap-psearch", daemon=True)
        thread.start()

    def _listen(self, wake: threading.Event, stop: threading.Event) -> None:
        from ldap3 import ASYNC_STREAM

        while not stop.is_set():
            try:
                conn = self.directory.open(ASYNC_STREAM)
                search = conn.extend.standard.persistent_search(
                    self.settings.ldap_base_dn,
                    self.settings.ldap_user_filter,
                    attributes=[self.names.ldap_id],
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

    def status(self) -> dict[str, Any]:
        state = self._load_state()
        now = self.clock()
        with self.engine.connect() as conn:
            lease = conn.execute(
                select(job_state.c.owner, job_state.c.lease_until).where(job_state.c.name == self.lease_name)
            ).first()
            mapped = conn.execute(
                select(directory_entries.c.ldap_id).where(directory_entries.c.realm == self.realm)
            ).all()
            locked = conn.execute(
                select(directory_entries.c.ldap_id).where(
                    directory_entries.c.realm == self.realm,
                    directory_entries.c.lock_kind.in_(["temporary", "permanent", "disabled"]),
                )
            ).all()
        last_success = _parse_iso(state.get("last_success"))
        lease_until = as_utc(lease.lease_until) if lease else None
        return {
            "realm": self.realm,
            "profile": self.profile.name,
            "last_success": state.get("last_success"),
            "lag_seconds": round((now - last_success).total_seconds(), 1) if last_success else None,
            "last_full_reconcile": state.get("last_full"),
            "watermark": state.get("hwm"),
            "last_mode": state.get("last_mode"),
            "last_counts": state.get("last_counts") or {},
            "entries_mapped": len(mapped),
            "entries_locked": len(locked),
            "last_error": state.get("last_error"),
            "last_error_at": state.get("last_error_at"),
            "leader": lease.owner if lease and lease_until and lease_until > now else None,
            "lease_until": lease_until.isoformat() if lease_until else None,
        }


def poll_window_start(hwm: datetime, polled_at: datetime | None, overlap: timedelta) -> datetime:
    """Lower bound of the next poll's ``modifyTimestamp`` filter.

    The overlap below the watermark catches a change that became visible after a poll although its stamp
    is a little older than what that poll saw (1 s stamps, a write committed late, clock skew). But the
    watermark only moves when something changes, so on an idle directory the same window was re-read at
    every poll, forever (0.85 s per idle poll at 10,000 entries when a bulk load filled it). A poll that
    started at ``polled_at`` saw everything stamped before then, so a change that shows up later carries a
    stamp of at least ``polled_at - overlap`` (commit lag) ``- overlap`` (bridge clock ahead of the
    directory's by up to the overlap): the window never starts earlier than that.
    """
    start = hwm - overlap
    if polled_at is not None:
        start = max(start, polled_at - 2 * overlap)
    return start


def _bounded(seen: dict[str, list[str]]) -> dict[str, list[str]]:
    if len(seen) <= MAX_SEEN:
        return seen
    newest = sorted(seen.items(), key=lambda item: item[1][1], reverse=True)[:MAX_SEEN]
    return dict(newest)


# ---------------------------------------------------------------------------------------------
# CLI: backup-codes ldap-sync run|once|status


def build_sync(settings: Settings) -> LdapSync:
    from bridge.service import BackupCodes
    from bridge.store.db import make_engine

    if not settings.ldap_url:
        raise ValueError("BACKUP_CODES_LDAP_URL is empty: the LDAP sync is not configured")
    engine = make_engine(settings)
    return LdapSync(engine, settings, BackupCodes(engine, settings), resolver_from_settings(settings))


def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ldap-sync", help="keep lock and contact state in step with the LDAP directory"
    )
    commands = parser.add_subparsers(dest="ldap_sync_command", required=True)
    run = commands.add_parser("run", help="sync forever (poll every BACKUP_CODES_LDAP_POLL_SECONDS)")
    run.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on 127.0.0.1:PORT")
    run.set_defaults(handler=_cmd_run, func=_from_env(_cmd_run))
    once = commands.add_parser("once", help="one pass (poll, or a full reconcile when due), then exit")
    once.add_argument("--full", action="store_true", help="force a full reconcile (paged search, deletes)")
    once.set_defaults(handler=_cmd_once, func=_from_env(_cmd_once))
    status = commands.add_parser("status", help="last success, lag, counts, last error (JSON)")
    status.set_defaults(handler=_cmd_status, func=_from_env(_cmd_status))


def _from_env(handler: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
    """bridge/cli.py calls ``func(args)``; tests call ``handler(args, settings)`` with their own settings."""

    def run(args: argparse.Namespace) -> int:
        from bridge.ops import logs
        from bridge.store import migrations
        from bridge.store.db import make_engine

        settings = Settings.from_env()
        logs.configure(settings.log_level)  # the same JSON lines and redaction as ``serve``
        engine = make_engine(settings)
        try:
            if not migrations.is_current(engine):
                raise ValueError("the database is not at the current schema: run `backup-codes db upgrade`")
        finally:
            engine.dispose()
        return handler(args, settings)

    return run


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.ops.stopping import run_until_stopped

    sync = build_sync(settings)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1")
    run_until_stopped(sync.run_forever, name="ldap-sync", abandon=sync.release_lease)
    return 0


def _cmd_once(args: argparse.Namespace, settings: Settings) -> int:
    sync = build_sync(settings)
    if not sync.acquire_lease():
        print("ldap-sync: another instance holds the lease; nothing done")
        return 2
    try:
        result = sync.run_once(full=True if args.full else None)
    except DirectoryUnavailable as exc:
        print(f"ldap-sync: failed: {exc}")
        return 1
    finally:
        sync.release_lease()
    print(
        json.dumps(
            {
                "mode": result.mode,
                "scanned": result.scanned,
                "applied": result.applied,
                "unmapped": result.unmapped,
                "malformed": result.malformed,
                "deleted": result.deleted,
                "written_back": result.written_back,
                "changes": result.changes,
            }
        )
    )
    return 0


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.store.db import make_engine

    if not settings.ldap_realm:
        print("ldap-sync: BACKUP_CODES_LDAP_REALM is empty")
        return 1
    sync = LdapSync(
        make_engine(settings), settings, service=None, resolver=StaticResolver({}), directory=_NoDirectory()
    )  # type: ignore[arg-type]
    print(json.dumps(sync.status(), indent=2, default=str))
    return 0


class _NoDirectory:
    """``status`` reads the database only; it must work while the directory is down."""

    def close(self) -> None:
        return None


__all__ = [
    "DirectoryUnavailable",
    "FederationIdResolver",
    "KeycloakUserResolver",
    "LdapDirectory",
    "LdapSync",
    "PassResult",
    "StaticResolver",
    "add_cli",
    "build_sync",
]
