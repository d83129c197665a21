"""`briefbot add URL`: an article fetched from the web, written to the seeds."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import add_seeds_option, print_text, run, settings_for, to_json
from bot.cli.reload import NoServer, post_local_reload
from bot.settings import load_settings


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
            status, body = post_local_reload(settings, args.timeout)
        except NoServer as exc:
            reload_note = (f"No briefbot server asked to reload ({exc}): the file is in place "
                           f"and will be picked up by the next reload or start.")
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


def register(sub: argparse._SubParsersAction) -> None:
    """add."""
    p = sub.add_parser("add", help="fetch a news page and add its article to the seeds")
    p.add_argument("url", help="the page's http(s) URL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for a running server's reload report")
    add_seeds_option(p)
    p.set_defaults(func=cmd_add)
