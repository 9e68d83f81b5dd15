"""The whole stack for browser tests: real Keycloak (with the provider), a real bridge process, the realm
installer, and Debian's Chromium driven by Playwright.

One realm for the session, installed by ``bridge.realm`` exactly as an operator would; one fresh user per
test, so tests do not depend on each other's codes or lockouts. The recovery scenarios get realms of their
own (remembered devices, brute-force detection, Keycloak's own mail) and an SMTP sink that receives both
Keycloak's mail and the bridge's notifications (sent by a real ``backup-codes notify run`` process).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bridge import realm as installer
from bridge.domain.locales import KEYCLOAK_LOGIN_LOCALES, language_tag
from tests.e2e import pages
from tests.fixtures.keycloak import user_representation
from tests.fixtures.smtp import SmtpServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CLIENT_ID = "e2e-app"
# Nothing listens here: the browser's request to it is answered by a Playwright route, so "signed in"
# means "Keycloak redirected back to the application with an authorization code".
REDIRECT_URI = "http://app.e2e.test/callback"
APP_ORIGIN = REDIRECT_URI.split("/callback")[0]
PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[2]
MAIL_FROM = "security@example.test"
USER_NUMBERS = itertools.count(1)
WAIT_SECONDS = 60.0  # for state that settles asynchronously (mail delivery, brute-force counters)


@dataclass
class User:
    username: str
    password: str
    id: str
    codes: list[str] = field(default_factory=list)


@dataclass
class Stack:
    keycloak: Any
    realm: str
    bridge: Any  # a running `backup-codes serve` process (stop()/start())
    mail: Mailbox | None = None  # the SMTP sink, for stacks whose realm sends mail
    # One counter for every realm: usernames, hence mail addresses, never repeat within a session, so a
    # mail read from the shared sink is always the one this test caused.
    _numbers: Iterator[int] = field(default_factory=lambda: USER_NUMBERS)

    def admin(self) -> Any:
        return self.keycloak.admin(self.realm)

    def login_url_with(self, **params: str) -> str:
        """The login URL with extra parameters, e.g. ``kc_action`` for an application-initiated action."""
        return f"{self.login_url}&{urlencode(params)}"

    @property
    def cookie_path(self) -> str:
        return f"/realms/{self.realm}/"

    @property
    def login_url(self) -> str:
        query = urlencode(
            {
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": "openid",
            }
        )
        return f"{self.keycloak.base_url}/realms/{self.realm}/protocol/openid-connect/auth?{query}"

    @property
    def logout_url(self) -> str:
        query = urlencode({"client_id": CLIENT_ID})
        return f"{self.keycloak.base_url}/realms/{self.realm}/protocol/openid-connect/logout?{query}"

    def new_user(self, prefix: str = "user", *, enrol: bool = True) -> User:
        username = f"{prefix}{next(self._numbers)}"
        extra = {"requiredActions": [installer.REQUIRED_ACTION_ID]} if enrol else {}
        user_id = self.keycloak.create_user(self.realm, username, PASSWORD, **extra)
        return User(username=username, password=PASSWORD, id=user_id)

    def new_user_setting_up_otp(self, prefix: str = "newotp") -> User:
        """A user without backup codes whom Keycloak asks to set up an authenticator app at sign-in."""
        username = f"{prefix}{next(self._numbers)}"
        actions = {"requiredActions": ["CONFIGURE_TOTP"]}
        user_id = self.keycloak.create_user(self.realm, username, PASSWORD, **actions)
        return User(username=username, password=PASSWORD, id=user_id)

    def new_user_with_otp(self, prefix: str = "otp") -> tuple[User, bytes]:
        """A user who already has an authenticator app (only a partial import can add one)."""
        username = f"{prefix}{next(self._numbers)}"
        secret = secrets.token_hex(10)
        otp = {
            "type": "otp",
            "userLabel": "phone",
            "secretData": json.dumps({"value": secret}),
            "credentialData": json.dumps(
                {"subType": "totp", "digits": 6, "period": 30, "algorithm": "HmacSHA1", "counter": 0}
            ),
        }
        user = user_representation(username, PASSWORD, requiredActions=[installer.REQUIRED_ACTION_ID])
        user["credentials"].append(otp)
        admin = self.keycloak.admin(self.realm)
        response = admin.connection.raw_post(
            f"admin/realms/{self.realm}/partialImport",
            data=json.dumps({"ifResourceExists": "FAIL", "users": [user]}),
        )
        assert response.status_code == 200, response.text
        user_id = admin.get_user_id(username)
        # Keycloak's TOTP key is the secret's UTF-8 bytes (the QR code shows their base32).
        return User(username=username, password=PASSWORD, id=user_id), secret.encode()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, stack: Stack) -> Iterator[Any]:
    """A fresh browser profile (no cookies: a logged-out user) at desktop size."""
    page = pages.fresh_page(chromium, APP_ORIGIN)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.keycloak.base_url)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """A factory for further fresh browser profiles (a second login after 'logout', another device)."""
    contexts = []

    def make(viewport: dict[str, int] = pages.DESKTOP) -> Any:
        page = pages.fresh_page(chromium, APP_ORIGIN, viewport)
        contexts.append(page.context)
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):  # a test may have closed it already
            context.close()


# ---------------------------------------------------------------------------------------------- mail


class Mailbox:
    """The SMTP sink as the tests read it: mail to one address, waited for, never assumed absent."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return self.server.port

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message
            for message, (_, recipients) in zip(self.server.messages, self.server.envelopes, strict=False)
            if address.lower() in (r.lower() for r in recipients)
        ]

    def wait_for(self, address: str, subject: str, timeout: float = WAIT_SECONDS) -> EmailMessage:
        """The first mail to ``address`` whose subject contains ``subject`` (case-insensitive)."""
        wanted = subject.lower()
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(address) if wanted in str(m["Subject"]).lower()]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in self.to(address)]
                raise AssertionError(f"no mail to {address} with '{subject}' (got {subjects})")
            time.sleep(0.1)

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain", "html"))
        assert body is not None, "mail without a text body"
        return str(body.get_content())


