"""Seconds per full browser-style login: password + our backup code versus password + Keycloak's built-in
recovery code, over plain HTTP (requests; forms parsed from the HTML, no JavaScript), on one Keycloak.

Two realms on the same server: one installed by ``bridge.realm`` (our step, the bridge behind it), one with
a copy of the browser flow where Keycloak's own "Recovery Authentication Code Form" is ALTERNATIVE. Users
are enrolled through the required-action pages, exactly as a browser would, then each login is timed
from the first GET of the authorization endpoint to the redirect carrying the authorization code.

    .venv/bin/python benchmarks/login.py --keycloak-url http://127.0.0.1:8080 --admin-password ... --logins 30
    .venv/bin/python benchmarks/login.py --start   # start Keycloak and a bridge here, measure, stop both

Prints the median per login for each, and the ratio ours / built-in (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bridge import realm as installer  # noqa: E402
from scripts import keycloak_dist  # noqa: E402

CLIENT_ID = "bench-app"
REDIRECT_URI = "http://app.bench.test/callback"
PASSWORD = "bench password 1234"
BUILTIN_FLOW = "browser-recovery-codes"
BUILTIN_PROVIDER = "auth-recovery-authn-code-form"
TARGET_RATIO = 1.3


# ------------------------------------------------------------------------------------------ HTML forms


@dataclass
class Form:
    id: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.codes: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(id=a.get("id", ""), action=unescape(a.get("action", ""))))
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") == "checkbox":
                self.forms[-1].checkboxes.append(a["name"])
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "code" and "bc-code" in a.get("class", ""):
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code and data.strip():
            self.codes.append(data.strip())


def parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def form(html: str, form_id: str) -> Form:
    for f in parse(html).forms:
        if f.id == form_id:
            return f
    ids = [f.id for f in parse(html).forms]
    raise RuntimeError(f"no form #{form_id} on the page (forms: {ids})")


# ------------------------------------------------------------------------------------------- HTTP login


class Browser:
    """A cookie jar that follows Keycloak's redirects and stops at the application's callback."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def request(self, method: str, url: str, data: dict[str, str] | None = None) -> tuple[str, str]:
        """(final URL, body); the body is empty when we arrived at the application."""
        response = self._send(method, url, data)
        while response.is_redirect:
            location = urljoin(url, response.headers["Location"])
            if location.startswith(REDIRECT_URI):
                return location, ""
            url = location
            response = self._send("GET", url, None)
        response.raise_for_status()
        return url, response.text

    def _send(self, method: str, url: str, data: dict[str, str] | None) -> requests.Response:
        response = self.session.request(method, url, data=data, allow_redirects=False, timeout=60)
        # Keycloak marks its cookies Secure; browsers send them to http://127.0.0.1 (a secure context),
        # Python's cookie jar does not. Behave like the browser.
        for cookie in self.session.cookies:
            cookie.secure = False
        return response


