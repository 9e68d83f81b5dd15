#!/usr/bin/env python3
"""A local SMTP sink for the demo stack: every mail lands as an ``.eml`` file and on a small web page.

It lets someone trying the stack see what the bridge and Keycloak would send (codes issued, lockouts,
password resets) without a real mail server. Loopback only, nothing is ever relayed, and the web
page is read-only: an index of the messages and each one shown as plain text.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import re
import signal
import threading
import time
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9]+\.eml$")


class MaildirHandler:
    """aiosmtpd handler that writes each accepted message to its own file, atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self._counter += 1
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            micros = f"{time.time() % 1:.6f}"[2:]
            name = f"{stamp}.{micros}Z-{self._counter}.eml"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(self.directory / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)  # type: ignore[return-value]


def list_messages(directory: Path) -> list[Path]:
    return sorted((p for p in directory.iterdir() if MESSAGE_NAME.match(p.name)), reverse=True)


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    return body.get_content()


def render_index(directory: Path) -> str:
    rows = []
    for path in list_messages(directory):
        message = read_message(path)
        rows.append(
            '<tr><td>{date}</td><td>{to}</td><td><a href="/messages/{name}">{subject}</a></td>'
            '<td><a href="/raw/{name}">.eml</a></td></tr>'.format(
                date=html.escape(str(message.get("Date", ""))),
                to=html.escape(str(message.get("To", ""))),
                subject=html.escape(str(message.get("Subject", "(no subject)"))),
                name=html.escape(path.name),
            )
        )
    table = "\n".join(rows) or '<tr><td colspan="4">No mail yet.</td></tr>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo mail</title>'
        '<meta http-equiv="refresh" content="10"></head><body>'
        f"<h1>Demo mail ({len(rows)})</h1>"
        "<table><thead><tr><th>Date</th><th>To</th><th>Subject</th><th>Raw</th></tr></thead>"
        f"<tbody>{table}</tbody></table></body></html>"
    )


def render_message(path: Path) -> str:
    message = read_message(path)
    headers = "".join(
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(str(message.get(name, '')))}</dd>"
        for name in ("From", "To", "Date", "Subject")
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(str(message.get('Subject', '')))}</title></head><body>"
        f'<p><a href="/">All mail</a></p><dl>{headers}</dl>'
        f"<pre>{html.escape(plain_text(message))}</pre></body></html>"
    )


def make_handler(directory: Path) -> type[BaseHTTPRequestHandler]:
    class MailIndexHandler(BaseHTTPRequestHandler):
        server_version = "demo-mail-sink"

        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", render_index(directory).encode())
                return
            for prefix, render in (("/messages/", "html"), ("/raw/", "raw")):
                if not self.path.startswith(prefix):
                    continue
                name = self.path[len(prefix) :]
                path = directory / name
                if not MESSAGE_NAME.match(name) or not path.is_file():
                    break
                if render == "raw":
                    self._send(HTTPStatus.OK, "text/plain; charset=utf-8", path.read_bytes())
                else:
                    self._send(HTTPStatus.OK, "text/html; charset=utf-8", render_message(path).encode())
                return
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

        def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'none'")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            print(f"http {self.address_string()} {format % args}", flush=True)

    return MailIndexHandler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="where .eml files are written")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(args.dir), hostname=args.host, port=args.smtp_port)
    controller.start()
    web = ThreadingHTTPServer((args.host, args.http_port), make_handler(args.dir))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=web.serve_forever, daemon=True).start()
    print(f"smtp on {args.host}:{args.smtp_port}, index on http://{args.host}:{args.http_port}/", flush=True)
    try:
        stop.wait()
    finally:
        web.shutdown()
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
