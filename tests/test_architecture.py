"""The layering, read from the source: plumbing imports no capability, packages form no
import cycle but the listed ones, and advisory-lock keys live in one registry.

"Package" is the first name under ``counterline`` (``counterline.rooms.events`` is
``rooms``, ``counterline.services`` is ``services``). Every import counts, including those
inside functions and under ``TYPE_CHECKING``: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from counterline.locks import Key, Namespace

SOURCE = Path(__file__).parent.parent / "src" / "counterline"

# Knows no capability; may import other plumbing only (docs/architecture.md).
PLUMBING = {
    "access_feed",
    "config",
    "days",
    "db",
    "errors",
    "group_commit",
    "i18n",
    "ids",
    "jobs",
    "limits",
    "locks",
    "measures",
    "net",
    "realtime",
    "segmenter",
    "sqlite_inline",
    "subscribers",
    "tasks",
    "unicode_guard",
}

# Imports that point up the layers and close a cycle today. Each one is a debt: remove the
# import, then its line here (the test fails while a listed edge no longer closes a cycle).
# Order, bottom up: plumbing, audit, branches, accounts, rooms and presence, messages,
# streams and ops, services, deps, web, app and cli.
KNOWN_BACK_EDGES = {
    # A capability writes to another one above it.
    ("rooms", "messages"): "rooms.pages renders the room's messages",
    # Routes and pages inside capability packages reach the wiring through deps.py
    # (which builds on services.py, which imports every capability).
    ("accounts", "deps"): "accounts.routes, pages and guards",
    ("rooms", "deps"): "rooms.routes and pages",
    ("messages", "deps"): "messages.routes",
    ("uploads", "deps"): "uploads.routes",
    ("ops", "deps"): "ops.routes",
    ("previews", "deps"): "previews.routes",
    ("hooks", "deps"): "hooks.routes",
    ("notices", "deps"): "notices.routes and pages",
    ("bots", "deps"): "bots.routes",
    ("portal", "deps"): "portal.routes and pages",
    ("search", "deps"): "search.routes and pages",
    ("faq", "deps"): "faq.routes and pages",
    ("streams", "deps"): "streams.endpoint",
    ("rooms", "services"): "rooms.pages",
    ("streams", "services"): "streams.endpoint",
    ("accounts", "web"): "accounts.pages renders with web.templating",
    ("rooms", "web"): "rooms.pages renders with web.templating",
}


def _module_name(path: Path) -> list[str]:
    parts = ["counterline", *path.relative_to(SOURCE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(tree: ast.AST, module: list[str], is_package: bool) -> Iterator[str]:
    """Every dotted name imported anywhere in the module (relative imports resolved)."""
    here = module if is_package else module[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            yield name
            # ``from counterline import i18n`` imports the package i18n
            yield from (f"{name}.{alias.name}" for alias in node.names)


def _package_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "counterline" or len(parts) < 2:
        return None
    first = parts[1]
    exists = (SOURCE / first).is_dir() or (SOURCE / f"{first}.py").is_file()
    return first if exists else None


@cache
def imports_by_module() -> dict[str, set[str]]:
    """For each module, the counterline packages it imports (its own excluded)."""
    result = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        packages = {_package_of(name) for name in _imported(tree, module, path.stem == "__init__")}
        own = _package_of(".".join(module))
        result[".".join(module)] = {p for p in packages if p is not None and p != own}
    return result


def package_of_module(module: str) -> str:
    return _package_of(module) or "counterline"


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, packages in imports_by_module().items():
        graph.setdefault(package_of_module(module), set()).update(packages)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of packages (first package repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(package: str) -> list[str] | None:
        if package in path:
            return [*path[path.index(package) :], package]
        if package in done:
            return None
        path.append(package)
        for nxt in sorted(graph.get(package, ())):
            if cycle := visit(nxt):
                return cycle
        path.pop()
        done.add(package)
        return None

    for package in sorted(graph):
        if cycle := visit(package):
            return cycle
    return None


@pytest.mark.parametrize("package", sorted(PLUMBING))
def test_plumbing_imports_plumbing_only(package):
    offending = {
        module: sorted(packages - PLUMBING)
        for module, packages in imports_by_module().items()
        if package_of_module(module) == package and packages - PLUMBING
    }
    assert offending == {}, f"plumbing must not import capabilities or wiring: {offending}"


def test_realtime_is_checked_as_plumbing():
    assert any(module.startswith("counterline.realtime.") for module in imports_by_module())
    assert "realtime" in PLUMBING


def test_packages_import_each_other_without_cycles():
    graph = package_graph()
    for source, target in KNOWN_BACK_EDGES:
        graph[source].discard(target)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between packages: " + " → ".join(cycle or [])


@pytest.mark.parametrize("edge", sorted(KNOWN_BACK_EDGES), ids="→".join)
def test_each_known_back_edge_still_closes_a_cycle(edge):
    source, target = edge
    graph = package_graph()
    assert target in graph.get(source, set()), f"{source} no longer imports {target}: unlist it"
    assert _reaches(graph, target, source), f"{source} → {target} closes no cycle: unlist it"


def test_advisory_lock_keys_are_unique_in_their_key_space():
    for space in (Key, Namespace):
        values = [member.value for member in space.__members__.values()]
        assert len(values) == len(set(values)), f"{space.__name__} repeats a key: {values}"


def test_advisory_lock_keys_are_taken_from_the_registry_only():
    literal = re.compile(r"\b7411\d{3}\b")
    for path in SOURCE.rglob("*.py"):
        if path.name == "locks.py":
            continue
        text = path.read_text()
        assert not literal.search(text), f"{path}: an advisory-lock key outside locks.py"
        if "pg_advisory" in text:
            assert "counterline.locks" in text, f"{path} takes a lock without counterline.locks"
