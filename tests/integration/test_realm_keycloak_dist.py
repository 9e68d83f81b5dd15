"""Fetching and unpacking the pinned Keycloak distribution (scripts/keycloak_dist.py), without running it."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from scripts import keycloak_dist


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    archive = tmp_path / "keycloak-quarkus-dist-0.0.1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("keycloak-0.0.1/bin/kc.sh", "#!/bin/sh\n")
        zf.writestr("keycloak-0.0.1/providers/README.md", "providers\n")
    monkeypatch.setattr(keycloak_dist, "distribution_zip", lambda version=None: archive)
    return archive


def test_unpack_makes_the_scripts_executable(tmp_path: Path, fake_distribution: Path) -> None:
    home = keycloak_dist.unpack(tmp_path / "cache", "0.0.1")

    assert os.access(home / "bin" / "kc.sh", os.X_OK)


def test_unpack_twice_keeps_the_first_install(tmp_path: Path, fake_distribution: Path) -> None:
    home = keycloak_dist.unpack(tmp_path / "cache", "0.0.1")
    (home / "data").mkdir()

    assert keycloak_dist.unpack(tmp_path / "cache", "0.0.1") == home
    assert (home / "data").is_dir()


def test_a_half_finished_unpack_is_redone(tmp_path: Path, fake_distribution: Path) -> None:
    broken = tmp_path / "cache" / "keycloak-0.0.1"
    broken.mkdir(parents=True)
    (broken / "leftover").write_text("x")

    home = keycloak_dist.unpack(tmp_path / "cache", "0.0.1")

    assert not (home / "leftover").exists()
    assert (home / keycloak_dist.UNPACKED_MARKER).is_file()


def test_install_plugin_replaces_an_old_copy(tmp_path: Path) -> None:
    home = tmp_path / "kc"
    (home / "providers").mkdir(parents=True)
    (home / "providers" / "keycloak-backup-codes-old.jar").write_text("old")
    jar = tmp_path / "keycloak-backup-codes.jar"
    jar.write_text("new")

    keycloak_dist.install_plugin(home, jar)

    assert sorted(p.name for p in (home / "providers").iterdir()) == ["keycloak-backup-codes.jar"]


def test_the_version_can_be_pinned_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYCLOAK_VERSION", "26.9.9")

    assert keycloak_dist.keycloak_version() == "26.9.9"


def test_free_port_is_in_our_range_and_skips_exclusions() -> None:
    first = keycloak_dist.free_port()
    second = keycloak_dist.free_port(exclude=[first])

    assert keycloak_dist.PORT_RANGE[0] <= first <= keycloak_dist.PORT_RANGE[1]
    assert second != first
