"""The code keeps its floors: no import loop, nothing imports a floor above it, modules stay small.

Floors follow the data flow of docs/design.md, lowest first. A package may import its own floor
and the floors below it; `TYPE_CHECKING` imports count too unless they are only annotations
(they are skipped, since they never run). Parsed with `ast`, so nothing is imported to check.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FLOORS: list[set[str]] = [
    {"tools", "tools.journal", "tools.sandbox"},                      # effects: actions, journal, sandbox
    {"worker.settings", "worker.logs", "worker.flow", "worker.engines"},  # config, pure machine, engines
    {"worker.reading", "worker.trace", "worker.journaling", "worker.transport"},
    {"worker.planner", "worker.phone"},
    {"worker.call"},                                                   # one call, assembled once
    {"worker.simulate", "worker.room", "worker.serve", "worker.replay", "worker.resume", "worker.audit"},
    {"worker.cli", "worker", "worker.bench_runner"},                   # entry points
]
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("worker/**/*.py"), *ROOT.glob("tools/**/*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _package(module: str) -> str:
    """`worker.call.ledger` → `worker.call`; `tools.executor` → `tools`; `worker.cli` → itself."""
    parts = module.split(".")
    if parts[0] == "tools":
        return "tools." + parts[1] if len(parts) > 1 and (ROOT / "tools" / parts[1]).is_dir() else "tools"
    if len(parts) > 1:
        return "worker." + parts[1]
    return "worker"


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree)
               if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_every_package_has_a_floor() -> None:
    placed = set().union(*FLOORS)
    assert {_package(m) for m in _modules()} <= placed


def test_no_package_imports_a_floor_above_it() -> None:
    floor = {pkg: i for i, pkgs in enumerate(FLOORS) for pkg in pkgs}
    upward = sorted(f"{m} → {d}" for m, deps in _graph().items() for d in deps
                    if floor[_package(d)] > floor[_package(m)])
    assert upward == []


def test_no_import_loop() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert loops == []


def test_modules_stay_small() -> None:
    big = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The floor check is not vacuous: the engines importing the call would be caught."""
    probe = tmp_path / "probe.py"
    probe.write_text("from worker.call.assembly import CallAssembly\n")
    assert "worker.call" in {_package(m) for m in _imports(probe, _modules())}
