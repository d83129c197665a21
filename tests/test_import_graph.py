"""The layers import one way: no runtime import cycle anywhere in bot/ and handlers/ (imports
inside functions count; `if TYPE_CHECKING:` blocks do not run, so they don't), handlers never
reach a platform, and the core reaches adapters only through the registry."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_engine_imports import find_cycle

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "discord")


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for folder in ("bot", "handlers") for p in (ROOT / folder).rglob("*.py")}


def runtime_imports(path: Path) -> set[str]:
    """Everything `path` imports when it runs (top level and inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _ours(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_ours(n) for n in runtime_imports(path)}
        edges[module] = {t for t in targets if t is not None and t != module}
    return edges


def test_the_walker_finds_lazy_imports() -> None:
    edges = graph()
    assert "bot.app" in edges["bot.serve"]
    assert "bot.adapters" in edges["bot.app"]  # the registry
    assert len(MODULES) > 60


def test_no_runtime_import_cycle() -> None:
    assert find_cycle(graph()) is None


def test_handlers_never_reach_a_platform() -> None:
    for module, path in MODULES.items():
        if module.startswith("handlers"):
            imported = runtime_imports(path)
            assert not {n for n in imported if n.split(".")[0] in PLATFORM_LIBRARIES}, module
            assert not {n for n in imported if n.startswith("bot.adapters")}, module


def test_the_core_reaches_adapters_only_through_the_registry() -> None:
    for module, path in MODULES.items():
        if module.startswith("bot.adapters"):
            continue
        reached = {n for n in runtime_imports(path) if n.startswith("bot.adapters.")}
        if module == "bot.cli":  # `briefbot discord-sync` is Discord's own command
            reached -= {"bot.adapters.discord", "bot.adapters.discord.sync_commands_cli"}
        assert not reached, f"{module} imports {sorted(reached)}; use bot.adapters.get(name)"
