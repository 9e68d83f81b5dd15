"""End to end through a served bridge (`backup-codes serve`), real HTTP and a real SMTP server on loopback:
remembered devices and a recovery that lifts a lock, with the mails the user gets and the logs kept clean."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import requests

from tests.fixtures.bridge_server import REPO

REALM, USER = "demo", "alice"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def call(bridge: Any, method: str, path: str, body: Any = None) -> requests.Response:
    url = f"{bridge.url}/v1/realms/{REALM}/users/{USER}{path}"
    return requests.request(method, url, headers=bridge.headers, json=body, timeout=30)


def send_mail(bridge: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "notify", "run", "--once"],
        cwd=REPO,
        env=bridge.env_for_cli(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def served_bridge(start_bridge: Any, smtp_server: Any) -> Any:
    bridge = start_bridge(
        extra_env={
            "BACKUP_CODES_SMTP_HOST": smtp_server.host,
            "BACKUP_CODES_SMTP_PORT": str(smtp_server.port),
            "BACKUP_CODES_ORGANISATION_NAME": "Acme",
        }
    )
    assert call(bridge, "PUT", "/contact", {"email": "alice@example.org"}).status_code == 200
    return bridge


def test_remembered_device_is_recognised_until_forgotten_and_the_user_is_mailed(
    start_bridge: Any, smtp_server: Any
) -> None:
    bridge = served_bridge(start_bridge, smtp_server)

    device = call(bridge, "POST", "/devices", {"client_ip": "192.0.2.7", "user_agent": CHROME}).json()
    recognised = call(bridge, "POST", "/devices/check", {"token": device["token"], "client_ip": "192.0.2.7"})
    forgotten = call(bridge, "POST", "/devices/forget", {"reason": "password_reset"})
    after = call(bridge, "POST", "/devices/check", {"token": device["token"], "client_ip": "192.0.2.7"})
    send_mail(bridge)

    assert recognised.json()["recognised"] is True
    assert forgotten.json() == {"forgotten": 1}
    assert after.json() == {"recognised": False, "device_id": device["device_id"], "reason": "forgotten"}
    [mail] = [m for m in smtp_server.messages if "unrecognised device" in m["Subject"]]
    assert (
        mail["To"] == "alice@example.org" and "Chrome on Windows" in mail.get_body(("plain",)).get_content()
    )
    assert device["token"].rsplit(".", 1)[1] not in bridge.log_text()


def test_recovery_lifts_a_temporary_directory_lock_and_mails_account_recovered(
    start_bridge: Any, smtp_server: Any
) -> None:
    bridge = served_bridge(start_bridge, smtp_server)
    codes = call(bridge, "POST", "/codes").json()["codes"]
    call(
        bridge,
        "PUT",
        "/locks/directory",
        {"kind": "temporary", "reason": "failed binds", "duration_seconds": 900},
    )

    login = call(bridge, "POST", "/codes/verify", {"code": codes[0], "client_ip": "192.0.2.7"})
    recovery = call(
        bridge, "POST", "/codes/verify", {"code": codes[1], "client_ip": "192.0.2.7", "purpose": "recovery"}
    )
    status = call(bridge, "GET", "/codes").json()
    send_mail(bridge)

    assert login.json()["reason"] == "locked"
    assert recovery.json()["valid"] is True and recovery.json()["cleared_locks"] == ["directory"]
    assert status["lock"]["locked"] is False and status["enroll_required"] is True
    [mail] = [m for m in smtp_server.messages if "recovered" in m["Subject"]]
    assert "temporary lock on your account has been lifted" in mail.get_body(("plain",)).get_content()
