"""Fetch, unpack and run the pinned Keycloak distribution with the backup-codes provider.

Used both by the test fixture (tests/fixtures/keycloak.py, a throw-away install per test session)
and by the README's run command (``python scripts/keycloak_dist.py run``, a persistent install in
``.cache/``). Standard library only, so it works before the bridge is installed.

The distribution zip comes from Maven Central through Maven itself, so it lands in ``~/.m2`` once and
every later run is offline. ``kc.sh start-dev`` re-augments on every start, which is what picks up a
freshly built provider JAR; the price is a slow start (about a minute on two cores), so callers wait
on the management port's ``/health/ready`` rather than sleeping.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSION = "26.7.3"
PLUGIN_POM = REPO_ROOT / "plugin" / "pom.xml"
PLUGIN_JAR = REPO_ROOT / "plugin" / "target" / "keycloak-backup-codes.jar"
CACHE_DIR = REPO_ROOT / ".cache"
UNPACKED_MARKER = ".unpacked-ok"
PORT_RANGE = (38000, 38999)


class KeycloakError(RuntimeError):
    """Keycloak could not be fetched, built or started; the message says what to look at."""


def keycloak_version() -> str:
    """One source of truth: ``KEYCLOAK_VERSION``, else the version the provider compiles against."""
    if env := os.environ.get("KEYCLOAK_VERSION"):
        return env
    if PLUGIN_POM.is_file():
        match = re.search(r"<keycloak\.version>([^<]+)</keycloak\.version>", PLUGIN_POM.read_text("utf-8"))
        if match:
            return match.group(1).strip()
    return DEFAULT_VERSION


def java_home() -> str | None:
    """Prefer a Temurin JDK (Keycloak 26 wants 21+; Debian 12 only ships 17), else the caller's own."""
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        temurins = sorted(
            (p for p in jvm.glob("temurin-*") if (p / "bin" / "java").is_file()),
            key=lambda p: int(re.sub(r"\D.*", "", p.name.removeprefix("temurin-")) or 0),
        )
        if temurins:
            return str(temurins[-1])
    return os.environ.get("JAVA_HOME") or None


def java_available() -> bool:
    home = java_home()
    return bool((home and Path(home, "bin", "java").is_file()) or shutil.which("java"))


