"""The code's own checks, run with the suite so CI holds every change to them.

The linters run as subprocesses of this interpreter: the versions the test
extra installed, the configuration in pyproject.toml, nothing from PATH.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "zoo_repo"
MAX_LINES = 400


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _assert_ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def test_ruff() -> None:
    _assert_ok(_run("-m", "ruff", "check", PACKAGE, "tests", "bench"))


def test_mypy() -> None:
    # The default cache (.mypy_cache, which ignores itself in git): a cold run
    # takes seconds, a warm one well under one.
    _assert_ok(_run("-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), PACKAGE))


def test_import_layers() -> None:
    # importlinter.cli has no __main__ guard: ``-m importlinter.cli`` exits 0
    # having checked nothing. This calls what the lint-imports script calls.
    proc = _run("-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())")
    _assert_ok(proc)
    assert "Contracts:" in proc.stdout, f"lint-imports reported no contracts\n{proc.stdout}\n{proc.stderr}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def test_no_import_cycles() -> None:
    # Imports under ``if TYPE_CHECKING:`` never run, so they cannot make a cycle
    # at import time; no cache, so nothing is written into the checkout.
    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)
    cycles = _cycles(graph)
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_sees_a_cycle() -> None:
    # Without this, a finder that never reports anything would pass the test above.
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph) == [["a.x", "a.y"]]


def test_modules_stay_small() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / PACKAGE).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them by what they do): {too_long}"
