"""The shape of the house stays: every import points down the layers, adapters reach no
further than the services, and no two modules import each other round a loop.

See docs/architecture.md for the picture. Imports are read from the source (top-level,
inside functions and under TYPE_CHECKING alike), so a late import cannot hide one.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# Lowest first. A module may import its own layer and the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("darbuka", "darbuka.backoff", "darbuka.clock", "darbuka.errors", "darbuka.files",
              "darbuka.kinds", "darbuka.logs", "darbuka.markup", "darbuka.secret",
              "darbuka.settings", "darbuka.stream")),
    ("storage, bus and media", ("darbuka.storage", "darbuka.bus", "darbuka.media")),
    ("services", ("darbuka.services",)),
    ("safety", ("darbuka.safety",)),
    ("adapters", ("darbuka.adapters", "darbuka.api", "darbuka.botapi", "darbuka.gateway")),
    ("composition root", ("darbuka.container", "darbuka.app", "darbuka.background",
                          "darbuka.cli",
                          "darbuka.cli_common", "darbuka.cli_data", "darbuka.cli_ops",
                          "darbuka.cli_safety",
                          "darbuka.__main__", "darbuka.ops", "darbuka.reference",
                          "darbuka.testing")),
]
# The SDK is a library of its own: it talks HTTP to the server and imports none of it.
CLIENT = "darbuka.client"
# Below the services there are no rules, so these never import one another.
PEERS = ("darbuka.storage", "darbuka.bus", "darbuka.media")
# What adapters must not reach past the services for.
ADAPTERS = 4  # the index of the adapters in LAYERS
BELOW_THE_SERVICES = ("darbuka.storage", "darbuka.bus", "darbuka.media",
                      "darbuka.services.writer")


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _prefix(module: str) -> str:
    """The longest layer entry naming `module` (`darbuka` alone names only the package)."""
    entries = [p for _, ps in LAYERS for p in ps] + [CLIENT]
    found = [p for p in entries if _within(module, p) and (p != "darbuka" or module == p)]
    if not found:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return max(found, key=len)


def _rank(module: str) -> int:
    prefix = _prefix(module)
    return next(i for i, (_, ps) in enumerate(LAYERS) if prefix in ps) if prefix != CLIENT \
        else -1


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports() -> dict[str, set[str]]:
    """Every darbuka module under src/ (migrations aside) → the darbuka modules it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = _name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                found.add(base)
                # `from darbuka.api import chats` imports the module darbuka.api.chats.
                found |= {f"{base}.{a.name}" for a in node.names
                          if (SRC / f"{base}.{a.name}".replace(".", "/")).with_suffix(".py")
                          .exists() or (SRC / f"{base}.{a.name}".replace(".", "/")).is_dir()}
        graph[module] = {m for m in found if _within(m, "darbuka") and m != module}
    return graph


Graph = dict[str, set[str]]


def against_direction(graph: Graph) -> list[str]:
    return sorted(f"{module} imports {dep} ({LAYERS[_rank(module)][0]} → "
                  f"{LAYERS[_rank(dep)][0]})"
                  for module, deps in graph.items() if not _within(module, CLIENT)
                  for dep in deps if not _within(dep, CLIENT) and _rank(dep) > _rank(module))


def past_the_services(graph: Graph) -> list[str]:
    return sorted(f"{module} imports {dep}" for module, deps in graph.items()
                  if _rank(module) == ADAPTERS for dep in deps
                  if any(_within(dep, low) for low in BELOW_THE_SERVICES))


def between_peers(graph: Graph) -> list[str]:
    return sorted(f"{module} imports {dep}" for module, deps in graph.items()
                  for mine in PEERS if _within(module, mine) for dep in deps
                  for other in PEERS if other != mine and _within(dep, other))


def into_the_server(graph: Graph) -> list[str]:
    return sorted(f"{module} imports {dep}" for module, deps in graph.items()
                  if _within(module, CLIENT) for dep in deps
                  if not _within(dep, CLIENT) and _prefix(dep) not in LAYERS[0][1])


def cycles(graph: Graph) -> list[list[str]]:
    return [c for c in _components(graph) if len(c) > 1]


def test_every_import_points_down_the_layers() -> None:
    wrong = against_direction(imports())
    assert not wrong, "imports against the direction:\n" + "\n".join(wrong)


def test_adapters_see_only_services() -> None:
    wrong = past_the_services(imports())
    assert not wrong, "adapters reaching past the services:\n" + "\n".join(wrong)


def test_below_the_services_nothing_imports_its_peers() -> None:
    wrong = between_peers(imports())
    assert not wrong, "\n".join(wrong)


def test_the_sdk_imports_nothing_of_the_server() -> None:
    wrong = into_the_server(imports())
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    found = cycles(imports())
    assert not found, f"modules importing each other round a loop: {found}"


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


@pytest.mark.parametrize(("check", "module", "dep"), [
    (against_direction, "darbuka.services.media", "darbuka.safety.banks"),
    (against_direction, "darbuka.storage.chats", "darbuka.services.access"),
    (past_the_services, "darbuka.api.chats", "darbuka.storage"),
    (past_the_services, "darbuka.botapi.routes", "darbuka.services.writer"),
    (past_the_services, "darbuka.gateway.socket", "darbuka.bus.base"),
    (between_peers, "darbuka.storage.chats", "darbuka.bus.base"),
    (into_the_server, "darbuka.client.http", "darbuka.services.auth"),
])
def test_each_check_names_a_bad_import(check: Any, module: str, dep: str) -> None:
    """The checks above can fail: given one import against the rules, each names it."""
    graph = imports()
    assert not check(graph)
    assert any(module in line and dep in line for line in check({**graph, module:
                                                                 graph[module] | {dep}}))


def test_a_loop_is_found() -> None:
    graph = imports()
    looped = {**graph, "darbuka.services.access": graph["darbuka.services.access"]
              | {"darbuka.services.chats"}}
    assert any("darbuka.services.access" in c and "darbuka.services.chats" in c
               for c in cycles(looped))
