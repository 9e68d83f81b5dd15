"""The sync reaches locks and audit rows only through the service; the realm planner needs only the model."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_the_realm_planner_needs_nothing_but_the_model() -> None:
    tree = ast.parse((BRIDGE / "realm" / "plan.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }

    assert {name for name in imported if name and name.startswith(("bridge", "keycloak"))} == {
        "bridge.realm.model"
    }
