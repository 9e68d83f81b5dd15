"""One exception tree for the whole bridge, mapped to HTTP by class (see ``bridge.http.app``).

Every failure the bridge means to report derives from :class:`BackupCodesError` and carries its own
HTTP status and stable ``error`` code, so the API maps an exception by its class alone and a library's
stray ``ValueError`` is an internal error (logged, a 500 without details), never a 400 that blames the
caller. Messages name fields and limits, never values: they reach users and logs.
"""

from __future__ import annotations


class BackupCodesError(Exception):
    """Base of every failure the bridge reports on purpose."""

    status = 500
    error = "internal"


class InvalidRequest(BackupCodesError, ValueError):
    """What the caller sent cannot be accepted (an id, a contact field, a lock time…).

    Also a ``ValueError``, so callers that refuse bad values by that name (the LDAP sync skipping a
    contact it cannot apply) keep working; the API maps it by this class, never by ``ValueError``.
    """

    status = 400
    error = "invalid_request"


class MalformedCode(InvalidRequest):
    """The input cannot be a backup code (too long, wrong characters, wrong length)."""


class InvalidPolicy(BackupCodesError, ValueError):
    """A realm policy value outside its allowed range; the message names the field and the range."""

    status = 422
    error = "policy_invalid"


class Conflict(BackupCodesError):
    """The request is well formed but the current state refuses it."""

    status = 409
    error = "conflict"


class PermanentLockError(Conflict):
    """Lifting a permanent lock needs ``allow_permanent=True``."""

    error = "permanent_lock"


class DeviceRecognitionDisabled(Conflict):
    """No device cookie key is configured: no device can be registered or recognised."""

    error = "device_recognition_disabled"


class Forbidden(BackupCodesError):
    """The caller is known but may not do this (an API key scoped to another realm)."""

    status = 403
    error = "forbidden"


class Unavailable(BackupCodesError):
    """A part the bridge depends on (database, directory, Keycloak) does not answer; retry later."""

    status = 503
    error = "unavailable"


class ConfigurationError(BackupCodesError):
    """The operator's configuration is wrong (environment, files); reported at start, not per request."""
