"""Identity mapping: directory entry → Keycloak user id, never by display name."""

from __future__ import annotations

from typing import Any

from bridge.ldap.account import DirectoryAccount
from bridge.ldap.resolvers import FederationIdResolver, KeycloakUserResolver, StaticResolver

LDAP_ID = "7f0a1c52-1111-4a8e-9a41-0f6a3c1d9b21"


def account(ldap_id: str = LDAP_ID, username: str = "alice") -> DirectoryAccount:
    return DirectoryAccount(ldap_id, f"uid={username},ou=people,dc=example,dc=org", username, None, None)


class FakeAdmin:
    """Answers get_users like Keycloak's admin API: ``q`` is a search, so it may return near misses."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.users = users
        self.queries: list[dict[str, Any]] = []

    def get_users(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        self.queries.append(query)
        return self.users


def test_keycloak_resolver_searches_the_ldap_id_attribute() -> None:
    admin = FakeAdmin([{"id": "kc-1", "username": "alice", "attributes": {"LDAP_ID": [LDAP_ID]}}])

    assert KeycloakUserResolver(admin)(account()) == "kc-1"
    assert admin.queries[0]["q"] == f"LDAP_ID:{LDAP_ID}"


def test_keycloak_resolver_ignores_users_without_exactly_this_ldap_id() -> None:
    admin = FakeAdmin([{"id": "kc-2", "username": "alice", "attributes": {"LDAP_ID": ["other"]}}])

    assert KeycloakUserResolver(admin)(account()) is None


def test_keycloak_resolver_refuses_an_ambiguous_ldap_id() -> None:
    same = {"attributes": {"LDAP_ID": [LDAP_ID]}}
    admin = FakeAdmin([{"id": "kc-1", **same}, {"id": "kc-2", **same}])

    assert KeycloakUserResolver(admin)(account()) is None


def test_keycloak_resolver_caches_a_mapping() -> None:
    admin = FakeAdmin([{"id": "kc-1", "attributes": {"LDAP_ID": [LDAP_ID]}}])
    resolver = KeycloakUserResolver(admin)

    resolver(account())
    resolver(account())

    assert len(admin.queries) == 1


def test_federation_id_resolver_spells_keycloaks_storage_id() -> None:
    assert FederationIdResolver("comp-1")(account()) == f"f:comp-1:{LDAP_ID}"


def test_static_resolver_maps_by_ldap_id_not_by_name() -> None:
    resolver = StaticResolver({LDAP_ID: "kc-1"})

    assert resolver(account(username="someone-else")) == "kc-1"
    assert resolver(account(ldap_id="unknown", username="alice")) is None
