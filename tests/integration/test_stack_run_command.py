"""The README's run command: scripts/stack.py starts every part, answers on its URLs, and Ctrl-C stops it all.

Runs the real thing (Keycloak with the provider, the bridge, slapd, the mail sink) on free loopback ports
in a temporary stack directory, so it never touches a developer's own ``.stack/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "scripts" / "stack.py"
READY_MARK = "stack ready"
START_TIMEOUT = 900.0  # a generous bound on a cold start on a busy two-core machine, not an assertion

pytestmark = pytest.mark.keycloak


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children run in their own sessions, but keep their parent)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
        return response.status, response.read()


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    output: list[str]
    ports: dict[str, int]
    root: Path


def missing_parts() -> str | None:
    if not (REPO / "plugin" / "pom.xml").is_file():
        return "plugin/pom.xml does not exist yet (the Keycloak provider has not landed)"
    if not (REPO / "bridge" / "cli" / "__init__.py").is_file():
        return "bridge/cli/ does not exist yet (the backup-codes command has not landed)"
    if not shutil.which("java") and not Path("/usr/lib/jvm").is_dir():
        return "no Java runtime for Keycloak (run scripts/bootstrap.sh)"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    reason = missing_parts()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("stack")
    names = ["keycloak", "management", "bridge", "mail", "smtp", "ldap"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    command = [
        sys.executable,
        str(STACK),
        "--stack-dir",
        str(root),
        "--keycloak-port",
        str(ports["keycloak"]),
        "--management-port",
        str(ports["management"]),
        "--bridge-port",
        str(ports["bridge"]),
        "--mail-port",
        str(ports["mail"]),
        "--smtp-port",
        str(ports["smtp"]),
        "--ldap-port",
        str(ports["ldap"]),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if READY_MARK in line:
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    running = RunningStack(process, output, ports, root)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.is_set() and process.poll() is None and time.monotonic() < deadline:
            ready.wait(1)
        if not ready.is_set():
            pytest.fail("stack did not print 'stack ready':\n" + "".join(output[-80:]))
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                for pid in descendants(process.pid):
                    os.kill(pid, signal.SIGKILL)
                process.kill()
                process.wait()
        reader.join(10)


def test_stack_serves_the_demo_realm_in_keycloak(stack: RunningStack) -> None:
    status, body = get(
        f"http://127.0.0.1:{stack.ports['keycloak']}/realms/demo/.well-known/openid-configuration"
    )
    assert status == 200
    assert json.loads(body)["issuer"].endswith("/realms/demo")


def test_stack_serves_the_bridge_health_check(stack: RunningStack) -> None:
    status, _ = get(f"http://127.0.0.1:{stack.ports['bridge']}/healthz")
    assert status == 200


def test_stack_serves_the_mail_index(stack: RunningStack) -> None:
    status, body = get(f"http://127.0.0.1:{stack.ports['mail']}/")
    assert status == 200
    assert b"Demo mail" in body


def test_stack_mail_sink_keeps_each_mail_as_eml_and_lists_it(stack: RunningStack) -> None:
    message = EmailMessage()
    message["From"] = "keycloak@example.org"
    message["To"] = "alice@example.org"
    message["Subject"] = "Sink check <1>"
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", stack.ports["smtp"], timeout=30) as smtp:
        smtp.send_message(message)
    saved = [p.read_text() for p in (stack.root / "mail").glob("*.eml")]
    assert any("Subject: Sink check <1>" in text for text in saved)
    _, body = get(f"http://127.0.0.1:{stack.ports['mail']}/")
    assert b"Sink check &lt;1&gt;" in body


def test_stack_prints_the_urls_and_demo_credentials(stack: RunningStack) -> None:
    text = "".join(stack.output)
    assert f"http://127.0.0.1:{stack.ports['keycloak']}/realms/demo/account/" in text
    assert f"http://127.0.0.1:{stack.ports['keycloak']}/admin/master/console/" in text
    assert "alice / " in text


def test_stack_keeps_one_log_per_process(stack: RunningStack) -> None:
    logs = {p.name for p in (stack.root / "logs").iterdir()}
    assert {"keycloak.log", "bridge.log", "mail.log", "notify.log"} <= logs


def test_stack_never_writes_the_api_key_into_a_log(stack: RunningStack) -> None:
    key = (stack.root / "secrets" / "bridge-api-key").read_text().strip()
    for log in (stack.root / "logs").iterdir():
        assert key not in log.read_text(errors="replace"), log.name
    assert key not in "".join(stack.output)


def test_stack_keeps_its_background_workers_running(stack: RunningStack) -> None:
    text = "".join(stack.output)
    assert "exited with status" not in text, text[-3000:]


def test_stack_sigint_stops_every_process_it_started(stack: RunningStack) -> None:
    children = descendants(stack.process.pid)
    assert children, "the stack should have child processes while running"
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(120) == 0
    still_running = {pid for pid in children if alive(pid)}
    assert not still_running, f"left behind: {still_running}"
