"""waitress, answering the requests it refuses itself in the app's ``{"error", "message"}`` JSON.

waitress turns some requests away before the app sees them: a body over ``max_request_body_size``
(413), a request line and headers over ``max_request_header_size`` (431), a malformed request line or
header such as a NUL byte in a value (400), a transfer coding it does not implement (501), and an
exception after the app started answering (500). It writes those from ``waitress.task.ErrorTask`` as
``text/plain``. ``HTTPChannel.error_task_class`` is where waitress picks that task, so a channel with
:class:`JsonErrorTask` makes every answer of the bridge JSON, with the same codes and messages as the
app's own error handler (:func:`bridge.http.app.http_error`).
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from bridge.http.app import MAX_HEADER_BYTES, SERVER_MAX_BODY_BYTES, create_app, http_error
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.ops.hash_gate import HashGate


class JsonErrorTask(ErrorTask):
    """waitress' error answer (status line, close after it) with the app's JSON body."""

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps(http_error(error.code, error.reason), separators=(",", ":")).encode() + b"\n"
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("Cache-Control", "no-store")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def serve(app: Any, **adjustments: Any) -> None:
    """``waitress.serve`` for one listening socket, its connections on :class:`JsonErrorChannel`."""
    server = create_server(app, **adjustments)
    if not isinstance(server, BaseWSGIServer):  # several sockets: a MultiSocketServer we do not use
        raise ValueError("bridge.http.server.serve takes exactly one listening socket")
    server.channel_class = JsonErrorChannel
    server.run()


def serve_worker(sock: socket.socket, settings: Settings, threads: int, hash_gate: HashGate) -> None:
    """One ``serve`` worker: its own app (engine, service) on the supervisor's listening socket.

    The supervisor (:mod:`bridge.ops.supervisor`) is handed this function by ``backup-codes serve``.
    """
    app = create_app(settings, hash_gate=hash_gate)
    serve(
        app,
        sockets=[sock],
        threads=threads,
        ident="backup-codes",
        channel_timeout=30,
        max_request_body_size=SERVER_MAX_BODY_BYTES,
        max_request_header_size=MAX_HEADER_BYTES,
        clear_untrusted_proxy_headers=True,
    )
