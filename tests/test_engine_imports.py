"""The engine's modules import one another one way: no cycle, not even through an import
inside a function or under `if TYPE_CHECKING:`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "bot" / "engine"
PACKAGE = "bot.engine"


def _module(path: Path) -> str:
    return f"{PACKAGE}.{path.stem}" if path.stem != "__init__" else PACKAGE


def engine_imports(path: Path) -> set[str]:
    """The `bot.engine` modules `path` imports anywhere in its body."""
    modules = {_module(p) for p in ENGINE.glob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .x import y
                base = ".".join([PACKAGE, base] if base else [PACKAGE])
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        found.update(n for n in names if n in modules)
    found.discard(_module(path))
    return found


def graph() -> dict[str, set[str]]:
    return {_module(p): engine_imports(p) for p in sorted(ENGINE.glob("*.py"))}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a path of module names (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walker_sees_imports_at_every_level() -> None:
    edges = graph()
    assert "bot.engine.corpus" in edges["bot.engine.answer"]  # top level
    assert "bot.engine.corpus" in edges["bot.engine.decide"]  # under TYPE_CHECKING
    assert "bot.engine.engine" in edges["bot.engine.index"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_engine_modules_form_no_import_cycle() -> None:
    assert find_cycle(graph()) is None


def test_the_corpus_imports_nothing_that_answers() -> None:
    edges = graph()
    reach: set[str] = set()
    todo = ["bot.engine.corpus"]
    while todo:
        for nxt in edges[todo.pop()] - reach:
            reach.add(nxt)
            todo.append(nxt)
    assert not reach & {"bot.engine.index", "bot.engine.engine", "bot.engine.answer",
                        "bot.engine.briefing", "bot.engine.decide"}


@pytest.mark.parametrize("module", sorted(_module(p) for p in ENGINE.glob("*.py")))
def test_each_module_imports_alone(module: str) -> None:
    """In a fresh interpreter, first thing: a cycle broken only by import order would fail."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, timeout=120)
