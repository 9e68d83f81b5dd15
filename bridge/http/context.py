"""What every view shares: the app's :class:`Bridge` context and the ``{"error", "message"}`` answers.

Kept apart from the views and from request validation so both can use it without importing each other,
and so the app factory can build the context and map errors without importing any view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, g
from sqlalchemy import Engine

from bridge.ops import metrics
from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.store.api_keys import KeyCache


@dataclass(frozen=True)
class Bridge:
    """What the views need, built once by the app factory (``app.extensions["backup_codes"]``)."""

    settings: Settings
    engine: Engine
    service: BackupCodes
    key_cache: KeyCache = field(default_factory=KeyCache)  # this worker's verified API keys


class ApiError(Exception):
    """Turned into ``{"error", "message"}`` with ``status`` by the app's error handler."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def error_response(status: int, error: str, message: str) -> Response:
    response = current_app.json.response({"error": error, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="backup-codes"'
    return response


def forbidden() -> Response:
    """The one answer for a key used outside its realms: it tells nothing about the realm or user."""
    metrics.SCOPE_REFUSALS.inc()
    return error_response(403, "forbidden", "this API key is not allowed on this realm")


def bridge() -> Bridge:
    return current_app.extensions["backup_codes"]


def actor(given: str | None = None) -> str:
    """Who the audit trail names: the caller's own label, else the API key that made the call."""
    return given or f"api:{g.api_key.name}"


def json_response(value: Any, status: int = 200) -> Response:
    response = current_app.json.response(value)
    response.status_code = status
    return response


def no_content() -> Response:
    return Response(status=204)


# One user of one realm: most resources of the API live under it.
USER = "/realms/<realm>/users/<user_id>"
