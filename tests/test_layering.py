"""The house: each layer imports only the layers below it (issue 17, item 17).

Imports are read from the source with ``ast``, including the ones inside functions (a lazy
import is still a dependency: it only hides the circle until the function runs). The one
allowed loop is a blueprint package's ``__init__`` importing its own view modules to attach
their routes after ``bp`` exists: those edges are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("onestop", "kiosk", "counter", "queue_display", "hardware")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                deps.add(full if full in modules else base)
    deps.discard(name)
    if path.name == "__init__.py":  # a blueprint package attaching its own views
        deps = {d for d in deps if not d.startswith(name + ".")}
    return {d for d in deps if d in modules}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_the_named_circles_are_gone_in_both_directions() -> None:
    graph = import_graph()
    # audit sits below sign-in (signing in writes audit entries)
    assert "onestop.audit.engine" in graph["onestop.accounts.auth"]
    assert "onestop.accounts.auth" not in graph["onestop.audit.engine"]
    # the worker connects the subscriber; the subscriber only rings the doorbell
    assert "onestop.webhooks.subscriber" in graph["onestop.webhooks.worker"]
    assert "onestop.webhooks.worker" not in graph["onestop.webhooks.subscriber"]


def test_the_cycle_finder_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_empty_admin_package_is_gone() -> None:
    assert not (ROOT / "onestop" / "admin").exists()
    assert "onestop.backoffice.printers" in import_graph()
