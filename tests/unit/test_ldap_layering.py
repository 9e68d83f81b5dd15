"""The sync reaches locks and audit rows only through the service; the realm planner (plan.py and the
plan_*.py it orders) needs only the model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, and every ``module.name`` it imports from a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> list[Path]:
    return sorted((BRIDGE / package).glob("*.py"))


def test_the_sync_touches_neither_the_audit_trail_nor_the_lock_table_itself() -> None:
    direct = {
        f"{path.name}: {name}"
        for path in modules("ldap")
        for name in imports_of(path)
        if name in {"bridge.store.audit", "bridge.store.schema.locks", "bridge.store.schema.audit_events"}
        or name.startswith("bridge.store.audit.")
    }

    assert direct == set()


PLANNERS = sorted((BRIDGE / "realm").glob("plan*.py"))


def test_the_realm_planner_is_split_into_the_modules_this_rule_covers() -> None:
    assert [path.name for path in PLANNERS] == ["plan.py", "plan_flows.py", "plan_settings.py"]


@pytest.mark.parametrize("path", PLANNERS, ids=lambda path: path.name)
def test_a_realm_planner_module_needs_nothing_but_the_model_and_the_other_planners(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    planners = {f"bridge.realm.{planner.stem}" for planner in PLANNERS}

    assert {name for name in imported if name and name.startswith(("bridge", "keycloak"))} <= {
        "bridge.realm.model",
        *planners,
    }
