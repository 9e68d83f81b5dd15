"""The bridge's layers, read from its source with ``ast``: imports point only downward, and every module
keeps to the size limits.

The layers, top to bottom (docs/design.md):

    cli                  the ``backup-codes`` command; may use anything below
    http                 the app, request validation, the views
    service              use cases; ldap, realm and notify are beside it, used by cli (plugins) or injected
    ldap                 the directory sync: through the service, and the store and ops below it
    realm                the Keycloak realm installer: the store (API keys, schema) and domain only
    notify               the mail outbox and its delivery: store, i18n and domain
    sheet                the printable code sheet: i18n and domain (used by http)
    i18n                 the gettext catalogs of mails and the sheet: domain only
    store                tables, engine, migrations, repositories
    domain               pure rules and values, no I/O
    ops                  logs, metrics, the hash gate, the process supervisor: below http/cli/service
    settings, errors, contract   the floor every layer may use

An import counts wherever it is written (at the top, inside a function, under ``TYPE_CHECKING``) and
whatever its spelling (``import bridge.x``, ``from bridge import x``, relative), and so does a module
named by a string to ``importlib.import_module`` or ``find_spec``: a lazy import is still a dependency.
The service reaches ``bridge.notify`` only through such a lookup, as the default of the ``enqueue`` it
is handed (notify ships separately); a plain import of notify in the service is refused.

Every package under ``bridge/`` is one of ``LAYERS`` (a new package needs its rule first), and the size
limits hold for all of them and for the top-level modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"
FLOOR = frozenset({"settings", "errors", "contract"})
LAYERS = ("cli", "http", "service", "ldap", "realm", "notify", "sheet", "i18n", "store", "domain", "ops")
TOP_LEVEL = "."  # bridge/*.py: the floor and the package's own __init__

# Where the size limits hold: every layer, and the top-level modules.
SPLIT = (*LAYERS, TOP_LEVEL)
MODULE_LINES = 400
CLASS_LINES = 250
FUNCTION_LINES = 50
# Alembic revision scripts: each one upgrade() spelling out a schema step, replayed and never edited.
NOT_SIZED = ("store/migrations/versions/",)

_DYNAMIC_IMPORTS = frozenset({"import_module", "find_spec", "__import__"})


@dataclass(frozen=True)
class Edge:
    """``source`` (a bridge module) uses the bridge module ``target``; ``dynamic``: named by a string."""

    source: str
    target: str
    line: int
    dynamic: bool

    @property
    def source_layer(self) -> str:
        return _layer(self.source)

    @property
    def target_layer(self) -> str:
        return _layer(self.target)

    def __str__(self) -> str:
        how = "looks up" if self.dynamic else "imports"
        return f"{self.source}:{self.line} {how} {self.target}"


def _layer(module: str) -> str:
    """``bridge.http.views.codes`` -> ``http``; a top-level module is its own layer (``settings``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    parts = path.relative_to(BRIDGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[tuple[str, bool]]:
    if isinstance(node, ast.Import):
        return [(alias.name, False) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _absolute(node, module, is_package)
        # `from bridge import sheet` imports the module bridge.sheet; `from bridge.x import y` uses bridge.x.
        return [(f"{base}.{alias.name}" if base == "bridge" else base, False) for alias in node.names]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
            return [(node.args[0].value, True)]
    return []


def edges_of(source: str, module: str, *, is_package: bool = False) -> list[Edge]:
    """Every use of another bridge module in ``source`` (the text of ``module``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for target, dynamic in _targets(node, module, is_package):
            if target == "bridge" or target.startswith("bridge."):
                found.append(Edge(module, target, getattr(node, "lineno", 0), dynamic))
    return found


def bridge_modules(under: str = "") -> list[Path]:
    return sorted((BRIDGE / under).rglob("*.py"))


def all_edges() -> list[Edge]:
    return [
        edge
        for path in bridge_modules()
        for edge in edges_of(
            path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
        )
        if edge.target_layer != edge.source_layer
    ]


def violations(
    layer: str, *, allowed: frozenset[str] | None = None, refused: frozenset[str] = frozenset()
) -> list[str]:
    """The edges out of ``layer`` to a layer not in ``allowed`` (when given) or in ``refused``."""
    assert bridge_modules(layer), f"bridge/{layer}/ does not exist: the rule would hold for nothing"
    return [
        str(edge)
        for edge in all_edges()
        if edge.source_layer == layer
        and ((allowed is not None and edge.target_layer not in allowed) or edge.target_layer in refused)
    ]


# ------------------------------------------------------------------------------------ the rule reader


def test_the_reader_sees_an_import_inside_a_function() -> None:
    source = "def f():\n    from bridge.http import app\n"
    assert [str(e) for e in edges_of(source, "bridge.ops.x")] == ["bridge.ops.x:2 imports bridge.http"]


def test_the_reader_sees_a_module_imported_from_the_bridge_package() -> None:
    assert [e.target for e in edges_of("from bridge import sheet, settings\n", "bridge.http.x")] == [
        "bridge.sheet",
        "bridge.settings",
    ]


def test_the_reader_resolves_relative_imports() -> None:
    edges = edges_of("from ..store import db\nfrom . import views\n", "bridge.http.app")
    assert [e.target for e in edges] == ["bridge.store", "bridge.http"]


def test_the_reader_sees_a_module_looked_up_by_name() -> None:
    source = "import importlib\nimportlib.import_module('bridge.notify')\nfind_spec('bridge.cli')\n"
    assert [(e.target, e.dynamic) for e in edges_of(source, "bridge.service")] == [
        ("bridge.notify", True),
        ("bridge.cli", True),
    ]


def test_the_reader_ignores_a_logger_named_like_a_module() -> None:
    assert edges_of("import logging\nlogging.getLogger('bridge.cli')\n", "bridge.ops.x") == []


# ------------------------------------------------------------------------------------------ the rules


def test_domain_uses_only_the_floor() -> None:
    assert violations("domain", allowed=FLOOR | {"domain"}) == []


# What reads or writes files, sockets, processes or databases: the domain imports none of them.
IO_MODULES = frozenset(
    {"io", "os", "pathlib", "shutil", "tempfile", "socket", "subprocess", "sqlite3", "smtplib", "logging"}
    | {"sqlalchemy", "requests", "ldap3", "flask", "fpdf", "babel.messages", "babel.support", "gettext"}
)


def _io_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.append(f"{path.name}:{node.lineno} open()")
        found += [
            f"{path.name}:{node.lineno} {name}"
            for name in names
            if any(name == io or name.startswith(f"{io}.") for io in IO_MODULES)
        ]
    return found


def test_the_domain_does_no_io() -> None:
    assert [use for path in bridge_modules("domain") for use in _io_uses(path)] == []


def test_store_uses_only_domain_and_the_floor() -> None:
    assert violations("store", allowed=FLOOR | {"domain", "store"}) == []


def test_every_package_of_the_bridge_is_a_layer_with_rules() -> None:
    packages = {path.parent.name for path in BRIDGE.glob("*/__init__.py")}
    assert packages == set(LAYERS)


def test_the_floor_uses_only_the_floor() -> None:
    top = {module_name(path) for path in BRIDGE.glob("*.py")}
    assert [str(e) for e in all_edges() if e.source in top and e.target_layer not in FLOOR] == []


def test_service_uses_no_layer_above_it_nor_a_plugin_beside_it() -> None:
    assert violations("service", refused=frozenset({"http", "cli", "ldap", "realm", "sheet"})) == []


def test_service_reaches_notify_only_through_its_injected_enqueue() -> None:
    static = [str(e) for e in all_edges() if e.source_layer == "service" and e.target_layer == "notify"]
    assert [edge for edge in static if " imports " in edge] == []


def test_ops_uses_no_http_cli_or_service() -> None:
    refused = frozenset({"http", "cli", "service", "ldap", "realm", "notify", "sheet"})
    assert violations("ops", refused=refused) == []


def test_notify_uses_only_store_i18n_domain_and_the_floor() -> None:
    assert violations("notify", allowed=FLOOR | {"notify", "store", "i18n", "domain"}) == []


def test_sheet_uses_only_i18n_domain_and_the_floor() -> None:
    assert violations("sheet", allowed=FLOOR | {"sheet", "i18n", "domain"}) == []


def test_i18n_uses_only_domain_and_the_floor() -> None:
    assert violations("i18n", allowed=FLOOR | {"i18n", "domain"}) == []


def test_ldap_uses_only_the_service_and_the_layers_below_it() -> None:
    assert violations("ldap", allowed=FLOOR | {"ldap", "service", "store", "domain", "ops"}) == []


def test_realm_uses_only_store_domain_and_the_floor() -> None:
    assert violations("realm", allowed=FLOOR | {"realm", "store", "domain"}) == []


def test_http_uses_only_the_layers_below_it() -> None:
    below = FLOOR | {"http", "service", "store", "domain", "ops", "sheet"}
    assert violations("http", allowed=below) == []


def test_nothing_but_cli_uses_cli() -> None:
    assert [str(e) for e in all_edges() if e.target_layer == "cli"] == []


def test_nothing_but_cli_uses_http() -> None:
    assert [str(e) for e in all_edges() if e.target_layer == "http" and e.source_layer != "cli"] == []


@pytest.mark.parametrize("plugin", ["ldap", "realm"])
def test_nothing_but_cli_uses_the_ldap_and_realm_plugins(plugin: str) -> None:
    assert [str(e) for e in all_edges() if e.target_layer == plugin and e.source_layer != "cli"] == []


# ------------------------------------------------------------------------------------------ the sizes


def _sized(package: str) -> list[Path]:
    found = sorted(BRIDGE.glob("*.py")) if package == TOP_LEVEL else bridge_modules(package)
    paths = [p for p in found if not any(part in p.as_posix() for part in NOT_SIZED)]
    assert paths, f"bridge/{package}/ has no modules: is it split yet?"
    return paths


def _definitions(path: Path, kind: type | tuple[type, ...]) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.end_lineno - node.lineno + 1, f"{path.relative_to(BRIDGE.parent)}:{node.name}")  # type: ignore[attr-defined]
        for node in ast.walk(tree)
        if isinstance(node, kind)
    ]


@pytest.mark.parametrize("package", SPLIT)
def test_no_module_of_a_split_package_is_over_the_line_limit(package: str) -> None:
    sizes = [
        (len(p.read_text(encoding="utf-8").splitlines()), str(p.relative_to(BRIDGE.parent)))
        for p in _sized(package)
    ]
    assert [size for size in sizes if size[0] > MODULE_LINES] == []


@pytest.mark.parametrize("package", SPLIT)
def test_no_class_of_a_split_package_is_over_the_line_limit(package: str) -> None:
    sizes = [size for p in _sized(package) for size in _definitions(p, ast.ClassDef)]
    assert [size for size in sizes if size[0] > CLASS_LINES] == []


@pytest.mark.parametrize("package", SPLIT)
def test_no_function_of_a_split_package_is_over_the_line_limit(package: str) -> None:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    sizes = [size for p in _sized(package) for size in _definitions(p, kinds)]
    assert [size for size in sizes if size[0] > FUNCTION_LINES] == []
