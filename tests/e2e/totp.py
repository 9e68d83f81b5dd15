"""RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s), to drive Keycloak's OTP form."""

from __future__ import annotations

import hashlib
import hmac
import struct
import time


def totp(key: bytes, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)
