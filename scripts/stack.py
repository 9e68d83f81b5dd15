#!/usr/bin/env python3
"""The one-command local stack: Keycloak with the provider, the bridge, a demo directory and a mail sink.

Everything runs as plain local processes (no Docker) with its state under ``.stack/``: the bridge's
SQLite database, Keycloak's dev database, the demo slapd, the mails, generated secrets and one log per
process in ``.stack/logs/``. Running it again reuses all of that; ``--reset`` starts from nothing.
Ctrl-C (or SIGTERM) stops every process it started, each in its own process group.

Run it through ``scripts/stack.sh``, which first brings the machine up to date with bootstrap.sh.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import keycloak_dist  # noqa: E402 (scripts/ is not a package; the e2e helper owns this module)

if TYPE_CHECKING:
    from keycloak import KeycloakAdmin

DEFAULT_STACK_DIR = REPO / ".stack"
MARKER = ".backup-codes-stack"  # only a directory carrying this is ever wiped by --reset
DEMO_REALM = "demo"
SLAPD = "/usr/sbin/slapd"
LDAP_SUFFIX = "dc=example,dc=org"
LDAP_ROOT_DN = f"cn=admin,{LDAP_SUFFIX}"
LDAP_PEOPLE = f"ou=people,{LDAP_SUFFIX}"
LDAP_POLICY = f"cn=default,ou=policies,{LDAP_SUFFIX}"
START_TIMEOUT = 600.0  # the first Keycloak start on two busy cores can take minutes
STOP_TIMEOUT = 30.0
WORKERS = frozenset({"notify", "ldap-sync"})  # background jobs; the servers are everything else


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    email: str
    password: str  # a published demo value, never used outside this local stack


DEMO_USERS = (
    DemoUser("alice", "Alice", "Anders", "alice@example.org", "alice-demo-password"),
    DemoUser("bob", "Bob", "Berger", "bob@example.org", "bob-demo-password"),
)


class StackError(RuntimeError):
    """A step failed; the message says which one and where to look."""


@dataclass(frozen=True)
class Ports:
    keycloak: int = 8080
    management: int = 9000
    bridge: int = 8090
    mail_http: int = 8025
    smtp: int = 1025
    ldap: int = 10389


@dataclass
class Stack:
    root: Path
    ports: Ports
    with_ldap: bool
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def keycloak_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.keycloak}"

    @property
    def bridge_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.bridge}"

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.mail_http}/"

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ports.ldap}"


# --------------------------------------------------------------------------- output and processes


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def secret(stack: Stack, name: str) -> str:
    """A generated secret kept in ``.stack/secrets/<name>`` (mode 600), so a rerun reuses it."""
    path = stack.secrets / name
    if path.is_file():
        return path.read_text("utf-8").strip()
    value = secrets.token_urlsafe(24)
    write_private(path, value + "\n")
    return value


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    text = path.read_text("utf-8", errors="replace").splitlines()
    return f"--- last lines of {path} ---\n" + "\n".join(text[-lines:])


def start_process(
    stack: Stack, name: str, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start one long-running child in its own process group, output appended to logs/<name>.log."""
    log_path = stack.logs / f"{name}.log"
    with log_path.open("ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} starting {name}\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    stack.processes[name] = process
    return process


def run_step(
    stack: Stack, name: str, argv: Sequence[str], env: dict[str, str], *, secret_output: bool = False
) -> str:
    """Run a short command to completion and return its stdout. Everything goes to the step's log,
    except stdout that carries a secret (a new API key)."""
    log_path = stack.logs / f"{name}.log"
    with log_path.open("ab") as log:
        result = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
        if not secret_output:
            log.write(result.stdout)
    if result.returncode != 0:
        command = " ".join(argv[1:3])
        status = result.returncode
        raise StackError(f"backup-codes {command} failed with status {status}\n{log_tail(log_path)}")
    return result.stdout.decode("utf-8", errors="replace")


def wait_until(stack: Stack, name: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``ready`` until true; fail early if the process died, and show progress for slow starts."""
    started = time.monotonic()
    next_note = started + 15
    process = stack.processes.get(name)
    log = stack.logs / f"{name}.log"
    while not ready():
        if process is not None and process.poll() is not None:
            raise StackError(f"{name} exited with status {process.returncode}\n{log_tail(log)}")
        now = time.monotonic()
        if now - started > timeout:
            raise StackError(f"{name} not ready after {timeout:.0f} s\n{log_tail(log)}")
        if now >= next_note:
            print(f"    … still waiting for {name} ({now - started:.0f} s)", flush=True)
            next_note = now + 15
        time.sleep(0.5)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback URLs we built)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_all(stack: Stack) -> None:
    """SIGTERM every process group, newest first; SIGKILL whatever is left after STOP_TIMEOUT."""
    running = [(name, p) for name, p in reversed(stack.processes.items())]
    if running:
        say("stopping " + ", ".join(name for name, _ in running))
    for _, process in running:
        signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"    {name} did not stop within {STOP_TIMEOUT:.0f} s; killing it", flush=True)
        signal_group(process, signal.SIGKILL)  # stragglers in the group (worker processes) too
        process.wait()
    stack.processes.clear()


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


# --------------------------------------------------------------------------- the steps


def reset(root: Path) -> None:
    if not root.exists():
        return
    if not (root / MARKER).is_file() and any(root.iterdir()):
        raise StackError(f"refusing to wipe {root}: it was not made by this script (no {MARKER} file)")
    say(f"reset: wiping {root}")
    shutil.rmtree(root)


def check_ports(ports: Ports, with_ldap: bool) -> None:
    wanted = {
        "keycloak": ports.keycloak,
        "keycloak management": ports.management,
        "bridge": ports.bridge,
        "mail index": ports.mail_http,
        "smtp": ports.smtp,
    }
    if with_ldap:
        wanted["ldap"] = ports.ldap
    if len(set(wanted.values())) != len(wanted):
        raise StackError(f"ports must differ: {wanted}")
    # "Something answers there", not "bind() works": a port left in TIME_WAIT by the last run is fine.
    busy = [f"{name} ({port})" for name, port in wanted.items() if port_open(port)]
    if busy:
        raise StackError(
            "ports in use: " + ", ".join(busy) + " — is another stack running? Choose others with"
            " --keycloak-port, --management-port, --bridge-port, --mail-port, --smtp-port, --ldap-port"
        )


def prepare_directories(stack: Stack) -> None:
    for sub in ("logs", "data", "mail", "secrets"):
        (stack.root / sub).mkdir(parents=True, exist_ok=True)
    (stack.root / MARKER).touch()
    stack.secrets.chmod(0o700)


def bridge_command() -> str:
    beside = Path(sys.executable).parent / "backup-codes"
    found = str(beside) if beside.is_file() else shutil.which("backup-codes")
    if not found:
        raise StackError("the backup-codes command is missing: run scripts/bootstrap.sh (pip install -e .)")
    return found


def bridge_env(stack: Stack) -> dict[str, str]:
    """The bridge's settings for this stack; secrets travel as *_FILE paths, never as values or args."""
    for name in ("pepper", "device-cookie-key", "keycloak-admin-password", "ldap-admin-password"):
        secret(stack, name)  # created before anything reads them through a *_FILE variable
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKUP_CODES_")}
    env.update(
        BACKUP_CODES_DATA_DIR=str(stack.root / "data"),
        BACKUP_CODES_HOST="127.0.0.1",
        BACKUP_CODES_PORT=str(stack.ports.bridge),
        BACKUP_CODES_PEPPER_FILE=str(stack.secrets / "pepper"),
        BACKUP_CODES_DEVICE_COOKIE_KEY_FILE=str(stack.secrets / "device-cookie-key"),
        BACKUP_CODES_SMTP_HOST="127.0.0.1",
        BACKUP_CODES_SMTP_PORT=str(stack.ports.smtp),
        BACKUP_CODES_MAIL_FROM="backup-codes@example.org",
        BACKUP_CODES_ORGANISATION_NAME="Example Org (demo)",
        BACKUP_CODES_NOTIFY_POLL_SECONDS="1",
        BACKUP_CODES_KEYCLOAK_URL=stack.keycloak_url,
        BACKUP_CODES_KEYCLOAK_ADMIN_USERNAME="admin",
        BACKUP_CODES_KEYCLOAK_ADMIN_PASSWORD_FILE=str(stack.secrets / "keycloak-admin-password"),
    )
    if stack.with_ldap:
        env.update(
            BACKUP_CODES_LDAP_URL=stack.ldap_url,
            BACKUP_CODES_LDAP_BIND_DN=LDAP_ROOT_DN,
            BACKUP_CODES_LDAP_BIND_PASSWORD_FILE=str(stack.secrets / "ldap-admin-password"),
            BACKUP_CODES_LDAP_BASE_DN=LDAP_PEOPLE,
            BACKUP_CODES_LDAP_DEFAULT_POLICY_DN=LDAP_POLICY,
            BACKUP_CODES_LDAP_REALM=DEMO_REALM,
            BACKUP_CODES_LDAP_POLL_SECONDS="5",
        )
    return env


def prepare_bridge(stack: Stack) -> str:
    """Migrate the database and make sure Keycloak has an API key; returns that key."""
    say("bridge: backup-codes db upgrade")
    env = bridge_env(stack)
    run_step(stack, "bridge-setup", [bridge_command(), "db", "upgrade"], env)
    key_file = stack.secrets / "bridge-api-key"
    if key_file.is_file():
        return key_file.read_text("utf-8").strip()
    say("bridge: creating the API key Keycloak uses")
    create = [bridge_command(), "apikey", "create", "--name", "keycloak-demo"]
    output = run_step(stack, "bridge-setup", create, env, secret_output=True)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise StackError("backup-codes apikey create printed no key")
    write_private(key_file, lines[-1] + "\n")
    return lines[-1]


def prepare_keycloak(stack: Stack) -> Path:
    """Unpack the distribution into the stack (once) and install the current provider JAR."""
    version = keycloak_dist.keycloak_version()
    with_plugin = keycloak_dist.PLUGIN_POM.is_file()
    say(f"keycloak: preparing {version} in {stack.root} (first run unpacks ~200 MB)")
    if not with_plugin:
        print("    plugin/pom.xml not found: Keycloak runs without the backup-codes provider", flush=True)
    try:
        return keycloak_dist.prepare(stack.root, with_plugin=with_plugin)
    except keycloak_dist.KeycloakError as exc:
        raise StackError(f"keycloak: {exc}") from None


def start_keycloak(stack: Stack, home: Path, api_key: str) -> None:
    say("keycloak: starting start-dev (every start rebuilds the server: a minute or more)")
    server = keycloak_dist.KeycloakServer(
        home=home,
        http_port=stack.ports.keycloak,
        management_port=stack.ports.management,
        admin_password=secret(stack, "keycloak-admin-password"),
        bridge_url=stack.bridge_url,
        bridge_api_key=api_key,  # by environment, so it shows in neither `ps` nor the log
        extra_args=[
            f"--spi-authenticator--backup-code--bridge-url={stack.bridge_url}",
            "--features=declarative-ui",  # Realm settings -> Backup codes (docs/operations.md)
        ],
    )
    start_process(stack, "keycloak", server.command(), env=server.environment(), cwd=home)


def start_slapd(stack: Stack) -> None:
    ldap_dir = stack.root / "ldap"
    (ldap_dir / "db").mkdir(parents=True, exist_ok=True)
    config = ldap_dir / "slapd.conf"
    write_private(config, slapd_config(ldap_dir, secret(stack, "ldap-admin-password")))
    say(f"ldap: starting slapd on {stack.ldap_url}")
    start_process(stack, "slapd", [SLAPD, "-f", str(config), "-h", stack.ldap_url + "/", "-d", "0"])
    wait_until(stack, "slapd", lambda: port_open(stack.ports.ldap), timeout=60)


def slapd_config(ldap_dir: Path, root_password: str) -> str:
    return f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/namedobject.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {ldap_dir}/slapd.pid
database mdb
maxsize 104857600
suffix "{LDAP_SUFFIX}"
rootdn "{LDAP_ROOT_DN}"
rootpw {root_password}
directory {ldap_dir}/db
index objectClass,uid,entryUUID,entryCSN eq
overlay ppolicy
ppolicy_default "{LDAP_POLICY}"
ppolicy_use_lockout
ppolicy_hash_cleartext
"""


def seed_directory(stack: Stack) -> None:
    """Create the demo tree once: people, a lockout policy (5 failures, 5 minutes) and the demo users."""
    from ldap3 import Connection, Server
    from ldap3.core.exceptions import LDAPException

    try:
        conn = Connection(
            Server(stack.ldap_url, connect_timeout=5),
            LDAP_ROOT_DN,
            secret(stack, "ldap-admin-password"),
            auto_bind=True,
        )
    except LDAPException as exc:
        raise StackError(f"ldap: cannot bind as {LDAP_ROOT_DN}: {exc}") from None
    with conn:
        if conn.search(LDAP_SUFFIX, "(objectClass=*)", search_scope="BASE"):
            return
        say("ldap: loading the demo directory")
        for dn, attributes in directory_entries():
            if not conn.add(dn, attributes=attributes):
                result = conn.result
                raise StackError(f"ldap: adding {dn} failed: {result['description']} {result['message']}")


def directory_entries() -> list[tuple[str, dict[str, object]]]:
    entries: list[tuple[str, dict[str, object]]] = [
        (LDAP_SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": "example", "o": "Example Org"}),
        (LDAP_PEOPLE, {"objectClass": ["organizationalUnit"], "ou": "people"}),
        (f"ou=policies,{LDAP_SUFFIX}", {"objectClass": ["organizationalUnit"], "ou": "policies"}),
        (
            LDAP_POLICY,
            {
                "objectClass": ["namedPolicy", "pwdPolicy"],
                "cn": "default",
                "pwdAttribute": "userPassword",
                "pwdLockout": "TRUE",
                "pwdMaxFailure": "5",
                "pwdLockoutDuration": "300",
                "pwdFailureCountInterval": "300",
            },
        ),
    ]
    for user in DEMO_USERS:
        entries.append(
            (
                f"uid={user.username},{LDAP_PEOPLE}",
                {
                    "objectClass": ["inetOrgPerson"],
                    "uid": user.username,
                    "cn": user.first_name,
                    "sn": user.last_name,
                    "givenName": user.first_name,
                    "mail": user.email,
                    "userPassword": user.password,
                },
            )
        )
    return entries


def start_mail_sink(stack: Stack) -> None:
    say(f"mail: SMTP sink on 127.0.0.1:{stack.ports.smtp}, index on {stack.mail_url}")
    start_process(
        stack,
        "mail",
        [
            sys.executable,
            str(REPO / "scripts" / "mail_sink.py"),
            "--dir",
            str(stack.root / "mail"),
            "--smtp-port",
            str(stack.ports.smtp),
            "--http-port",
            str(stack.ports.mail_http),
        ],
    )
    wait_until(stack, "mail", lambda: http_ok(stack.mail_url), timeout=60)


def start_bridge(stack: Stack) -> None:
    say(f"bridge: serving on {stack.bridge_url}")
    start_process(
        stack,
        "bridge",
        [
            bridge_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(stack.ports.bridge),
            "--workers",
            "2",
        ],
        env=bridge_env(stack),
    )
    wait_until(stack, "bridge", lambda: http_ok(f"{stack.bridge_url}/healthz"), timeout=120)


def start_workers(stack: Stack) -> None:
    say("bridge: starting the notification worker" + (" and the LDAP sync" if stack.with_ldap else ""))
    start_process(stack, "notify", [bridge_command(), "notify", "run"], env=bridge_env(stack))
    if stack.with_ldap:
        start_process(stack, "ldap-sync", [bridge_command(), "ldap-sync", "run"], env=bridge_env(stack))


def wait_for_keycloak(stack: Stack) -> None:
    say("keycloak: waiting until ready")
    ready_url = f"http://127.0.0.1:{stack.ports.management}/health/ready"
    wait_until(stack, "keycloak", lambda: http_ok(ready_url), timeout=START_TIMEOUT)


def setup_demo_realm(stack: Stack) -> None:
    """The demo realm, its mail settings and its users: from the LDAP directory when there is one."""
    from keycloak import KeycloakAdmin
    from keycloak.exceptions import KeycloakError

    say(f"keycloak: setting up the realm {DEMO_REALM!r}")
    try:
        admin = KeycloakAdmin(
            server_url=stack.keycloak_url,
            username="admin",
            password=secret(stack, "keycloak-admin-password"),
            realm_name="master",
            user_realm_name="master",
        )
        ensure_realm(stack, admin)
        admin.change_current_realm(DEMO_REALM)
        if stack.with_ldap:
            ensure_ldap_federation(stack, admin)
        else:
            ensure_local_users(admin)
    except KeycloakError as exc:
        raise StackError(f"keycloak: setting up the demo realm failed: {exc}") from None


def ensure_realm(stack: Stack, admin: KeycloakAdmin) -> None:
    smtp = {
        "host": "127.0.0.1",
        "port": str(stack.ports.smtp),
        "from": "keycloak@example.org",
        "fromDisplayName": "Example Org",
    }
    if DEMO_REALM in {r["realm"] for r in admin.get_realms()}:
        admin.update_realm(DEMO_REALM, {"smtpServer": smtp})  # the SMTP port may differ from the last run
        return
    realm = {"realm": DEMO_REALM, "enabled": True, "displayName": "Example Org (demo)", "smtpServer": smtp}
    if keycloak_dist.PLUGIN_POM.is_file():
        realm["loginTheme"] = "backup-codes"
    admin.create_realm(realm)


def ensure_local_users(admin: KeycloakAdmin) -> None:
    for user in DEMO_USERS:
        admin.create_user(
            {
                "username": user.username,
                "email": user.email,
                "emailVerified": True,
                "enabled": True,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "credentials": [{"type": "password", "value": user.password, "temporary": False}],
            },
            exist_ok=True,
        )


def ensure_ldap_federation(stack: Stack, admin: KeycloakAdmin) -> None:
    """A read-only LDAP federation on the demo slapd; its URL is refreshed as ports may change."""
    realm_id = admin.get_realm(DEMO_REALM)["id"]
    storage = "org.keycloak.storage.UserStorageProvider"
    config = {
        "enabled": ["true"],
        "priority": ["0"],
        "vendor": ["other"],
        "editMode": ["READ_ONLY"],
        "importEnabled": ["true"],
        "syncRegistrations": ["false"],
        "trustEmail": ["true"],
        "connectionUrl": [stack.ldap_url],
        "authType": ["simple"],
        "bindDn": [LDAP_ROOT_DN],
        "bindCredential": [secret(stack, "ldap-admin-password")],
        "usersDn": [LDAP_PEOPLE],
        "searchScope": ["1"],
        "usernameLDAPAttribute": ["uid"],
        "rdnLDAPAttribute": ["uid"],
        "uuidLDAPAttribute": ["entryUUID"],
        "userObjectClasses": ["inetOrgPerson"],
        "pagination": ["false"],
    }
    existing = admin.get_components({"parent": realm_id, "type": storage, "name": "demo-ldap"})
    if existing:
        component_id = existing[0]["id"]
        admin.update_component(component_id, {**existing[0], "config": {**existing[0]["config"], **config}})
    else:
        component_id = admin.create_component(
            {
                "name": "demo-ldap",
                "providerId": "ldap",
                "providerType": storage,
                "parentId": realm_id,
                "config": config,
            }
        )
    admin.sync_users(component_id, "triggerFullSync")


def install_realm(stack: Stack) -> None:
    say(f"bridge: backup-codes realm install --realm {DEMO_REALM}")
    run_step(
        stack,
        "realm-install",
        [
            bridge_command(),
            "realm",
            "install",
            "--realm",
            DEMO_REALM,
            "--bridge-url",
            stack.bridge_url,
        ],
        bridge_env(stack),
    )


def print_summary(stack: Stack) -> None:
    users = ", ".join(f"{u.username} / {u.password}" for u in DEMO_USERS)
    rel = display_path(stack.root)
    lines = [
        f"  Account console (demo users): {stack.keycloak_url}/realms/{DEMO_REALM}/account/",
        f"  Admin console:                {stack.keycloak_url}/admin/master/console/"
        f"  (admin; password in {rel}/secrets/keycloak-admin-password)",
        f"  Bridge:                       {stack.bridge_url}/healthz"
        f"  (API key in {rel}/secrets/bridge-api-key)",
        f"  Mail sink:                    {stack.mail_url}",
        f"  Demo users:                   {users}",
    ]
    if stack.with_ldap:
        lines.append(
            f"  LDAP directory:               {stack.ldap_url}  ({LDAP_ROOT_DN}; password in "
            f"{rel}/secrets/ldap-admin-password)"
        )
    lines.append(f"  Logs:                         {rel}/logs/")
    print("\n".join(lines), flush=True)
    say("stack ready — Ctrl-C stops everything")


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def supervise(stack: Stack) -> int:
    """Block until a signal arrives. A dead server ends the stack (fail loudly); a dead background
    worker only gets a warning, since the demo still works without mail or LDAP sync."""
    warned: set[str] = set()
    while True:
        for name, process in stack.processes.items():
            if process.poll() is None or name in warned:
                continue
            print(f"stack: {name} exited with status {process.returncode}", file=sys.stderr)
            print(log_tail(stack.logs / f"{name}.log", lines=10), file=sys.stderr, flush=True)
            if name not in WORKERS:
                return 1
            warned.add(name)
        time.sleep(1)


# --------------------------------------------------------------------------- entry point


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = Ports()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="wipe the stack directory (demo data) first")
    parser.add_argument("--stack-dir", type=Path, default=DEFAULT_STACK_DIR)
    parser.add_argument("--no-ldap", action="store_true", help="no demo directory, even with slapd installed")
    parser.add_argument("--keycloak-port", type=int, default=defaults.keycloak)
    parser.add_argument("--management-port", type=int, default=defaults.management)
    parser.add_argument("--bridge-port", type=int, default=defaults.bridge)
    parser.add_argument("--mail-port", type=int, default=defaults.mail_http, help="mail index (HTTP)")
    parser.add_argument("--smtp-port", type=int, default=defaults.smtp)
    parser.add_argument("--ldap-port", type=int, default=defaults.ldap)
    return parser.parse_args(argv)


def on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(stack: Stack) -> int:
    prepare_directories(stack)
    home = prepare_keycloak(stack)
    api_key = prepare_bridge(stack)
    start_keycloak(stack, home, api_key)  # slowest: boots while the rest starts
    if stack.with_ldap:
        start_slapd(stack)
        seed_directory(stack)
    start_mail_sink(stack)
    start_bridge(stack)
    wait_for_keycloak(stack)
    setup_demo_realm(stack)
    install_realm(stack)
    start_workers(stack)  # the LDAP sync maps directory entries to Keycloak users: Keycloak must be up
    print_summary(stack)
    return supervise(stack)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports(
        args.keycloak_port,
        args.management_port,
        args.bridge_port,
        args.mail_port,
        args.smtp_port,
        args.ldap_port,
    )
    with_ldap = not args.no_ldap and Path(SLAPD).is_file()
    stack = Stack(root=args.stack_dir.resolve(), ports=ports, with_ldap=with_ldap)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT may arrive ignored (nohup, `&`)
        signal.signal(signum, on_signal)
    try:
        if args.reset:
            reset(stack.root)
        check_ports(ports, with_ldap)
        return run(stack)
    except StackError as exc:
        print(f"stack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(stack)
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
