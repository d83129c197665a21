"""What the commands share: settings from the flags, the app context, printing, JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.engine.markup import printable
from bot.models import Answer, Briefing, Notice, Result, UserError
from bot.render.text import render_text
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.context import AppContext

T = TypeVar("T")


def result_to_json(result: Result) -> dict[str, Any]:
    """The CLI's JSON contract: text, abstained, intent, citations (+ extra fields)."""
    if isinstance(result, Answer | Briefing):
        return result.model_dump(mode="json")
    if isinstance(result, Notice):
        return {"text": render_text(result), "abstained": False, "intent": "usage",
                "citations": [], "kind": "notice"}
    if isinstance(result, UserError):
        return {"text": render_text(result), "abstained": False, "intent": "error",
                "citations": [], "kind": "error", "error": result.message}
    raise TypeError(type(result).__name__)


_UNPRINTABLE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")


def to_json(data: Any, indent: int | None = None) -> str:
    """JSON with non-ASCII text kept readable, but DEL, C1 controls (U+009B is a CSI to some
    terminals) and lone surrogates (which `print` cannot encode) written as \\u escapes.
    json.dumps already escapes C0 controls; the escapes decode to the same strings."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _UNPRINTABLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_text(text: str, **kwargs: Any) -> None:
    """Human-readable output: questions and seeds may hold escapes; the terminal gets none."""
    print(printable(text), **kwargs)


def print_result(result: Result, as_json: bool) -> int:
    """One command's result, as JSON or as text; its exit code (2 for a usage error)."""
    if as_json:
        print(to_json(result_to_json(result)), flush=True)
    else:
        print_text(render_text(result), flush=True)
    return 2 if isinstance(result, UserError) else 0


def settings_for(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "seeds", None):
        overrides["seeds_dir"] = Path(args.seeds)
    return load_settings(**overrides)


def context_for(settings: Settings) -> AppContext:
    from bot.context import AppContext
    from bot.engine.holder import IndexHolder
    from bot.engine.index import build_index

    index = build_index(settings.seeds_dir, settings.cache_dir)
    return AppContext(settings=settings, index=IndexHolder(index, version=1))


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def add_seeds_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", metavar="DIR",
                   help="folder of articles (default: BRIEFBOT_SEEDS_DIR or ./seeds)")
