"""Connecting to the directory: StartTLS and ldaps:// with a CA file, certificate checks, URL failover."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from bridge.ldap.connection import DirectoryUnavailable, LdapDirectory
from bridge.ldap.profiles import profile_for
from bridge.ldap.resolvers import StaticResolver
from bridge.ldap.run import retry_delay
from bridge.ldap.sync import LdapSync
from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.store import db
from tests.fixtures.argon2 import FAST_ARGON2
from tests.fixtures.slapd import dead_ldap_url

pytestmark = pytest.mark.ldap


def _sync(tmp_path, server, **overrides) -> LdapSync:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
        **FAST_ARGON2,
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
    sync = _sync(tmp_path, slapd, ldap_url=f"{dead_ldap_url()},{slapd.url}")

    assert sync.run_once(full=True).applied >= 1


def test_wrong_bind_password_is_a_clear_error(tmp_path, slapd) -> None:
    sync = _sync(tmp_path, slapd, ldap_bind_password="wrong")

    with pytest.raises(DirectoryUnavailable, match="bind"):
        sync.run_once(full=True)


# --- reconnecting to a directory that is down (issue 16) --------------------------------------


def _directory(url: str, timeout: float = 3) -> LdapDirectory:
    settings = Settings(ldap_url=url, ldap_base_dn="dc=x", ldap_timeout_seconds=timeout)
    return LdapDirectory(settings, profile_for("openldap"))


def test_a_refusing_directory_is_reported_after_one_try_per_url() -> None:
    directory = _directory(dead_ldap_url())

    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="cannot bind"):
        directory.connection()
    print(f"reconnect to a refusing directory failed after {time.monotonic() - started:.3f} s (timeout 3 s)")

    assert directory.connect_attempts == 1  # no pool cycle, no ldap3 pooling sleep


def test_every_url_is_tried_once_in_order_before_giving_up() -> None:
    first, second = dead_ldap_url(), dead_ldap_url()
    directory = _directory(f"{first},{second}")

    with pytest.raises(DirectoryUnavailable) as raised:
        directory.connection()

    assert directory.connect_attempts == 2
    message = str(raised.value)
    assert message.index(first.split("//")[1]) < message.index(second.split("//")[1])


def test_retries_pause_one_two_four_seconds_and_so_on() -> None:
    assert [retry_delay(n, poll_seconds=120) for n in range(1, 10)] == [1, 2, 4, 8, 16, 30, 60, 60, 60]


def test_a_retry_never_waits_longer_than_a_poll_interval() -> None:
    assert [retry_delay(n, poll_seconds=5) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_a_pass_against_a_dead_directory_retries_with_the_backoff(tmp_path) -> None:
    pauses: list[float] = []
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
        ldap_url=dead_ldap_url(),
        ldap_base_dn="dc=x",
        ldap_realm="acme",
        ldap_timeout_seconds=3,
    )
    engine = db.make_engine(settings)
    db.create_all(engine)
    sync = LdapSync(engine, settings, BackupCodes(engine, settings), StaticResolver({}), sleep=pauses.append)

    with pytest.raises(DirectoryUnavailable):
        sync.run_once(attempts=5)

    assert pauses == [1, 2, 4, 8]
    assert sync.directory.connect_attempts == 5
