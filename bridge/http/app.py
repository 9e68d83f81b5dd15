"""The Flask app factory: the ``/v1`` API, the operational endpoints and uniform JSON errors.

Every answer that is not a success is ``{"error", "message"}``; a database that cannot be reached is a
503 ``unavailable`` with ``Retry-After``; an unexpected exception is logged
(with its request id, never the request body) and answered with a bare ``{"error": "internal"}``,
so no stack trace reaches a caller. Each request gets an id (the caller's ``X-Request-Id`` when it is
sane, else a new UUID), echoed in the response and attached to every log line.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge.domain.hashing import CodeHasher
from bridge.errors import BackupCodesError
from bridge.http import api, validation
from bridge.http.context import ApiError, Bridge, error_response
from bridge.ops import logs, metrics
from bridge.service import BackupCodes
from bridge.settings import Settings
from bridge.sheet import faces
from bridge.store.db import make_engine, unavailable_reason

MAX_BODY_BYTES = 64 * 1024
# What the HTTP server (waitress, see bridge.http.server) refuses before the app sees the request: the
# request line and headers beyond this, and bodies beyond SERVER_MAX_BODY_BYTES, a margin over the app's
# own limit so that the app's JSON 413 is the usual answer and the server's the backstop.
MAX_HEADER_BYTES = 32 * 1024
SERVER_MAX_BODY_BYTES = 4 * MAX_BODY_BYTES
REQUEST_ID_HEADER = "X-Request-Id"
DATABASE_RETRY_AFTER_SECONDS = 5
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("bridge.http.app")
access_log = logging.getLogger("bridge.access")

# Machine codes for the HTTP errors Flask/Werkzeug (routing, body size, methods) and the HTTP server
# (malformed requests, sizes, transfer codings) raise themselves.
_HTTP_ERRORS = {
    400: ("bad_request", "the request is malformed"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "method not allowed for this resource"),
    413: ("payload_too_large", f"the request body is over {MAX_BODY_BYTES // 1024} KiB"),
    415: ("unsupported_media_type", "the request body must be application/json"),
    431: ("headers_too_large", f"the request line and headers are over {MAX_HEADER_BYTES // 1024} KiB"),
    500: ("internal", "internal error; the request id is in the logs"),
    501: ("not_implemented", "the request uses a transfer coding this server does not implement"),
}


def http_error(status: int, name: str = "error") -> dict[str, str]:
    """The ``{"error", "message"}`` body for an HTTP-level refusal, whoever makes it (app or server)."""
    error, message = _HTTP_ERRORS.get(status, (_snake(name), name))
    return {"error": error, "message": message}


class BoundedHasher:
    """Every Argon2 evaluation of the app holds a slot of ``gate`` (see :mod:`bridge.ops.hash_gate`)."""

    def __init__(self, inner: CodeHasher, gate: AbstractContextManager[Any]) -> None:
        self._inner = inner
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def hash(self, realm: str, user_id: str, code: str) -> str:
        with self._gate:
            return self._inner.hash(realm, user_id, code)

    def verify(self, stored: str | None, realm: str, user_id: str, code: str) -> bool:
        with self._gate:
            return self._inner.verify(stored, realm, user_id, code)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    hash_gate: AbstractContextManager[Any] | None = None,
) -> Flask:
    """Build the app; the engine and the service (with its Argon2 dummy hash) are built once here.

    ``hash_gate`` bounds simultaneous Argon2 evaluations (``serve`` passes a
    :class:`bridge.ops.hash_gate.HashGate`; None: unbounded, as in tests and tools).
    """
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask("bridge")
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = engine or make_engine(settings)
    hasher: Any = CodeHasher(settings)
    if hash_gate is not None:
        hasher = BoundedHasher(hasher, hash_gate)
    app.extensions["backup_codes"] = Bridge(
        settings=settings, engine=engine, service=BackupCodes(engine, settings, hasher=hasher)
    )
    app.register_blueprint(api.blueprint)
    if settings.trusted_proxies > 0:
        # Behind N reverse proxies the peer address is the nearest proxy; trust exactly N hops of
        # X-Forwarded-For/-Proto (more would let a client spoof its address in the access log).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    _add_operational_routes(app)
    _add_request_hooks(app)
    _add_error_handlers(app)
    faces.locate(settings.font_dirs)  # a missing sheet font is logged once, at start
    return app


def _add_operational_routes(app: Flask) -> None:
    @app.get("/openapi.json")
    def openapi() -> Response:
        return app.json.response(validation.spec())

    @app.get("/healthz")
    def healthz() -> Response:
        return app.json.response({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        from bridge.store import migrations

        bridge: Bridge = app.extensions["backup_codes"]
        try:
            current = migrations.current_revision(bridge.engine)
        except Exception:  # any database failure means "not ready"; the reason goes to the log only
            log.warning("readiness check: database unreachable", exc_info=True)
            return _status(503, "not_ready", "database unreachable")
        if current != migrations.head_revision():
            return _status(503, "not_ready", "database not migrated (run: backup-codes db upgrade)")
        return app.json.response({"status": "ready"})

    @app.get("/metrics")
    def prometheus() -> Response:
        payload, content_type = metrics.render()
        return Response(payload, content_type=content_type)


def _status(code: int, status: str, reason: str) -> Response:
    from flask import current_app

    response = current_app.json.response({"status": status, "reason": reason})
    response.status_code = code
    return response


def _add_request_hooks(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _SANE_REQUEST_ID.fullmatch(given) else str(uuid.uuid4())
        g.request_id_token = logs.request_id_var.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or str(uuid.uuid4())
        response.headers[REQUEST_ID_HEADER] = request_id
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        served = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not ten
        method, path, status = served.method, served.path, response.status_code
        route = served.url_rule.rule if served.url_rule is not None else "<unmatched>"
        metrics.observe_request(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return response
        # Method, path, status, peer address, duration: never the query string, headers or body.
        access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "remote_addr": served.remote_addr,
                "duration_ms": round(seconds * 1000, 2),
                "request_id": request_id,
            },
        )
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id_var.reset(token)


def _add_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.message)

    @app.errorhandler(BackupCodesError)
    def _refused(exc: BackupCodesError) -> Response:
        # Mapped by class: each carries its status and error code; messages name fields, never values.
        return error_response(exc.status, exc.error, str(exc)[:300])

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        body = http_error(status, exc.name)
        response = error_response(status, body["error"], body["message"])
        # Keep protocol headers Werkzeug attached (Allow on 405), drop its HTML body.
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        # The database is down, unreachable or busy past the timeout: nothing the caller sent is wrong,
        # and the same request may succeed shortly. One line per request, not a trace: an outage
        # would otherwise bury the log. The open transaction was rolled back; an attempt counted before
        # the hash stays counted, like any failed attempt (see the spec's Unavailable response).
        log.error("database unavailable in %s %s: %s", request.method, request.path, unavailable_reason(exc))
        response = error_response(503, "unavailable", "the database is unavailable; try again shortly")
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> Response:
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=exc)
        return error_response(500, "internal", "internal error; the request id is in the logs")


def _snake(name: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_") or "error"
