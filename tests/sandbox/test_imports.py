"""The sandbox's modules import one another one way only (imports under TYPE_CHECKING count too): the
function implementations register themselves without importing the site that dispatches to them."""

from __future__ import annotations

import ast
from pathlib import Path

import moodle_sync.sandbox

PACKAGE = Path(moodle_sync.sandbox.__file__).parent


def _imports(path: Path) -> set[str]:
    """The sandbox modules ``path`` imports (``from . import x``, ``from .x import y``), by module name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names |= {node.module} if node.module else {a.name for a in node.names}
    return {n for n in names if (PACKAGE / f"{n}.py").exists()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (the modules along it), or [] when there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return []
        for imported in sorted(graph[module]):
            found = visit(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return []

    return next((c for m in sorted(graph) if (c := visit(m, []))), [])


def test_the_sandbox_has_no_import_cycle() -> None:
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert "functions_user" in graph and "calls" in graph["functions_user"]
    assert _cycle(graph) == []
