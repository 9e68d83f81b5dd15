"""The docker/ deployment files: valid compose, no secrets in files, images that match what we test.

The static checks run everywhere. ``docker compose config`` runs where the compose CLI plugin is
installed (it needs no engine); bringing the stack up needs a Docker engine and is skipped without one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yml"
COMPOSE_HA = DOCKER / "compose.ha.yml"
ENV_EXAMPLE = DOCKER / ".env.example"
REQUIRED_VAR = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]*\}")
ANY_VAR = re.compile(r"\$\{([A-Z0-9_]+)")
SECRET_NAME = re.compile(r"PASSWORD|PEPPER|SECRET|API_KEY|DATABASE_URL")


class ComposeLoader(yaml.SafeLoader):
    """YAML as compose reads it: the merge tags ``!reset`` and ``!override`` keep their value."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _tag in ("!reset", "!override"):
    ComposeLoader.add_constructor(_tag, _tagged)


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=ComposeLoader)  # noqa: S506 (a SafeLoader subclass)


def required_variables(*paths: Path) -> set[str]:
    return {name for path in paths for name in REQUIRED_VAR.findall(path.read_text())}


def env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def dummy_env() -> dict[str, str]:
    """Every required variable set to a throwaway value, as an operator's docker/.env would."""
    return {name: secrets.token_urlsafe(12) for name in required_variables(COMPOSE, COMPOSE_HA)}