def distribution_zip(version: str | None = None) -> Path:
    """The distribution zip in the local Maven repository, fetched with Maven when missing."""
    version = version or keycloak_version()
    zip_path = (
        Path.home()
        / ".m2"
        / "repository"
        / "org"
        / "keycloak"
        / "keycloak-quarkus-dist"
        / version
        / f"keycloak-quarkus-dist-{version}.zip"
    )
    if zip_path.is_file():
        return zip_path
    if not shutil.which("mvn"):
        raise KeycloakError(f"{zip_path} is missing and mvn is not installed to fetch it")
    cmd = [
        "mvn",
        "-B",
        "-q",
        "-Dstyle.color=never",
        "dependency:get",
        "-Dtransitive=false",
        f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not zip_path.is_file():
        raise KeycloakError(
            f"could not fetch keycloak-quarkus-dist {version} with Maven:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return zip_path


def unpack(dest_parent: Path, version: str | None = None) -> Path:
    """Unpack the distribution under ``dest_parent`` once; a marker file makes this idempotent."""
    version = version or keycloak_version()
    home = dest_parent / f"keycloak-{version}"
    if (home / UNPACKED_MARKER).is_file():
        return home
    if home.exists():
        shutil.rmtree(home)  # a half-finished earlier unpack
    dest_parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(distribution_zip(version)) as archive:
        archive.extractall(dest_parent)
    for script in (home / "bin").glob("*.sh"):
        script.chmod(0o755)
    (home / UNPACKED_MARKER).write_text(version + "\n", encoding="utf-8")
    return home


PLUGIN_STAMP = PLUGIN_JAR.parent / ".sources.sha256"


def _plugin_sources() -> list[Path]:
    # The JAR also packs the login theme (plugin/pom.xml copies keycloak-theme/ in).
    trees = (REPO_ROOT / "plugin" / "src", REPO_ROOT / "keycloak-theme")
    return sorted([PLUGIN_POM, *(p for tree in trees for p in tree.rglob("*") if p.is_file())])


def _sources_digest() -> str:
    """Content, not dates: a deleted or renamed source must trigger a rebuild too."""
    digest = hashlib.sha256()
    for path in _plugin_sources():
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _jar_built_from(digest: str) -> bool:
    if not PLUGIN_JAR.is_file():
        return False
    if PLUGIN_STAMP.is_file():
        return PLUGIN_STAMP.read_text(encoding="utf-8").strip() == digest
    # Built by scripts/bootstrap.sh (no stamp): trust dates once, then stamp what it was built from.
    built = PLUGIN_JAR.stat().st_mtime
    if any(p.stat().st_mtime > built for p in _plugin_sources()):
        return False
    PLUGIN_STAMP.write_text(digest + "\n", encoding="utf-8")
    return True


def build_plugin() -> Path:
    """Build the provider JAR when missing or built from other sources (``clean``: no stale classes)."""
    if not PLUGIN_POM.is_file():
        raise KeycloakError("plugin/pom.xml not found")
    digest = _sources_digest()
    if _jar_built_from(digest):
        return PLUGIN_JAR
    cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(PLUGIN_POM), "clean", "package"]
    cmd.append("-DskipTests")
    env = dict(os.environ)
    if home := java_home():
        env["JAVA_HOME"] = home
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0 or not PLUGIN_JAR.is_file():
        raise KeycloakError(
            f"plugin build failed ({' '.join(cmd)}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    PLUGIN_STAMP.write_text(digest + "\n", encoding="utf-8")
    return PLUGIN_JAR


def install_plugin(home: Path, jar: Path | None) -> None:
    """Put exactly our JAR (or none) into ``providers/`` so a stale copy never lingers."""
    providers = home / "providers"
    providers.mkdir(exist_ok=True)
    for old in providers.glob("keycloak-backup-codes*.jar"):
        old.unlink()
    if jar is not None:
        shutil.copy2(jar, providers / jar.name)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(start: int = PORT_RANGE[0], end: int = PORT_RANGE[1], exclude: Sequence[int] = ()) -> int:
    """A free loopback port in our range, picked at a pseudo-random offset so parallel runs rarely race."""
    span = end - start + 1
    offset = (os.getpid() * 7919 + time.monotonic_ns()) % span
    for i in range(span):
        port = start + (offset + i) % span
        if port not in exclude and port_is_free(port):
            return port
    raise KeycloakError(f"no free port in {start}-{end}")


@dataclass
class KeycloakServer:
    """One ``kc.sh start-dev`` process on loopback; ``start()`` returns once it is ready."""

    home: Path
    http_port: int
    management_port: int
    admin_username: str = "admin"
    admin_password: str = "admin"  # noqa: S105 (start-dev's local bootstrap admin; override it anywhere else)
    bridge_url: str = ""
    bridge_api_key: str = ""
    log_path: Path | None = None
    extra_args: Sequence[str] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}/health/ready"

    def command(self) -> list[str]:
        return [
            str(self.home / "bin" / "kc.sh"),
            "start-dev",
            f"--http-port={self.http_port}",
            "--http-host=127.0.0.1",
            f"--http-management-port={self.management_port}",
            "--health-enabled=true",
            "--hostname-strict=false",
            *self.extra_args,
        ]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KC_BOOTSTRAP_ADMIN_USERNAME=self.admin_username,
            KC_BOOTSTRAP_ADMIN_PASSWORD=self.admin_password,
        )
        if home := java_home():
            env["JAVA_HOME"] = home
        if self.bridge_url:
            env["BACKUP_CODES_BRIDGE_URL"] = self.bridge_url
        if self.bridge_api_key:
            env["BACKUP_CODES_BRIDGE_API_KEY"] = self.bridge_api_key
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 300.0) -> None:
        log_path = self.log_path or self.home / "keycloak.log"
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.home,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise KeycloakError(
                    f"Keycloak exited with status {self.process.returncode}\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.ready_url, timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1.0)
        self.stop()
        raise KeycloakError(
            f"Keycloak not ready on {self.ready_url} after {timeout:.0f} s\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return "(no log)"
        text = self.log_path.read_text("utf-8", errors="replace").splitlines()
        return "--- last lines of " + str(self.log_path) + " ---\n" + "\n".join(text[-lines:])

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM the whole process group (kc.sh execs java, but be sure) and wait; SIGKILL if stuck."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def prepare(dest_parent: Path, *, with_plugin: bool = True) -> Path:
    """Unpack (once) and install the current provider JAR; returns the Keycloak home directory."""
    home = unpack(dest_parent)
    install_plugin(home, build_plugin() if with_plugin else None)
    return home


BOOTSTRAP_PASSWORD_FILE = ".bootstrap-admin-password"  # noqa: S105 (a file name)


def _bootstrap_password(home: Path) -> str:
    """A random first-start admin password kept next to the install (mode 0600), never a default."""
    path = home / BOOTSTRAP_PASSWORD_FILE
    if path.is_file():
        return path.read_text("utf-8").strip()
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return password


def _run(args: argparse.Namespace) -> int:
    home = prepare(Path(args.dir), with_plugin=not args.no_plugin)
    server = KeycloakServer(
        home=home,
        http_port=args.port,
        management_port=args.management_port,
        admin_username=args.admin_user,
        admin_password=os.environ.get("KC_BOOTSTRAP_ADMIN_PASSWORD") or _bootstrap_password(home),
        bridge_url=args.bridge_url or os.environ.get("BACKUP_CODES_BRIDGE_URL", ""),
        bridge_api_key=os.environ.get("BACKUP_CODES_BRIDGE_API_KEY", ""),
    )
    print(f"keycloak {keycloak_version()} in {home}")
    print(
        f"  {server.base_url}/admin  (bootstrap admin '{server.admin_username}', created on the first start;"
    )
    print(f"  its password is KC_BOOTSTRAP_ADMIN_PASSWORD or the one in {home / BOOTSTRAP_PASSWORD_FILE})")
    sys.stdout.flush()  # execve does not flush Python's buffers
    os.execve(server.command()[0], server.command(), server.environment())  # noqa: S606 (foreground run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="fetch and unpack the distribution, build and install the provider")
    fetch.add_argument("--dir", default=str(CACHE_DIR))
    fetch.add_argument("--no-plugin", action="store_true")
    run = sub.add_parser("run", help="run Keycloak in the foreground (start-dev, data kept in the install)")
    run.add_argument("--dir", default=str(CACHE_DIR))
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--management-port", type=int, default=9000)
    run.add_argument("--admin-user", default=os.environ.get("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"))
    run.add_argument(
        "--bridge-url", default="", help="default: $BACKUP_CODES_BRIDGE_URL (API key from the env)"
    )
    run.add_argument("--no-plugin", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(prepare(Path(args.dir), with_plugin=not args.no_plugin))
            return 0
        return _run(args)
    except KeycloakError as exc:
        print(f"keycloak_dist: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
