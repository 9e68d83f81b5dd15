"""What the served bridge (``backup-codes serve``) refuses before the app sees it is JSON too:
``{"error", "message"}`` with the right status, never waitress' text/plain."""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def send_raw(bridge: Any, request: bytes) -> RawResponse:
    """One request exactly as given (bytes no HTTP client would send), read until the server closes.

    A server that answers before reading all of a refused request closes with bytes unread, which
    resets the connection after its answer: what arrived before the reset is the answer.
    """
    received = b""
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            if not received:
                raise
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, body)


def request_bytes(bridge: Any, *, extra_headers: bytes = b"", content_length: int | None = None) -> bytes:
    lines = [
        b"POST /v1/realms/demo/users/alice/codes/verify HTTP/1.1",
        b"Host: 127.0.0.1",
        f"Authorization: Bearer {bridge.api_key}".encode(),
        b"Content-Type: application/json",
    ]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}".encode())
    return b"\r\n".join(lines) + b"\r\n" + extra_headers + b"\r\n"


def json_error(response: RawResponse, status: int, error: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) == {"error", "message"}
    assert body["error"] == error


@pytest.fixture(scope="module")
def served(bridge_server_factory: Any) -> Any:
    return bridge_server_factory()


def test_a_body_over_the_servers_limit_is_a_json_413(served: Any) -> None:
    # The length alone decides: the server refuses before reading a byte of the 300 KiB.
    response = send_raw(served, request_bytes(served, content_length=300 * 1024))
    json_error(response, 413, "payload_too_large")


def test_headers_of_100_kib_are_a_json_431(served: Any) -> None:
    big = b"X-Padding: " + b"a" * (100 * 1024) + b"\r\n"
    response = send_raw(served, request_bytes(served, extra_headers=big, content_length=0))
    json_error(response, 431, "headers_too_large")


def test_a_nul_byte_in_a_header_value_is_a_json_400(served: Any) -> None:
    response = send_raw(served, request_bytes(served, extra_headers=b"X-Note: a\x00b\r\n", content_length=0))
    json_error(response, 400, "bad_request")


def test_a_chunked_body_over_the_servers_limit_is_a_json_413(served: Any) -> None:
    chunk = b"a" * 65536
    chunks = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 5 + b"0\r\n\r\n"
    request = request_bytes(served, extra_headers=b"Transfer-Encoding: chunked\r\n") + chunks
    json_error(send_raw(served, request), 413, "payload_too_large")