def service_environments(compose: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for service_name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for name, value in environment.items():
            yield service_name, name, str(value)


# --------------------------------------------------------------------------- static checks


@pytest.mark.parametrize("path", [COMPOSE, COMPOSE_HA], ids=["compose", "compose.ha"])
def test_compose_file_is_yaml_with_services(path: Path) -> None:
    assert load(path)["services"]


def test_compose_secrets_come_from_required_variables_not_the_file() -> None:
    for path in (COMPOSE, COMPOSE_HA):
        for service, name, value in service_environments(load(path)):
            if SECRET_NAME.search(name) and not name.endswith("_FILE"):
                where = f"{path.name}: {service}.{name}"
                assert REQUIRED_VAR.search(value), f"{where} must be a ${{VAR:?…}} reference"


def test_compose_publishes_ports_on_loopback_only() -> None:
    for path in (COMPOSE, COMPOSE_HA):
        for name, service in load(path)["services"].items():
            for port in service.get("ports") or []:
                assert str(port).startswith("127.0.0.1:"), f"{path.name}: {name} publishes {port}"


def test_compose_images_are_pinned() -> None:
    for path in (COMPOSE, COMPOSE_HA):
        for name, service in load(path)["services"].items():
            image = service.get("image")
            if image and "build" not in service and not image.startswith("backup-codes-"):
                assert ":" in image and not image.endswith(":latest"), f"{path.name}: {name} uses {image}"


def test_env_example_names_every_required_variable() -> None:
    missing = required_variables(COMPOSE, COMPOSE_HA) - env_example_names()
    assert not missing, f"docker/.env.example lacks {sorted(missing)}"


def test_env_example_holds_no_secret_values() -> None:
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and SECRET_NAME.search(match.group(1)):
            assert match.group(2) == "", f"{match.group(1)} must be left empty in the example"


def test_ha_compose_runs_two_bridges_and_two_keycloaks_behind_the_proxy() -> None:
    services = load(COMPOSE_HA)["services"]
    assert {"bridge-2", "keycloak-2", "proxy"} <= set(services)
    nginx = (DOCKER / "nginx-ha.conf").read_text()
    for upstream in ("bridge:8090", "bridge-2:8090", "keycloak:8080", "keycloak-2:8080"):
        assert f"server {upstream}" in nginx
    assert services["keycloak"]["environment"]["KC_CACHE"] == "ispn"
    assert services["keycloak"]["environment"]["KC_CACHE_STACK"] == "jdbc-ping"
    assert services["keycloak"]["environment"]["BACKUP_CODES_BRIDGE_URL"] == "http://proxy:8090"


def test_bridge_image_runs_as_an_unprivileged_user() -> None:
    dockerfile = (DOCKER / "bridge.Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and not users[-1].startswith(("root", "0:", "0\n")) and users[-1] != "0"


def test_bridge_image_checks_health_on_healthz() -> None:
    dockerfile = (DOCKER / "bridge.Dockerfile").read_text()
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "/healthz" in healthcheck.split("ENTRYPOINT")[0]


def test_bridge_image_migrates_before_serving() -> None:
    entrypoint = re.search(r"^ENTRYPOINT (.*)$", (DOCKER / "bridge.Dockerfile").read_text(), re.MULTILINE)
    assert entrypoint
    expected = r"backup-codes db upgrade && exec backup-codes serve --host 0\.0\.0\.0"
    assert re.search(expected, entrypoint.group(1))


def test_keycloak_image_matches_the_version_the_provider_compiles_against() -> None:
    pom = REPO / "plugin" / "pom.xml"
    if not pom.is_file():
        pytest.skip("plugin/pom.xml does not exist yet")
    wanted = re.search(r"<keycloak\.version>([^<]+)</keycloak\.version>", pom.read_text())
    assert wanted
    dockerfile = (DOCKER / "keycloak.Dockerfile").read_text()
    assert f"ARG KEYCLOAK_VERSION={wanted.group(1)}" in dockerfile


# --------------------------------------------------------------------------- docker compose config


def compose_cli_available() -> bool:
    if not shutil.which("docker"):
        return False
    result = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return result.returncode == 0


needs_compose_cli = pytest.mark.skipif(
    not compose_cli_available(),
    reason="the docker compose CLI plugin is not installed (`docker compose version` fails)",
)


def compose_config(files: list[Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = ["docker", "compose"]
    for path in files:
        command += ["-f", str(path)]
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_CONFIG")}
    return subprocess.run(
        [*command, "config", "-q"], capture_output=True, text=True, env={**base, **env}, check=False
    )


@needs_compose_cli
@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, COMPOSE_HA]], ids=["compose", "compose+ha"])
def test_docker_compose_config_accepts_the_files(files: list[Path]) -> None:
    result = compose_config(files, dummy_env())
    assert result.returncode == 0, result.stderr


@needs_compose_cli
def test_docker_compose_config_refuses_to_run_without_the_secrets() -> None:
    result = compose_config([COMPOSE], {})
    assert result.returncode != 0
    assert "PASSWORD" in result.stderr


# --------------------------------------------------------------------------- the running stack


def docker_engine_answers() -> bool:
    if not compose_cli_available():
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def compose_ports() -> dict[str, int]:
    return {"KEYCLOAK_PORT": free_port(), "MAIL_UI_PORT": free_port()}


@pytest.fixture(scope="session")
def docker_compose_command(tmp_path_factory: pytest.TempPathFactory, compose_ports: dict[str, int]) -> str:
    """pytest-docker's command, with an env file holding throwaway secrets and free ports."""
    env_file = tmp_path_factory.mktemp("compose") / "test.env"
    values = {**dummy_env(), **{k: str(v) for k, v in compose_ports.items()}}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env_file.chmod(0o600)
    return f"docker compose --env-file {env_file}"


@pytest.fixture(scope="session")
def docker_compose_file() -> list[str]:
    return [str(COMPOSE)]


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d"]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


@pytest.mark.docker
@pytest.mark.skipif(not docker_engine_answers(), reason="no Docker engine answers (`docker info` fails)")
def test_compose_stack_comes_up_with_keycloak_bridge_and_mail(
    docker_services: Any, compose_ports: dict[str, int]
) -> None:
    keycloak = (
        f"http://127.0.0.1:{compose_ports['KEYCLOAK_PORT']}/realms/master/.well-known/openid-configuration"
    )
    docker_services.wait_until_responsive(check=lambda: answers(keycloak), timeout=600, pause=5)
    assert answers(f"http://127.0.0.1:{compose_ports['MAIL_UI_PORT']}/")
    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8090/healthz', timeout=5)"
    docker_services.execute(f'exec -T bridge python -c "{probe}"')
