"""The layout a newcomer reads from the folder names holds: no import cycles, and each domain
package imports only the packages below it.

The graph is built with ``ast`` from the source, counting every import: at the top of a
module, inside functions, and under ``TYPE_CHECKING``. A cycle hidden inside a function is
still a cycle; it only fails later, at run time, instead of at import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "workflow"

# Lowest first. A domain package may import the foundation and any package before it.
LAYERS = ["trail", "office", "outbox", "identity", "memos", "circulation", "audit", "seal",
          "admin", "platform", "demo"]
# Plain modules at the top of ``workflow`` that know no domain: the state machine, models,
# the database, errors, Thai text, office-time arithmetic, rendering helpers, the sandbox.
FOUNDATION = {"clock", "errors", "thai", "dbtypes", "db", "extensions", "models", "routing",
              "steps",
              "officetime", "richtext", "textdiff", "pdf", "mail", "phrases", "validation",
              "jobs", "storage", "images", "sandbox"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom,
             modules: dict[str, Path]) -> set[str]:
    """The ``workflow`` modules one ``from … import …`` names: ``from .. import clock`` names
    ``workflow.clock``; ``from .chain import record`` names ``workflow.trail.chain``."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    named = {f"{prefix}.{alias.name}" for alias in node.names}
    found = {name for name in named if name in modules}
    if found != named and prefix in modules:
        found.add(prefix)  # some names are attributes of ``prefix`` itself
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``workflow`` modules it imports anywhere in its source."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                targets |= _resolve(name, path.name == "__init__.py", node, modules)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in modules}
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> tuple[str, int] | None:
    """(package, rank) of a domain module; None for the foundation and the web layer."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1], LAYERS.index(parts[1])
    return None


def test_no_import_cycles_among_workflow_modules() -> None:
    assert _cycles(import_graph()) == []


def test_each_domain_package_imports_only_the_foundation_and_packages_below_it() -> None:
    wrong = []
    for module, targets in sorted(import_graph().items()):
        mine = _layer(module)
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = _layer(target)
            if theirs is None:
                leaf = target.split(".")[1] if "." in target else target
                if leaf not in FOUNDATION and target != "workflow":
                    wrong.append(f"{module} -> {target} (not foundation)")
            elif theirs[1] > mine[1]:
                wrong.append(f"{module} -> {target} ({theirs[0]} is above {mine[0]})")
    assert wrong == []


def test_the_state_machine_knows_nothing_of_flask_the_database_or_celery() -> None:
    tree = ast.parse((PACKAGE / "routing.py").read_text(encoding="utf-8")
                     + (PACKAGE / "steps.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and not n.level}
    assert not imported & {"flask", "sqlmodel", "sqlalchemy", "celery", "flask_login"}


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    """About 400 lines at most, so each reads as one idea (models.py is the table list)."""
    if path.name == "models.py":
        pytest.skip("the tables, one after another")
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 420
