"""Argon2id hashing of backup codes, one verification per attempt.

Each code gets its own salted Argon2id hash (argon2-cffi ``PasswordHasher``, OWASP minimum cost by
default). The hashed material binds the code to its realm and user, so a row copied to another user
does not verify; with a pepper it is an HMAC-SHA256 keyed by a secret kept outside the database, so a
stolen database alone cannot be attacked offline at all.

Every attempt costs exactly one Argon2 verification: when there is no candidate row the caller passes
``None`` and we verify against a dummy hash computed once at start-up, so "no such code", "no such
user" and "wrong code" take the same time (security.md §4.2).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bridge.settings import Settings

HASH_LENGTH = 32
SALT_LENGTH = 16


class CodeHasher:
    """Hash and verify canonical codes for one (realm, user)."""

    def __init__(self, settings: Settings) -> None:
        self._ph = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )
        self._pepper = settings.pepper.encode("utf-8") if settings.pepper else b""
        # Same cost as a real hash; its input is random, so nothing ever matches it.
        self._dummy = self._ph.hash(secrets.token_bytes(32))

    @property
    def peppered(self) -> bool:
        return bool(self._pepper)

    def material(self, realm: str, user_id: str, code: str) -> bytes:
        """The Argon2 input: ``realm ‖ 0 ‖ user ‖ 0 ‖ code``, HMAC'd with the pepper when there is one."""
        message = b"\x00".join(part.encode("utf-8") for part in (realm, user_id, code))
        if self._pepper:
            return hmac.new(self._pepper, message, hashlib.sha256).digest()
        return message

    def hash(self, realm: str, user_id: str, code: str) -> str:
        """PHC string for a canonical code (see ``codes.normalise``)."""
        return self._ph.hash(self.material(realm, user_id, code))

    def verify(self, stored: str | None, realm: str, user_id: str, code: str) -> bool:
        """One Argon2 verification; ``stored=None`` verifies against the dummy and is always False."""
        target = self._dummy if stored is None else stored
        try:
            matched = self._ph.verify(target, self.material(realm, user_id, code))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored is not None
