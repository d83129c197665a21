"""`briefbot add URL` and `briefbot remove URL|FILE`: articles in the seeds, on every replica.

- `briefbot add` fetches a page, writes its article to the seeds folder and asks the server
  on this host to reload and record the file it wrote (the body of its POST /admin/reload,
  `publish_request`); with no server running, `record_without_server` records it in the
  store itself (build, then the article and a new index version in one transaction), so
  every replica still gets it (issue 19).
- `briefbot remove` (`run_remove`) runs the `remove` handler in this process on the store
  and the seeds folder: the file is deleted, the index rebuilt, the removal recorded with
  the new version; every replica (a server on this host too) follows within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import add_seeds_option, print_text, run, settings_for, to_json
from bot.cli.reload import NoServer, post_local_reload
from bot.models import Notice, Result, UserError
from bot.render.text import render_text
from bot.settings import Settings, load_settings

_USER = re.compile(r"[\w.@-]{1,64}")


def cmd_add(args: argparse.Namespace) -> int:
    """Fetch a news page, write its article to the seeds folder, and reload a local server."""
    from bot.ingest.add import add_url, people_in
    from bot.ingest.fetch import FetchRefused

    settings = settings_for(args)
    seeds_dir = settings.seeds_dir
    try:
        added = run(add_url(args.url, seeds_dir, allow_hosts=settings.fetch_allow_hosts,
                             inspect=people_in))
    except FetchRefused as exc:
        if args.json:
            print(to_json({"ok": False, "error": exc.message, "url": args.url}), flush=True)
        print_text(f"briefbot add: {exc.message}", file=sys.stderr)
        return 1
    article, people = added.article, list(added.inspected or [])
    reload: dict[str, Any] | None = None
    served = load_settings().seeds_dir  # the folder a server on this host reads
    if seeds_dir.resolve() != served.resolve():
        reload_note = (f"{seeds_dir} is not the server's seeds folder ({served}), so no "
                       f"server was asked to reload.")
    else:
        try:
            status, body = post_local_reload(settings, args.timeout,
                                             publish_request(added.path))
        except NoServer as exc:  # the store still gets it, for every replica
            recorded, reload_note = record_without_server(settings, added.path, str(exc))
            if not recorded:
                reload = {"ok": False, "status": 0, "text": reload_note}
        else:
            reload = {"ok": status == 200, "status": status,
                      "text": body.get("text") or f"HTTP {status}"}
            reload_note = ("Reload: " if status == 200 else "Reload failed: ") + reload["text"]
    if args.json:
        print(to_json({
            "ok": True, "path": str(added.path), "updated": added.updated,
            "title": article.title, "url": added.url, "source": added.source,
            "date": article.date, "author": ", ".join(article.authors) or None,
            "authors": article.authors, "site": article.site,
            "paragraphs": len(article.paragraphs), "words": article.words, "people": people,
            "reload": reload, "note": None if reload else reload_note,
            "seconds": {"fetch": round(added.fetch_s, 3),
                        "extract": round(added.extract_s, 3)},
        }), flush=True)
    else:
        when = article.date or "no date"
        by = f", by {', '.join(article.authors)}" if article.authors else ""
        verb = "Updated" if added.updated else "Added"
        print_text(f"{verb} {article.title!r} ({when}{by}) as {added.path}\n"
                    f"{len(article.paragraphs)} paragraphs, {article.words} words; people "
                    f"found: {', '.join(people[:12]) or 'none'}"
                    f"{' …' if len(people) > 12 else ''}\n{reload_note}")
    return 1 if reload is not None and not reload["ok"] else 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Remove an article from the seeds, on every replica."""
    return run_remove(args.target, seeds=args.seeds, as_json=args.json)


# -- the article changes, as the command line makes them (issue 19) -----------------------


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
    from bot.context import AppContext
    from bot.engine.holder import IndexHolder
    from bot.engine.index import build_index
    from bot.store import open_store_url
    from handlers.registry import dispatch
    from handlers.requests import CommandRequest

    store = await open_store_url(settings.resolved_database_url)
    try:
        ctx = AppContext(settings=settings, index=IndexHolder(), store=store)
        if old_index:  # the folder as the store has it, for a report of what changed
            await ctx.seed_mirror.sync(store.articles)
            version = await store.get_index_version()
            index = await asyncio.to_thread(build_index, settings.seeds_dir,
                                            settings.cache_dir)
            ctx.index.swap(index, version)
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
        print_text(render_text(result))
    else:
        print_text(f"briefbot remove: {render_text(result)}", file=sys.stderr)
    return 0 if ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """add, remove."""
    p = sub.add_parser("add", help="fetch a news page and add its article to the seeds")
    p.add_argument("url", help="the page's http(s) URL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for a running server's reload report")
    add_seeds_option(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="remove an article from the seeds, on every replica")
    p.add_argument("target", metavar="URL|FILE", help="the article's URL or its seed file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_seeds_option(p)
    p.set_defaults(func=cmd_remove)
