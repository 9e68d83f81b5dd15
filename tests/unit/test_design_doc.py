"""docs/design.md names every module of the bridge, so the map of the layers cannot silently go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BRIDGE = REPO / "bridge"
DESIGN = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
# A package's __init__ is named by its package's row; revision scripts and entry points are not modules of
# the design; __init__.py files that only re-export are covered by their package.
SKIPPED = ("__init__.py", "__main__.py")


def documented_name(path: Path) -> str:
    return path.relative_to(BRIDGE).as_posix()


MODULES = sorted(
    documented_name(path)
    for path in BRIDGE.rglob("*.py")
    if path.name not in SKIPPED and "migrations" not in path.parts
)


@pytest.mark.parametrize("module", MODULES)
def test_the_design_names_every_module(module: str) -> None:
    assert f"`{module}`" in DESIGN, f"docs/design.md does not name bridge/{module}"


def test_the_design_names_every_package() -> None:
    packages = sorted({path.parent.relative_to(BRIDGE).as_posix() for path in BRIDGE.rglob("__init__.py")})
    missing = [p for p in packages if p != "." and "migrations" not in p and f"`{p}/" not in DESIGN]
    assert not missing, f"docs/design.md does not name {missing}"
