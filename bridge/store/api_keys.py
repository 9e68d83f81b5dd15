"""API keys for the callers of the bridge (Keycloak, admin tools).

A key is ``bcb_<id>_<secret>``: the id is public (it names the key in lists and logs), the secret is
256 random bits. Only the SHA-256 digest of the whole key is stored; a fast hash is enough for a
256-bit random secret (NIST SP 800-63B-4 allows it at ≥112 bits), and it keeps authentication cheap
on every request. The key is shown once, when created. Several keys may be active at the same time, so
a key is rotated by creating the new one, switching the caller over, then revoking the old one.

A key is scoped to a list of realms, or to every realm (no list: admin tools, and every key made before
scopes existed). A realm key lets one realm's Keycloak act on that realm only, so a leaked or misused
key cannot read, lock or probe the users of another realm.

Each worker remembers a key it has verified for :data:`CACHE_SECONDS` (:class:`KeyCache`), so the caller's
every request does not cost a SELECT: a revoked key is refused by every worker within that bound.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bridge.errors import InvalidRequest
from bridge.store import audit
from bridge.store.db import as_utc, utcnow
from bridge.store.schema import api_keys

PREFIX = "bcb"
ID_BYTES = 6  # 12 hex characters
SECRET_BYTES = 32  # 256 bits
KEY_PATTERN = re.compile(rf"{PREFIX}_([0-9a-f]{{{ID_BYTES * 2}}})_([0-9a-f]{{{SECRET_BYTES * 2}}})")
NAME_PATTERN = re.compile(r"[A-Za-z0-9 ._@:/+-]{1,255}")
# The realm path parameter's rule (openapi.json, components.schemas.RealmName): a key for a realm the
# API cannot address would be useless, so scopes take the same names (a test keeps the two equal).
REALM_PATTERN = re.compile(r"[A-Za-z0-9._@:-]{1,255}")
MAX_REALMS = 100
SYSTEM_REALM = ""  # audit rows about keys belong to no realm
# last_used_at is a convenience for operators; writing it on every request would serialise SQLite.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a worker trusts a key it has verified without reading it again: the bound on how long a revoked
# key keeps working. Verified keys only (a refusal always reads the database), at most CACHE_SIZE of them.
CACHE_SECONDS = 5.0
CACHE_SIZE = 64
# Compared against when the presented id is unknown, so every failure costs the same digest comparison.
_NO_DIGEST = hashlib.sha256(b"no such key").hexdigest()


class ApiKeyError(InvalidRequest):
    """A key name or id is unusable; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    realms: tuple[str, ...] | None = None  # None: every realm

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def all_realms(self) -> bool:
        return self.realms is None

    def allows(self, realm: str) -> bool:
        """Whether this key may act on ``realm`` (exact, case-sensitive, as Keycloak names realms)."""
        return self.realms is None or realm in self.realms

    @property
    def scope(self) -> str:
        """The scope in one word or list, for operators: ``all realms`` or ``realm-a,realm-b``."""
        return "all realms" if self.realms is None else ",".join(self.realms)


