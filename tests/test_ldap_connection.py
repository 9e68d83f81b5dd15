"""Connecting to the directory: StartTLS and ldaps:// with a CA file, certificate checks, URL failover."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from bridge import db
from bridge.ldap_sync import DirectoryUnavailable, LdapSync, StaticResolver
from bridge.service import BackupCodes
from bridge.settings import Settings

pytestmark = pytest.mark.ldap


def _sync(tmp_path, server, **overrides) -> LdapSync:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
        argon2_time_cost=1,
        argon2_memory_cost=64,
        ldap_url=server.url,
        ldap_bind_dn=server.sync_dn,
        ldap_bind_password=server.sync_pw,
        ldap_base_dn=server.base_dn,
        ldap_default_policy_dn=server.default_policy,
        ldap_realm="acme",
        ldap_timeout_seconds=3,
    )
    settings = replace(settings, **overrides)
    engine = db.make_engine(settings)
    db.create_all(engine)
    return LdapSync(
        engine, settings, BackupCodes(engine, settings), StaticResolver(lambda i: f"kc-{i}"), retry_delays=()
    )


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ldap://127.0.0.1:{sock.getsockname()[1]}"


def test_start_tls_with_the_ca_file_syncs(tmp_path, slapd_tls) -> None:
    slapd_tls.add_user()
    sync = _sync(tmp_path, slapd_tls, ldap_start_tls=True, ldap_ca_file=slapd_tls.ca_file)

    assert sync.run_once(full=True).applied >= 1


def test_ldaps_with_the_ca_file_syncs(tmp_path, slapd_tls) -> None:
    slapd_tls.add_user()
    sync = _sync(tmp_path, slapd_tls, ldap_url=slapd_tls.ldaps_url, ldap_ca_file=slapd_tls.ca_file)

    assert sync.run_once(full=True).applied >= 1


def test_ldaps_with_an_untrusted_certificate_is_refused(tmp_path, slapd_tls) -> None:
    sync = _sync(tmp_path, slapd_tls, ldap_url=slapd_tls.ldaps_url)  # system CAs only

    with pytest.raises(DirectoryUnavailable):
        sync.run_once(full=True)


def test_start_tls_with_an_untrusted_certificate_is_refused(tmp_path, slapd_tls) -> None:
    sync = _sync(tmp_path, slapd_tls, ldap_start_tls=True)

    with pytest.raises(DirectoryUnavailable):
        sync.run_once(full=True)


def test_second_url_is_used_when_the_first_is_down(tmp_path, slapd, ldap_user) -> None:
    ldap_user()
    sync = _sync(tmp_path, slapd, ldap_url=f"{_dead_url()},{slapd.url}")

    assert sync.run_once(full=True).applied >= 1


def test_wrong_bind_password_is_a_clear_error(tmp_path, slapd) -> None:
    sync = _sync(tmp_path, slapd, ldap_bind_password="wrong")

    with pytest.raises(DirectoryUnavailable, match="bind"):
        sync.run_once(full=True)
