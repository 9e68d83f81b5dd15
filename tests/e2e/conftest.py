"""The whole stack for browser tests: real Keycloak (with the provider), a real bridge process, the realm
installer, and Debian's Chromium driven by Playwright.

One realm for the session, installed by ``bridge.realm`` exactly as an operator would; one fresh user per
test, so tests do not depend on each other's codes or lockouts.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bridge import realm as installer
from tests.e2e import pages

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
PASSWORD = "correct horse battery staple"


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
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

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
        user = {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.test",
            "emailVerified": True,
            "firstName": username.capitalize(),
            "lastName": "Tester",
            "requiredActions": [installer.REQUIRED_ACTION_ID],
            "credentials": [{"type": "password", "value": PASSWORD}, otp],
        }
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
    context = chromium.new_context(viewport=pages.DESKTOP, accept_downloads=True, locale="en-GB")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.keycloak.base_url)
    context.route(
        REDIRECT_URI.split("/callback")[0] + "/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>signed in</h1>"),
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def new_page(chromium: Any, stack: Stack) -> Iterator[Any]:
    """A factory for further fresh browser profiles (a second login after 'logout')."""
    contexts = []

    def make(viewport: dict[str, int] = pages.DESKTOP) -> Any:
        context = chromium.new_context(viewport=viewport, accept_downloads=True, locale="en-GB")
        context.route(
            REDIRECT_URI.split("/callback")[0] + "/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>signed in</h1>"),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def e2e_bridge(
    keycloak: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Any:
    """A real `backup-codes serve` on the port Keycloak was told about."""
    start_bridge = request.getfixturevalue("bridge_server_factory")
    data_dir = tmp_path_factory.mktemp("e2e-bridge")
    return start_bridge(port=keycloak.bridge_port, data_dir=data_dir)


@pytest.fixture(scope="session")
def stack(keycloak: Any, e2e_bridge: Any) -> Stack:
    realm = keycloak.create_realm("e2e", displayName="Example Corp")
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
        installer.plan_install(realm_installer.read_state(), installer.InstallOptions()), echo=lambda _: None
    )
    keycloak.set_bridge_api_key(realm, e2e_bridge.create_api_key(f"keycloak-{realm}"))
    return Stack(keycloak=keycloak, realm=realm, bridge=e2e_bridge)


@pytest.fixture
def enrolled_user(stack: Stack, new_page: Any) -> User:
    """A user who went through the setup page once and kept the codes."""
    user = stack.new_user("enrolled")
    page = new_page()
    pages.sign_in_with_password(page, stack.login_url, user.username, user.password)
    user.codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    pages.expect_signed_in(page, REDIRECT_URI)
    page.context.close()
    return user


def random_wrong_code() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
