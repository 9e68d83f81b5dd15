"""ldap3 access for the sync: one bound connection, our own failover over the URLs, paged searches, modifies.

Why our own failover: ldap3's ``ServerPool`` with ``active`` sleeps ``POOLING_LOOP_TIMEOUT`` (10 s) after a
round of servers that refuse, whatever the connect timeout says (issue 16). Trying each URL once, in order,
bounded by ``ldap_timeout_seconds``, and leaving the pace of retries to the caller's backoff keeps a
directory that comes back readable within one poll interval.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Iterable, Iterator, Mapping

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

from bridge.errors import Unavailable
from bridge.ldap.profiles import Profile
from bridge.settings import Settings

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
PERSISTENT_SEARCH_OID = "2.16.840.1.113730.3.4.3"

Entry = tuple[str, Mapping[str, list[bytes]]]


class DirectoryUnavailable(Unavailable):
    """The directory could not be reached or answered with an error: retry later from the watermark."""


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
        # Failover is ours, not ldap3's (see the module docstring).
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
