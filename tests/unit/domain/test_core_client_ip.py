"""One client, one count: every spelling of an address is one key (``ratelimit.canonical_ip``), and the
per-IP rate limit counts IPv6 clients per network (``ratelimit.client_key``)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.service.ratelimit import canonical_ip, client_key
from bridge.settings import Settings, SettingsError


@pytest.mark.parametrize(
    "spelling",
    ["192.0.2.7", "::ffff:192.0.2.7", "::FFFF:192.0.2.7", "::ffff:c000:207", "0:0:0:0:0:FFFF:C000:0207"],
)
def test_every_spelling_of_an_ipv4_address_is_that_address(spelling: str) -> None:
    assert canonical_ip(spelling) == "192.0.2.7"


@pytest.mark.parametrize(
    "spelling", ["2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1%0"]
)
def test_every_spelling_of_an_ipv6_address_is_its_compressed_lower_case_form(spelling: str) -> None:
    assert canonical_ip(spelling) == "2001:db8::1"


@pytest.mark.parametrize("zone", ["0", "4", "eth0", "enp0s31f6"])
def test_a_zone_id_is_dropped(zone: str) -> None:
    assert canonical_ip(f"fe80::1%{zone}") == "fe80::1"


@pytest.mark.parametrize(
    "text", ["", "nope", "192.0.2.300", "192.0.2.7%0", "::1%", "2001:db8::1/64", " 192.0.2.7"]
)
def test_anything_but_an_address_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        canonical_ip(text)


@given(st.ip_addresses())
def test_canonical_form_is_stable(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    once = canonical_ip(str(address))
    assert canonical_ip(once) == once
    assert canonical_ip(address.exploded.upper()) == once


def test_an_ipv4_client_is_counted_by_its_address() -> None:
    assert client_key("::ffff:198.51.100.4") == "198.51.100.4"


def test_ipv6_clients_of_one_64_share_a_key() -> None:
    keys = {client_key(ip) for ip in ("2001:db8::1", "2001:db8::ffff:1", "2001:DB8:0:0:1::%3")}
    assert keys == {"2001:db8::/64"}


def test_ipv6_clients_of_different_64s_do_not_share_a_key() -> None:
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8:0:2::1")


def test_the_ipv6_prefix_is_configurable() -> None:
    assert client_key("2001:db8:0:1::1", ipv6_prefix=48) == client_key("2001:db8:0:2::1", ipv6_prefix=48)
    assert client_key("2001:db8::1", ipv6_prefix=128) == "2001:db8::1"


def test_no_address_is_a_bucket_of_its_own() -> None:
    assert client_key(None) == "-"


def test_the_ipv6_prefix_setting_defaults_to_64() -> None:
    assert Settings.from_env({}).ip_rate_ipv6_prefix == 64


@pytest.mark.parametrize("value", ["0", "129", "-1"])
def test_an_ipv6_prefix_outside_1_to_128_is_refused_at_start(value: str) -> None:
    with pytest.raises(SettingsError, match="BACKUP_CODES_IP_RATE_IPV6_PREFIX"):
        Settings.from_env({"BACKUP_CODES_IP_RATE_IPV6_PREFIX": value})
