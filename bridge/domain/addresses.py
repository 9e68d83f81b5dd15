"""Client addresses without I/O: one spelling per address, one rate-limit bucket per client.

The count is kept per *client*, not per spelling: :func:`client_key` turns every way of writing one
address (``::ffff:192.0.2.7``, ``::FFFF:c000:207``, ``2001:db8::1%3``) into one key, and puts every
IPv6 address of one /64 (``BACKUP_CODES_IP_RATE_IPV6_PREFIX``) into one bucket: a single host usually
gets a whole /64, so counting per address would let it spread its guesses over 2^64 keys.
"""

from __future__ import annotations

import ipaddress

from bridge.errors import InvalidRequest

DEFAULT_IPV6_PREFIX = 64


def canonical_ip(text: str) -> str:
    """The one spelling of the address ``text``, for counting, auditing and notifying alike.

    IPv4-mapped IPv6 (``::ffff:192.0.2.7``) is the IPv4 address it maps, a zone id (``%eth0``) is
    dropped (it names the receiving interface, not the client), and IPv6 is written compressed in lower
    case. Anything that is not an address raises ``ValueError`` (:func:`canonical_client_ip`: a 400).
    """
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(text.partition("%")[0])
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def client_key(text: str | None, *, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """The rate-limit bucket of a client: its IPv4 address, or the ``ipv6_prefix`` network of its IPv6.

    ``None`` (a caller that knows no address) is one bucket of its own, ``-``.
    """
    if text is None:
        return "-"
    address = ipaddress.ip_address(canonical_ip(text))
    if isinstance(address, ipaddress.IPv4Address) or ipv6_prefix == address.max_prefixlen:
        return str(address)
    return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))


def canonical_client_ip(client_ip: str | None) -> str | None:
    """:func:`canonical_ip` of a caller-supplied address; the error names the field, never the value."""
    if client_ip is None:
        return None
    try:
        return canonical_ip(client_ip)
    except ValueError:
        raise InvalidRequest("client_ip must be an IPv4 or IPv6 address") from None
