"""Remembered devices, the pure part: signing and checking the device token, naming a device.

The token is the value of Keycloak's "remember this device" cookie, opaque to the provider::

    <device_id>.<expires_epoch>.<sig>
    sig = base64url(HMAC-SHA256(key, "v1|" realm "|" user_id "|" device_id "|" expires_epoch))

The signature binds the token to one realm and user (another user's cookie never matches) and to its
expiry, so neither can be edited. It only proves the bridge issued the token: whether the device is still
remembered is the database's answer (``service.check_device``), so forgetting a device kills its cookie.
Only ``device_id`` is ever stored; the token is handed out once and never logged or kept.

Realm and user ids cannot contain ``|`` (the API's path rule), so the signed string is unambiguous.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from bridge.errors import ConfigurationError

VERSION = "v1"
TOKEN_MAX_LENGTH = 256
MIN_KEY_BYTES = 32
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
UNKNOWN_DEVICE = "Unknown device"


@dataclass(frozen=True)
class TokenCheck:
    """``reason``: ``ok`` (signature good, not expired), ``invalid`` or ``expired``."""

    reason: str
    device_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def new_device_id() -> str:
    return uuid.uuid4().hex


def _signature(key: bytes, realm: str, user_id: str, device_id: str, expires_epoch: int) -> str:
    message = "|".join((VERSION, realm, user_id, device_id, str(expires_epoch))).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(key: bytes, realm: str, user_id: str, device_id: str, expires_epoch: int) -> str:
    """The token for ``device_id`` of this user, valid until ``expires_epoch`` (seconds since 1970, UTC)."""
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(f"the device cookie key must be at least {MIN_KEY_BYTES} bytes")
    if not re.fullmatch(r"[0-9a-f]{32}", device_id):
        raise ValueError("device_id must be 32 lowercase hex characters")
    if not 0 <= expires_epoch < 10**12:
        raise ValueError("expires_epoch is out of range")
    return f"{device_id}.{expires_epoch}.{_signature(key, realm, user_id, device_id, expires_epoch)}"


def check(key: bytes, realm: str, user_id: str, token: object, now_epoch: int) -> TokenCheck:
    """Signature first (a forged or foreign token learns nothing, not even that it expired), then expiry.

    Anything that is not a well-formed token is ``invalid``: cookies arrive from browsers unfiltered.
    """
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        return TokenCheck("invalid")
    match = _TOKEN.fullmatch(token)
    if match is None:
        return TokenCheck("invalid")
    device_id, expires_text, given = match.groups()
    expires_epoch = int(expires_text)
    expected = _signature(key, realm, user_id, device_id, expires_epoch)
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
        return TokenCheck("invalid")
    if expires_epoch <= now_epoch:
        return TokenCheck("expired", device_id)
    return TokenCheck("ok", device_id)


# ------------------------------------------------------------------------------------ device names

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def browser_and_system(user_agent: str) -> tuple[str | None, str | None]:
    """The browser and operating system a User-Agent names, each None when not recognised.

    One table for device names and for the "from where" line of mails, so both say the same.
    """
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    return browser, system


def device_name(user_agent: str | None) -> str:
    """A short human name ("Chrome on Windows", "Safari on iPhone") for lists and mails.

    Never the raw header: it is long, and it is whatever the client chose to send.
    """
    if not user_agent:
        return UNKNOWN_DEVICE
    browser, system = browser_and_system(user_agent)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"Browser on {system}"
    return UNKNOWN_DEVICE
