"""Identity mapping: a directory entry → the Keycloak user id (see docs/ldap-sync.md, "Identity mapping").

Three ways: Keycloak's admin API (imported LDAP users carry the directory id as ``LDAP_ID``), Keycloak's
``StorageId`` for federated users without import, or a fixed mapping (tests, scripted migrations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bridge.ldap.account import DirectoryAccount
from bridge.ldap.state import log
from bridge.settings import Settings


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