def auth_url(base_url: str, realm: str) -> str:
    query = urlencode(
        {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid"}
    )
    return f"{base_url}/realms/{realm}/protocol/openid-connect/auth?{query}"


def password_step(browser: Browser, base_url: str, realm: str, username: str) -> tuple[str, str]:
    _, html = browser.request("GET", auth_url(base_url, realm))
    login = form(html, "kc-form-login")
    return browser.request(
        "POST", login.action, {**login.fields, "username": username, "password": PASSWORD, "credentialId": ""}
    )


def signed_in(url: str) -> bool:
    return url.startswith(REDIRECT_URI) and "code=" in url


# ------------------------------------------------------------------------------------ our backup codes


def enrol_ours(base_url: str, realm: str, username: str) -> list[str]:
    browser = Browser()
    url, html = password_step(browser, base_url, realm, username)
    codes = parse(html).codes
    setup = form(html, "kc-backup-code-setup-form")
    url, _ = browser.request(
        "POST", setup.action, {**setup.fields, "backupCodeConfirm": "on", "backupCodeContinue": "true"}
    )
    if not signed_in(url) or not codes:
        raise RuntimeError(f"backup-code enrolment of {username} did not finish ({url})")
    return codes


def login_ours(base_url: str, realm: str, username: str, code: str) -> None:
    browser = Browser()
    _, html = password_step(browser, base_url, realm, username)
    step = form(html, "kc-backup-code-login-form")
    url, html = browser.request("POST", step.action, {"backupCode": code, "login": ""})
    if not signed_in(url) and "kc-backup-code-low-form" in html:
        low = form(html, "kc-backup-code-low-form")
        url, _ = browser.request("POST", low.action, {"backupCodeLowChoice": "later"})
    if not signed_in(url):
        raise RuntimeError(f"login of {username} with a backup code failed ({url})")


# ------------------------------------------------------------------------------ Keycloak's recovery codes


RECOVERY_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def enrol_builtin(base_url: str, realm: str, username: str) -> list[str]:
    browser = Browser()
    _, html = password_step(browser, base_url, realm, username)
    setup = next((f for f in parse(html).forms if "generatedRecoveryAuthnCodes" in f.fields), None)
    if setup is None:
        raise RuntimeError("Keycloak's recovery-codes setup form not found")
    codes = RECOVERY_CODE.findall(html)
    data = {**setup.fields, **{name: "on" for name in setup.checkboxes}}
    data.pop("cancel-aia", None)
    url, _ = browser.request("POST", setup.action, data)
    if not signed_in(url):
        raise RuntimeError(f"recovery-code enrolment of {username} did not finish ({url})")
    return list(dict.fromkeys(codes))  # in order, as Keycloak asks for them


def login_builtin(base_url: str, realm: str, username: str, code: str) -> None:
    browser = Browser()
    _, html = password_step(browser, base_url, realm, username)
    step = next((f for f in parse(html).forms if f.action and "login-actions" in f.action), None)
    if step is None:
        raise RuntimeError("Keycloak's recovery-code form not found")
    url, _ = browser.request("POST", step.action, {**step.fields, "recoveryCodeInput": code, "login": ""})
    if not signed_in(url):
        raise RuntimeError(f"login of {username} with a recovery code failed ({url})")


# -------------------------------------------------------------------------------------------- realms


def admin_for(args: argparse.Namespace, realm: str) -> Any:
    return installer.connect(args.keycloak_url, args.admin_user, args.admin_password, realm)


def create_realm(args: argparse.Namespace, name: str) -> Any:
    admin_for(args, "master").create_realm({"realm": name, "enabled": True}, skip_exists=True)
    admin = admin_for(args, name)
    admin.create_client(
        {
            "clientId": CLIENT_ID,
            "publicClient": True,
            "standardFlowEnabled": True,
            "redirectUris": [REDIRECT_URI],
        },
        skip_exists=True,
    )
    return admin


def setup_ours(args: argparse.Namespace, realm: str) -> Any:
    admin = create_realm(args, realm)
    inst = installer.Installer(admin, realm)
    inst.apply(installer.plan_install(inst.read_state(), installer.InstallOptions()), echo=lambda _: None)
    return admin


def setup_builtin(args: argparse.Namespace, realm: str) -> Any:
    admin = create_realm(args, realm)
    if BUILTIN_FLOW not in {f["alias"] for f in admin.get_authentication_flows()}:
        admin.copy_authentication_flow({"newName": BUILTIN_FLOW}, "browser")
    executions = [installer.Execution(e) for e in admin.get_authentication_flow_executions(BUILTIN_FLOW)]
    subflow = installer.find_second_factor_flow(executions)
    if subflow is None:
        raise RuntimeError("no conditional 2FA sub-flow in the browser flow copy")
    recovery = subflow.child(BUILTIN_PROVIDER)
    if recovery is None:
        admin.create_authentication_flow_execution({"provider": BUILTIN_PROVIDER}, subflow.alias)
        executions = [installer.Execution(e) for e in admin.get_authentication_flow_executions(BUILTIN_FLOW)]
        recovery = installer.find_second_factor_flow(executions).child(BUILTIN_PROVIDER)  # type: ignore[union-attr]
    if recovery.requirement != "ALTERNATIVE":  # type: ignore[union-attr]
        admin.update_authentication_flow_executions(
            {**recovery.raw, "requirement": "ALTERNATIVE"}, subflow.alias
        )  # type: ignore[union-attr]
    admin.update_realm(realm, {"browserFlow": BUILTIN_FLOW})
    return admin


def create_users(admin: Any, prefix: str, count: int, action: str) -> list[str]:
    names = []
    for i in range(count):
        name = f"{prefix}{i}-{secrets.token_hex(3)}"
        admin.create_user(
            {
                "username": name,
                "enabled": True,
                "email": f"{name}@example.test",
                "emailVerified": True,
                "firstName": "Bench",
                "lastName": "User",
                "requiredActions": [action],
                "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
            }
        )
        names.append(name)
    return names


# ----------------------------------------------------------------------------------------- measuring


def timed(logins: Iterator[Callable[[], None]]) -> list[float]:
    seconds = []
    for login in logins:
        start = time.perf_counter()
        login()
        seconds.append(time.perf_counter() - start)
    return seconds


def schedule(
    users: dict[str, list[str]],
    count: int,
    login: Callable[[str, str, str, str], None],
    base: str,
    realm: str,
) -> Iterator[Callable[[], None]]:
    """``count`` logins spread over the users, each using that user's next unused code."""
    queues = {u: list(codes) for u, codes in users.items()}
    names = list(queues)
    for i in range(count):
        name = names[i % len(names)]
        code = queues[name].pop(0)
        yield lambda name=name, code=code: login(base, realm, name, code)


def measure(args: argparse.Namespace) -> int:
    base = args.keycloak_url.rstrip("/")
    suffix = secrets.token_hex(2)
    ours_realm, builtin_realm = f"bench-ours-{suffix}", f"bench-builtin-{suffix}"
    per_user = 5  # stays above our low-codes threshold (10 codes, notice at ≤ 3): the plain login path
    warm = 3  # untimed logins first: JIT, connection pools, caches
    users_needed = -(-(warm + args.logins) // per_user)

    ours_admin = setup_ours(args, ours_realm)
    if args.bridge_api_key:
        _set_vault_key(args, ours_realm)
    builtin_admin = setup_builtin(args, builtin_realm)
    ours_users = {
        u: enrol_ours(base, ours_realm, u)[:per_user]
        for u in create_users(ours_admin, "ours", users_needed, installer.REQUIRED_ACTION_ID)
    }
    builtin_users = {  # Keycloak asks for its codes in order, so each user's codes are used from the first
        u: enrol_builtin(base, builtin_realm, u)[:per_user]
        for u in create_users(builtin_admin, "kc", users_needed, "CONFIGURE_RECOVERY_AUTHN_CODES")
    }

    ours_plan = schedule(ours_users, warm + args.logins, login_ours, base, ours_realm)
    builtin_plan = schedule(builtin_users, warm + args.logins, login_builtin, base, builtin_realm)
    ours: list[float] = []
    builtin: list[float] = []
    # Interleaved, so both methods see the same background load.
    for ours_login, builtin_login in zip(ours_plan, builtin_plan, strict=True):
        ours += timed(iter([ours_login]))
        builtin += timed(iter([builtin_login]))
    ours, builtin = ours[warm:], builtin[warm:]

    ours_median, builtin_median = statistics.median(ours), statistics.median(builtin)
    ratio = ours_median / builtin_median
    print(f"logins per method:                    {args.logins}")
    print(f"password + backup code (ours):        median {ours_median:.3f} s/login")
    print(f"password + recovery code (built-in):  median {builtin_median:.3f} s/login")
    print(f"ratio ours / built-in:                {ratio:.2f} (target ≤ {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


def _set_vault_key(args: argparse.Namespace, realm: str) -> None:
    if args.vault_dir:
        path = Path(args.vault_dir) / f"{realm.replace('_', '__')}_bridgekey"
        path.write_text(args.bridge_api_key, encoding="utf-8")


# ----------------------------------------------------------------------------------- self-started stack


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


@contextmanager
def started_stack(args: argparse.Namespace) -> Iterator[None]:
    """Keycloak (fresh throw-away install) and a `backup-codes serve` on loopback, stopped afterwards."""
    work = Path(tempfile.mkdtemp(prefix="bench-login-"))
    ports: list[int] = []
    for _ in range(3):
        ports.append(keycloak_dist.free_port(exclude=ports))
    http_port, management_port, bridge_port = ports
    vault = work / "vault"
    vault.mkdir(mode=0o700)
    bridge_env = {
        **os.environ,
        "BACKUP_CODES_DATA_DIR": str(work / "bridge"),
        "BACKUP_CODES_PORT": str(bridge_port),
        "BACKUP_CODES_HOST": "127.0.0.1",
        "BACKUP_CODES_WORKERS": "2",
        "BACKUP_CODES_IP_RATE_LIMIT": "100000",
    }
    (work / "bridge").mkdir()
    cli = shutil.which("backup-codes") or str(REPO_ROOT / ".venv" / "bin" / "backup-codes")
    subprocess.run([cli, "db", "upgrade"], env=bridge_env, check=True, capture_output=True)
    created = subprocess.run(
        [cli, "apikey", "create", "--name", "bench"],
        env=bridge_env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]  # printed once, as the last line
    with open(work / "bridge.log", "wb") as log:
        bridge = subprocess.Popen([cli, "serve"], env=bridge_env, stdout=log, stderr=subprocess.STDOUT)
    server = keycloak_dist.KeycloakServer(
        home=keycloak_dist.prepare(work),
        http_port=http_port,
        management_port=management_port,
        admin_password=args.admin_password,
        bridge_url=f"http://127.0.0.1:{bridge_port}",
        bridge_api_key="${vault.bridgekey}",
        log_path=work / "keycloak.log",
        extra_args=("--vault=file", f"--vault-dir={vault}"),
    )
    try:
        _wait_http(f"http://127.0.0.1:{bridge_port}/healthz", 60)
        print(f"starting Keycloak in {work} (about a minute) ...", file=sys.stderr)
        server.start(timeout=600)
        args.keycloak_url = server.base_url
        args.bridge_api_key = key
        args.vault_dir = str(vault)
        yield
    finally:
        server.stop()
        bridge.terminate()
        bridge.wait(30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", action="store_true", help="start a throw-away Keycloak and bridge here")
    parser.add_argument("--keep", action="store_true", help="with --start: keep the work directory")
    parser.add_argument("--keycloak-url", default=os.environ.get("BACKUP_CODES_KEYCLOAK_URL", ""))
    parser.add_argument(
        "--admin-user", default=os.environ.get("BACKUP_CODES_KEYCLOAK_ADMIN_USERNAME", "admin")
    )
    parser.add_argument(
        "--admin-password", default=os.environ.get("BACKUP_CODES_KEYCLOAK_ADMIN_PASSWORD", "")
    )
    parser.add_argument("--bridge-api-key", default="", help="with --vault-dir: written to the realm's vault")
    parser.add_argument(
        "--vault-dir", default="", help="Keycloak's --vault-dir, if the key is a vault reference"
    )
    parser.add_argument("--logins", type=int, default=30, help="timed logins per method")
    args = parser.parse_args(argv)
    if args.start:
        args.admin_password = args.admin_password or secrets.token_urlsafe(12)
        with started_stack(args):
            return measure(args)
    if not args.keycloak_url or not args.admin_password:
        parser.error("--keycloak-url and --admin-password (or --start) are required")
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
