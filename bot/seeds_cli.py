"""The command line's article changes (issue 19), which `bot/cli.py` only calls.

- `briefbot add` asks the server on this host to record the file it wrote (the body of its
  POST /admin/reload, `publish_request`); with no server running, `record_without_server`
  records it in the store itself (build, then the article and a new index version in one
  transaction), so every replica still gets it.
- `briefbot remove URL|FILE` (`run_remove`) runs the `remove` handler in this process on the
  store and the seeds folder: the file is deleted, the index rebuilt, the removal recorded
  with the new version; every replica (a server on this host too) follows within seconds.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from pathlib import Path
from typing import Any

from bot.engine.markup import printable
from bot.models import Notice, Result, UserError
from bot.render.text import render_text
from bot.settings import Settings, load_settings

_USER = re.compile(r"[\w.@-]{1,64}")


def cli_user() -> str:
    """Who runs the command, as the store records it (`cli:<user>`)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        return "cli"
    return user if _USER.fullmatch(user) else "cli"


def publish_request(path: Path) -> dict[str, Any]:
    """The body of POST /admin/reload that records the seed file `briefbot add` wrote."""
    return {"publish": [path.name], "user": cli_user()}


async def _in_process(settings: Settings, command: str, text: str = "",
                      options: dict[str, str] | None = None, *, old_index: bool) -> Result:
    """Run an admin command here, on the store and the seeds folder, as the server would."""
    from bot.engine.holder import IndexHolder
    from bot.engine.index import build_index
    from bot.store import open_store_url
    from handlers.context import AppContext
    from handlers.registry import dispatch
    from handlers.requests import CommandRequest

    store = await open_store_url(settings.resolved_database_url)
    try:
        ctx = AppContext(settings=settings, index=IndexHolder(), store=store)
        if old_index:  # the folder as the store has it, for a report of what changed
            await ctx.seed_mirror.sync(store.articles)
            version = await store.get_index_version()
            ctx.index.swap(await asyncio.to_thread(build_index, settings.seeds_dir), version)
        request = CommandRequest(command=command, text=text, platform="cli",
                                 user_id=cli_user(), options=options or {})
        return await dispatch(request, ctx)
    finally:
        await store.close()


def record_without_server(settings: Settings, path: Path, why: str) -> tuple[bool, str]:
    """Record the seed file `path` (in the configured seeds folder) in the store with a new
    index version, no server being there to do it: (recorded, the note to print)."""
    from handlers.reload import PUBLISH_OPTION

    try:
        result = asyncio.run(_in_process(settings, "reload", options={PUBLISH_OPTION: path.name},
                                         old_index=False))
    except Exception as exc:  # the store cannot be opened, the seeds cannot be synced
        result = UserError(message=f"{type(exc).__name__}: {exc}")
    if isinstance(result, Notice):
        return True, (f"No briefbot server asked to reload ({why}): the article is recorded in "
                      f"the store as index version {result.data.get('version')}; running "
                      f"replicas take it within seconds, a server here at its next start.")
    message = result.message if isinstance(result, UserError) else render_text(result)
    return False, (f"No briefbot server asked to reload ({why}), and the article could not be "
                   f"recorded in the store: {message} The file is in place on this host only; "
                   f"run `briefbot add` again once the store is back.")


def _target(target: str, seeds_dir: Path) -> str:
    """A URL as given; a file as its name, refused unless it is in the seeds folder."""
    if target.lower().startswith(("http://", "https://")) or "/" not in target:
        return target
    path = Path(target).expanduser().resolve()
    if path.parent != seeds_dir.resolve():
        raise ValueError(f"{target} is not in the seeds folder {seeds_dir}.")
    return path.name


def run_remove(target: str, *, seeds: str | None = None, as_json: bool = False) -> int:
    """`briefbot remove URL|FILE`: 0 removed, 1 refused or failed (nothing changed)."""
    import json

    settings = load_settings(**({"seeds_dir": Path(seeds)} if seeds else {}))
    try:
        result: Result = asyncio.run(_in_process(
            settings, "remove", _target(target, settings.seeds_dir), old_index=True))
    except ValueError as exc:
        result = UserError(message=str(exc))
    except Exception as exc:  # the store cannot be opened, the folder cannot be synced
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        result = UserError(message=f"Nothing was removed: {message}")
    ok = isinstance(result, Notice) and result.title.startswith("Article removed")
    if as_json:
        data = result.data if isinstance(result, Notice) else {}
        print(json.dumps({"ok": ok, "path": data.get("path"), "url": data.get("url"),
                          "title": data.get("title"), "version": data.get("version"),
                          "text": render_text(result),
                          **({} if ok else {"error": getattr(result, "message", None)})},
                         ensure_ascii=False), flush=True)
    elif ok:
        print(printable(render_text(result)))
    else:
        print(printable(f"briefbot remove: {render_text(result)}"), file=sys.stderr)
    return 0 if ok else 1