def reset_link(message: EmailMessage) -> str:
    """The action-token link in Keycloak's "Reset password" mail."""
    match = re.search(r"https?://\S+/login-actions/action-token\?\S+", Mailbox.text(message))
    assert match, "no reset link in the mail"
    return match.group(0).replace("&amp;", "&")


@pytest.fixture(scope="session")
def e2e_mail() -> Iterator[Mailbox]:
    """One SMTP sink for the session: Keycloak's realms and the bridge's notifier both send here."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        _unavailable("aiosmtpd is not installed (pip install -e '.[test]')")
    server = SmtpServer(Controller)
    server.start()
    try:
        yield Mailbox(server)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- bridge


@pytest.fixture(scope="session")
def e2e_bridge(
    keycloak: Any, e2e_mail: Mailbox, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Any:
    """A real `backup-codes serve` on the port Keycloak was told about (device recognition on)."""
    start_bridge = request.getfixturevalue("bridge_server_factory")
    data_dir = tmp_path_factory.mktemp("e2e-bridge")
    return start_bridge(
        port=keycloak.bridge_port,
        data_dir=data_dir,
        extra_env={
            "BACKUP_CODES_SMTP_HOST": "127.0.0.1",
            "BACKUP_CODES_SMTP_PORT": str(e2e_mail.port),
            "BACKUP_CODES_MAIL_FROM": MAIL_FROM,
            "BACKUP_CODES_ORGANISATION_NAME": "Example Corp",
            "BACKUP_CODES_NOTIFY_POLL_SECONDS": "0.3",
            # Every browser of the suite is 127.0.0.1: the 41-language loop alone makes 41 verifications
            # in one realm in under a minute on a fast run. The per-IP limit is tested in tests/integration.
            "BACKUP_CODES_IP_RATE_LIMIT": "1000",
        },
    )


@pytest.fixture(scope="session")
def notifier(e2e_bridge: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    """`backup-codes notify run` on the bridge's database: queued notifications reach the SMTP sink."""
    log_path = tmp_path_factory.mktemp("e2e-notifier") / "notify.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "notify", "run"],
            cwd=REPO,
            env=e2e_bridge.env_for_cli(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def backup_codes_cli(
    bridge: Any, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The operator's `backup-codes …` command on the e2e bridge's database (``env``: extra settings)."""
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        cwd=REPO,
        env={**bridge.env_for_cli(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# ---------------------------------------------------------------------------------------------- realms


def build_stack(
    keycloak: Any,
    bridge: Any,
    prefix: str,
    options: installer.InstallOptions | None = None,
    mail: Mailbox | None = None,
    **representation: Any,
) -> Stack:
    """A realm with the test client, installed by the realm installer, with its own bridge API key."""
    realm = keycloak.create_realm(prefix, displayName="Example Corp", **representation)
    admin = keycloak.admin(realm)
    admin.create_client(
        {
            "clientId": CLIENT_ID,
            "publicClient": True,
            "standardFlowEnabled": True,
            "redirectUris": [REDIRECT_URI],
            "webOrigins": [],
        }
    )
    realm_installer = installer.Installer(admin, realm)
    realm_installer.apply(
        installer.plan_install(realm_installer.read_state(), options or installer.InstallOptions()),
        echo=lambda _: None,
    )
    # A key for this realm only (as `realm install --create-api-key` makes): Keycloak works unchanged with it.
    keycloak.set_bridge_api_key(realm, bridge.create_api_key(f"keycloak-{realm}", realms=[realm]))
    return Stack(keycloak=keycloak, realm=realm, bridge=bridge, mail=mail)


@pytest.fixture(scope="session")
def stack(keycloak: Any, e2e_bridge: Any) -> Stack:
    return build_stack(keycloak, e2e_bridge, "e2e")


BRUTE_FORCE = {
    "bruteForceProtected": True,
    "failureFactor": 3,
    "waitIncrementSeconds": 300,
    "maxFailureWaitSeconds": 900,
    "maxDeltaTimeSeconds": 43200,
    "quickLoginCheckMilliSeconds": 1,
    "minimumQuickLoginWaitSeconds": 60,
}


@pytest.fixture(scope="session")
def recovery(keycloak: Any, e2e_bridge: Any, e2e_mail: Mailbox, notifier: Any) -> Stack:
    """The recovery realm: forgot password (email + code), remembered devices (30 days), a temporary
    brute-force lockout after 3 failures, users may change their email (UPDATE_EMAIL is off by default),
    and Keycloak's own mail going to the sink."""
    stack = build_stack(
        keycloak,
        e2e_bridge,
        "recovery",
        installer.InstallOptions(remember_device_days=30, reset_mode=installer.EMAIL_AND_CODE),
        mail=e2e_mail,
        resetPasswordAllowed=True,
        smtpServer={
            "host": "127.0.0.1",
            "port": str(e2e_mail.port),
            "from": "keycloak@example.test",
            "fromDisplayName": "Example Corp",
        },
        permanentLockout=False,
        **BRUTE_FORCE,
    )
    admin = stack.admin()
    admin.update_required_action(
        "UPDATE_EMAIL", {**admin.get_required_action_by_alias("UPDATE_EMAIL"), "enabled": True}
    )
    return stack


@pytest.fixture(scope="session")
def code_only_reset(keycloak: Any, e2e_bridge: Any, e2e_mail: Mailbox, notifier: Any) -> Stack:
    """A realm that lets a backup code alone reset the password (--reset-mode code-only)."""
    return build_stack(
        keycloak,
        e2e_bridge,
        "codeonly",
        installer.InstallOptions(reset_mode=installer.CODE_ONLY),
        mail=e2e_mail,
        resetPasswordAllowed=True,
        smtpServer={"host": "127.0.0.1", "port": str(e2e_mail.port), "from": "keycloak@example.test"},
    )


@pytest.fixture(scope="session")
def multilingual(keycloak: Any, e2e_bridge: Any) -> Stack:
    """A realm that speaks every language of Keycloak's login theme (kc_locale switches between them)."""
    return build_stack(
        keycloak,
        e2e_bridge,
        "i18n",
        internationalizationEnabled=True,
        supportedLocales=[language_tag(locale) for locale in KEYCLOAK_LOGIN_LOCALES],
        defaultLocale="en",
    )


@pytest.fixture(scope="session")
def permanent_lockout(keycloak: Any, e2e_bridge: Any) -> Stack:
    """A realm whose brute-force detection locks for good after 3 failures."""
    return build_stack(keycloak, e2e_bridge, "permanent", permanentLockout=True, **BRUTE_FORCE)


# ---------------------------------------------------------------------------------------------- users


def enrol(stack: Stack, new_page: Callable[..., Any], prefix: str = "enrolled") -> User:
    """A fresh user who set up codes once (in a browser closed afterwards) and kept them."""
    user = stack.new_user(prefix)
    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    user.codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    pages.expect_signed_in(page, REDIRECT_URI)
    page.context.close()
    return user


@pytest.fixture
def enrolled_user(stack: Stack, new_page: Any) -> User:
    """A user who went through the setup page once and kept the codes."""
    return enrol(stack, new_page)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``condition`` until it returns something truthy (state that settles asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def random_wrong_code() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
