"""The journal package has no import loops: the base class knows no backend.

Imports inside functions count too: a deferred import still ties two modules together
(whoever changes one must know the other), it only hides the loop from the interpreter.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tools" / "journal"
BACKENDS = {"tools.journal.sqlite_store", "tools.journal.postgres_store"}


def imports_of(path: Path) -> set[str]:
    """Every ``tools.journal.*`` module that ``path`` imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tools.journal"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if (PACKAGE / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tools.journal"))
    return {name for name in found if name != "tools.journal"}


def graph() -> dict[str, set[str]]:
    return {f"tools.journal.{p.stem}": imports_of(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_the_store_base_class_imports_no_backend() -> None:
    assert not imports_of(PACKAGE / "store.py") & BACKENDS


def test_no_module_of_the_journal_imports_itself_through_others() -> None:
    edges = graph()
    cycles = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    cycles.append(" → ".join([*path, nxt]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert cycles == []