@dataclass(frozen=True)
class CreatedKey:
    """The one moment the full key exists outside the caller: print it, then drop it."""

    id: str
    name: str
    key: str
    realms: tuple[str, ...] | None = None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(conn: Connection, *, name: str, actor: str, realms: Iterable[str] | None = None) -> CreatedKey:
    """Create and store a new key in the caller's transaction; the returned ``key`` is never stored.

    ``realms`` limits the key to those realms; None makes an all-realm key (for admin tools).
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ApiKeyError("key name must be 1 to 255 letters, digits, spaces or ._@:/+-")
    scope = _scope(realms)
    for _ in range(5):
        key_id = secrets.token_hex(ID_BYTES)
        key = f"{PREFIX}_{key_id}_{secrets.token_hex(SECRET_BYTES)}"
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(api_keys).values(
                        id=key_id,
                        name=name,
                        digest=digest(key),
                        created_at=utcnow(),
                        realms=list(scope) if scope is not None else None,
                    )
                )
        except IntegrityError:  # 48-bit id collision: astronomically rare, just draw again
            continue
        audit.record(
            conn,
            event="apikey_created",
            realm=SYSTEM_REALM,
            actor=actor,
            details={"key_id": key_id, "name": name, "realms": list(scope) if scope is not None else None},
        )
        return CreatedKey(id=key_id, name=name, key=key, realms=scope)
    raise RuntimeError("could not draw an unused key id")


def _scope(realms: Iterable[str] | None) -> tuple[str, ...] | None:
    """The stored form of a scope: None for every realm, else the realm names sorted and deduplicated.

    An empty list is refused rather than read as "every realm": widening a key by mistake fails open.
    """
    if realms is None:
        return None
    if isinstance(realms, str):
        raise ApiKeyError("realms must be a list of realm names")
    given = list(realms)
    if not given:
        raise ApiKeyError("a realm key needs at least one realm (no realm list makes an all-realm key)")
    for name in given:
        if not isinstance(name, str) or not REALM_PATTERN.fullmatch(name):
            raise ApiKeyError("realm names must be 1 to 255 letters, digits or ._@:-")
    names = tuple(sorted(set(given)))
    if len(names) > MAX_REALMS:
        raise ApiKeyError(f"a key may name at most {MAX_REALMS} realms")
    return names


def list_keys(conn: Connection) -> list[ApiKey]:
    rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
    return [_key(row) for row in rows]


def _key(row: Any) -> ApiKey:
    realms = row["realms"]
    return ApiKey(
        id=row["id"],
        name=row["name"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        last_used_at=as_utc(row["last_used_at"]),
        revoked_at=as_utc(row["revoked_at"]),
        realms=tuple(realms) if realms is not None else None,
    )


def revoke_key(conn: Connection, key_id: str, *, actor: str) -> bool:
    """Revoke an active key; False when there is no such active key.

    Every worker refuses it within :data:`CACHE_SECONDS` (it may have verified the key just before).
    """
    revoked = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if revoked:
        audit.record(
            conn, event="apikey_revoked", realm=SYSTEM_REALM, actor=actor, details={"key_id": key_id}
        )
    return revoked == 1


_BY_ID = select(api_keys).where(api_keys.c.id == bindparam("p_id"))  # built once: every request runs it


class KeyCache:
    """The keys one worker has verified in the last ``seconds``, by the SHA-256 digest of the presented key.

    Why: authentication is a SELECT on every request, for the same one or two keys. Only the digest is
    held (as in the database), never the key; only successes are remembered, so a wrong, unknown or
    revoked key is always checked against the database, and a revocation takes effect within ``seconds``.
    """

    def __init__(
        self,
        seconds: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._size = size
        self._clock = clock
        self._entries: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def get(self, key_digest: str) -> ApiKey | None:
        entry = self._entries.get(key_digest)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            with self._lock:
                self._entries.pop(key_digest, None)
            return None
        return entry[1]

    def put(self, key_digest: str, key: ApiKey) -> None:
        with self._lock:
            if len(self._entries) >= self._size:  # bounded: expired entries go first, else all
                now = self._clock()
                self._entries = {d: e for d, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= self._size:
                    self._entries.clear()
            self._entries[key_digest] = (self._clock() + self.seconds, key)

    def __len__(self) -> int:
        return len(self._entries)

    def digests(self) -> frozenset[str]:
        """What the cache is keyed by (for tests: digests, never keys)."""
        return frozenset(self._entries)


def authenticate(engine: Engine, presented: str | None, cache: KeyCache | None = None) -> ApiKey | None:
    """The active key matching ``presented``, else None; the secret is compared in constant time.

    With ``cache``, a key verified within ``cache.seconds`` is answered without reading the database.
    """
    match = KEY_PATTERN.fullmatch(presented or "")
    presented_digest = digest(presented or "")
    if match and cache is not None:
        cached = cache.get(presented_digest)
        if cached is not None:
            return cached
    key_id = match.group(1) if match else ""
    with engine.connect() as conn:
        row = conn.execute(_BY_ID, {"p_id": key_id}).mappings().first() if match else None
    stored = row["digest"] if row is not None else _NO_DIGEST
    ok = hmac.compare_digest(presented_digest, stored)
    if not ok or row is None or row["revoked_at"] is not None:
        return None
    key = _key(row)
    _touch(engine, key)
    if cache is not None:
        cache.put(presented_digest, key)
    return key


def _touch(engine: Engine, key: ApiKey) -> None:
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    with engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now))


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
