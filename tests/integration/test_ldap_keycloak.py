"""Identity mapping against a real Keycloak with LDAP federation (import on) over the test slapd."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bridge.ldap.account import DirectoryAccount
from bridge.ldap.resolvers import KeycloakUserResolver
from bridge.ldap.sync import LdapSync
from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.store import db
from tests.fixtures.argon2 import FAST_ARGON2

pytestmark = [pytest.mark.keycloak, pytest.mark.ldap]


def _federate(keycloak, slapd, realm: str) -> str:
    """Add slapd as an LDAP provider and import its users."""
    component_id = keycloak.federate_ldap(realm, slapd, name="test-ldap")
    admin = keycloak.admin(realm)
    admin.sync_users(component_id, "triggerFullSync")
    return component_id


def test_keycloak_resolver_finds_the_imported_user_by_ldap_id(keycloak, slapd, ldap_user) -> None:
    user = ldap_user()
    realm = keycloak.create_realm("ldap")
    _federate(keycloak, slapd, realm)
    admin = keycloak.admin(realm)
    expected = admin.get_user_id(user.uid)

    resolved = KeycloakUserResolver(admin)(
        DirectoryAccount(user.entry_uuid, user.dn, "not-the-name", None, None)
    )

    assert expected and resolved == expected


def test_directory_lock_reaches_the_keycloak_users_bridge_lock(
    keycloak, slapd, ldap_user, tmp_path: Path
) -> None:
    user = ldap_user()
    realm = keycloak.create_realm("ldap")
    _federate(keycloak, slapd, realm)
    admin = keycloak.admin(realm)
    settings = replace(
        Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'bridge.db'}"),
        **FAST_ARGON2,
        ldap_url=slapd.url,
        ldap_bind_dn=slapd.sync_dn,
        ldap_bind_password=slapd.sync_pw,
        ldap_base_dn=slapd.base_dn,
        ldap_default_policy_dn=slapd.default_policy,
        ldap_realm=realm,
    )
    engine = db.make_engine(settings)
    db.create_all(engine)
    svc = BackupCodes(engine, settings)
    sync = LdapSync(engine, settings, svc, KeycloakUserResolver(admin), retry_delays=())
    sync.run_once(full=True)
    slapd.bad_binds(user.dn, 3)

    sync.run_once()

    state = svc.lock_state(realm, admin.get_user_id(user.uid))
    assert (state.locked, state.source) == (True, "directory")
