"""Backup codes as text: generation, display format, and the tolerant parsing of what users type.

Pure functions, no I/O. A code is ``length`` Crockford base32 characters (5 bits each) from
``secrets``. The first ``SELECTOR_LENGTH`` characters are a non-secret selector, unique within a
user's set, so verification can pick the one candidate row instead of scanning every hash; the
rest is the secret and must carry at least 64 bits (NIST SP 800-63B-4 saved recovery codes).
"""

from __future__ import annotations

import secrets

from bridge import contract
from bridge.errors import InvalidRequest
from bridge.errors import MalformedCode as MalformedCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
BITS_PER_CHAR = 5
SELECTOR_LENGTH = 2
MIN_SECRET_BITS = 64
MIN_LENGTH = SELECTOR_LENGTH + -(-MIN_SECRET_BITS // BITS_PER_CHAR)  # 15
MAX_LENGTH = 32
# anything longer is refused before it gets near a hash function (the provider refuses it too)
MAX_INPUT_LENGTH = contract.CODE_INPUT_MAX_LENGTH
GROUP = 4

_CONFUSABLES = {"O": "0", "I": "1", "L": "1"}
_SEPARATORS = frozenset(" -\t")
_ALPHABET_SET = frozenset(ALPHABET)


def secret_bits(length: int) -> int:
    return (length - SELECTOR_LENGTH) * BITS_PER_CHAR


def generate_code(length: int) -> str:
    """One code in canonical form (no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate_set(count: int, length: int) -> list[str]:
    """``count`` codes whose selectors are pairwise distinct.

    Rejection sampling keeps every code uniformly random given distinct selectors; the secret
    part is never constrained.
    """
    if secret_bits(length) < MIN_SECRET_BITS or length > MAX_LENGTH:
        raise InvalidRequest(f"code length must be between {MIN_LENGTH} and {MAX_LENGTH}")
    if not 1 <= count <= len(ALPHABET) ** SELECTOR_LENGTH:
        raise InvalidRequest("code count out of range")
    result: list[str] = []
    seen: set[str] = set()
    while len(result) < count:
        code = generate_code(length)
        selector = code[:SELECTOR_LENGTH]
        if selector in seen:
            continue
        seen.add(selector)
        result.append(code)
    return result


def format_code(code: str) -> str:
    """Display form: groups of four separated by dashes, e.g. ``7KQ4-M2XP-9DWR-3HZT``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str:
    """Canonical characters of what the user typed: upper case, separators dropped, O→0, I/L→1.

    Raises :class:`MalformedCode` for input longer than ``MAX_INPUT_LENGTH`` or containing a
    character outside the alphabet (``U`` included). The length is not checked here, see :func:`parse`.
    """
    if len(text) > MAX_INPUT_LENGTH:
        raise MalformedCode("input too long")
    out: list[str] = []
    for char in text:
        if char in _SEPARATORS:
            continue
        if not char.isascii():
            raise MalformedCode("unexpected character")
        upper = char.upper()
        upper = _CONFUSABLES.get(upper, upper)
        if upper not in _ALPHABET_SET:
            raise MalformedCode("unexpected character")
        out.append(upper)
    return "".join(out)


def parse(text: str) -> str:
    """Normalise and check the length is one a code can have (any policy's length, so codes stay valid
    when a realm changes its policy)."""
    code = normalise(text)
    if not MIN_LENGTH <= len(code) <= MAX_LENGTH:
        raise MalformedCode("wrong length")
    return code


def split(code: str) -> tuple[str, str]:
    """``(selector, secret)`` of a canonical code."""
    return code[:SELECTOR_LENGTH], code[SELECTOR_LENGTH:]


def selector_of(code: str) -> str:
    return code[:SELECTOR_LENGTH]
