"""The local stack's own parts, each on its own and fast: the mail sink, the demo directory, --reset.

The whole stack (with Keycloak) is tested in test_stack_run_command.py; these pin down the pieces
that stack.py adds itself, so a failure there points at the right place.
"""

from __future__ import annotations

import importlib.util
import os
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_stack_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stack_script", REPO / "scripts" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


stack_script = load_stack_module()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


# --------------------------------------------------------------------------- mail sink


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[dict[str, object]]:
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "mail_sink.py"),
            "--dir",
            str(tmp_path),
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(f"mail sink exited: {process.stdout.read().decode() if process.stdout else ''}")
            if stack_script.http_ok(f"http://127.0.0.1:{http_port}/"):
                break
            time.sleep(0.05)
        yield {"dir": tmp_path, "smtp": smtp_port, "http": f"http://127.0.0.1:{http_port}"}
    finally:
        process.terminate()
        process.wait(30)


def send(port: int, subject: str, body: str = "hello") -> None:
    message = EmailMessage()
    message["From"] = "backup-codes@example.org"
    message["To"] = "alice@example.org"
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message)


def test_mail_sink_writes_each_mail_as_an_eml_file(mail_sink: dict) -> None:
    send(mail_sink["smtp"], "First")
    send(mail_sink["smtp"], "Second")
    files = sorted(Path(mail_sink["dir"]).glob("*.eml"))
    assert len(files) == 2
    assert "Subject: First" in files[0].read_text() or "Subject: First" in files[1].read_text()


def test_mail_sink_index_lists_mails_with_their_subject_escaped(mail_sink: dict) -> None:
    send(mail_sink["smtp"], "<script>alert(1)</script>")
    status, page = fetch(mail_sink["http"] + "/")
    assert status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_mail_sink_shows_one_message_as_text(mail_sink: dict) -> None:
    send(mail_sink["smtp"], "Your codes", body="You have 3 backup codes left.")
    name = next(Path(mail_sink["dir"]).glob("*.eml")).name
    status, page = fetch(f"{mail_sink['http']}/messages/{name}")
    assert status == 200
    assert "You have 3 backup codes left." in page


@pytest.mark.parametrize(
    "path", ["/raw/../../etc/passwd", "/raw/%2e%2e%2fetc%2fpasswd", "/messages/x.eml", "/nope"]
)
def test_mail_sink_serves_nothing_but_its_own_messages(mail_sink: dict, path: str) -> None:
    status, _ = fetch(mail_sink["http"] + path)
    assert status == 404


# --------------------------------------------------------------------------- reset


def test_reset_refuses_a_directory_the_stack_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(stack_script.StackError, match="refusing to wipe"):
        stack_script.reset(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_reset_wipes_a_stack_directory(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    stack = stack_script.Stack(root=root, ports=stack_script.Ports(), with_ldap=False)
    stack_script.prepare_directories(stack)
    (root / "data" / "backup-codes.db").write_text("demo")
    stack_script.reset(root)
    assert not root.exists()


def test_generated_secrets_are_private_and_reused(tmp_path: Path) -> None:
    stack = stack_script.Stack(root=tmp_path, ports=stack_script.Ports(), with_ldap=False)
    stack_script.prepare_directories(stack)
    first = stack_script.secret(stack, "pepper")
    assert stack_script.secret(stack, "pepper") == first
    assert (tmp_path / "secrets" / "pepper").stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------- demo directory


@pytest.fixture
def demo_directory(tmp_path: Path) -> Iterator[object]:
    if not Path(stack_script.SLAPD).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("slapd is not installed (scripts/bootstrap.sh installs it)")
        pytest.skip("slapd is not installed: apt-get install slapd ldap-utils")
    ports = stack_script.Ports(ldap=free_port())
    stack = stack_script.Stack(root=tmp_path, ports=ports, with_ldap=True)
    stack_script.prepare_directories(stack)
    try:
        stack_script.start_slapd(stack)
        stack_script.seed_directory(stack)
        yield stack
    finally:
        stack_script.stop_all(stack)


@pytest.mark.ldap
def test_demo_directory_lets_the_demo_users_bind(demo_directory: object) -> None:
    from ldap3 import Connection, Server

    for user in stack_script.DEMO_USERS:
        conn = Connection(
            Server(demo_directory.ldap_url), f"uid={user.username},{stack_script.LDAP_PEOPLE}", user.password
        )
        assert conn.bind(), user.username
        conn.unbind()


@pytest.mark.ldap
def test_demo_directory_stores_passwords_hashed(demo_directory: object) -> None:
    from ldap3 import Connection, Server

    root_password = stack_script.secret(demo_directory, "ldap-admin-password")
    with Connection(
        Server(demo_directory.ldap_url), stack_script.LDAP_ROOT_DN, root_password, auto_bind=True
    ) as conn:
        conn.search(
            f"uid=alice,{stack_script.LDAP_PEOPLE}",
            "(objectClass=*)",
            search_scope="BASE",
            attributes=["userPassword", "mail"],
        )
        entry = conn.response[0]["raw_attributes"]
    assert entry["mail"] == [b"alice@example.org"]
    assert entry["userPassword"][0].startswith(b"{SSHA}")


@pytest.mark.ldap
def test_demo_directory_locks_an_account_after_five_failed_binds(demo_directory: object) -> None:
    from ldap3 import Connection, Server

    dn = f"uid=bob,{stack_script.LDAP_PEOPLE}"
    for _ in range(5):
        assert not Connection(Server(demo_directory.ldap_url), dn, "wrong").bind()
    _wait_for_lock(demo_directory, dn)
    assert not Connection(Server(demo_directory.ldap_url), dn, "bob-demo-password").bind()


def _wait_for_lock(stack: object, dn: str) -> None:
    """slapd answers the failed bind before ppolicy's lock is visible; a bind right after can race it."""
    from ldap3 import Connection, Server

    root_password = stack_script.secret(stack, "ldap-admin-password")
    with Connection(Server(stack.ldap_url), stack_script.LDAP_ROOT_DN, root_password, auto_bind=True) as conn:
        locked = "(pwdAccountLockedTime=*)"
        stack_script.wait_until(
            stack, "slapd", lambda: conn.search(dn, locked, search_scope="BASE"), timeout=10
        )


@pytest.mark.ldap
def test_demo_directory_is_seeded_only_once(demo_directory: object) -> None:
    stack_script.seed_directory(demo_directory)  # a rerun finds the tree and adds nothing
