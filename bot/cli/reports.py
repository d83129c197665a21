"""`briefbot gaps` and `briefbot feeds`: reports read from the store, no server needed."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import add_seeds_option, print_text, run, settings_for, to_json
from bot.models import Notice
from bot.render.text import render_text
from bot.settings import load_settings


def cmd_gaps(args: argparse.Namespace) -> int:
    """The /gaps report, read straight from the store (no server needed)."""
    from bot.store import open_store_url
    from handlers.feedback import GAPS_SHOWN, gaps_notice

    async def report() -> Notice:
        store = await open_store_url(load_settings().resolved_database_url)
        try:
            return gaps_notice(await store.gaps(limit=args.limit or GAPS_SHOWN))
        finally:
            await store.close()

    print_text(render_text(run(report())))
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    """The feeds of seeds/feeds.yaml with their last poll and item counts, from the store."""
    from bot.ingest.feeds import feeds_path, load_feeds
    from bot.store import open_store_url

    settings = settings_for(args)
    specs = load_feeds(settings.seeds_dir)  # a broken file: one line naming the field, exit 1
    if not specs:
        print_text(f"No feeds: {feeds_path(settings.seeds_dir)} does not exist or lists none.")
        return 0

    async def read() -> tuple[Any, Any]:
        store = await open_store_url(settings.resolved_database_url)
        try:
            return await store.feed_states(), await store.feed_item_counts()
        finally:
            await store.close()

    states, counts = run(read())
    rows = []
    for spec in specs:
        state, count = states.get(spec.url), counts.get(spec.url, {})
        polled = (state.polled_at.strftime("%Y-%m-%d %H:%M UTC")
                  if state is not None and state.polled_at else None)
        rows.append({"name": spec.title, "url": spec.url, "keywords": spec.keywords,
                     "last_poll": state.polled_at.isoformat() if polled else None,
                     "last_status": state.status if state else None,
                     "last_error": state.error if state else None,
                     "added": count.get("added", 0), "failed": count.get("failed", 0),
                     "in_progress": count.get("claimed", 0), "_polled": polled})
    if args.json:
        print(to_json([{k: v for k, v in row.items() if not k.startswith("_")}
                       for row in rows], indent=2))
        return 0
    lines = []
    for row in rows:
        status = {"200": "new items read", "304": "not modified", "error": "failed"}.get(
            row["last_status"] or "", row["last_status"] or "")
        last = f"last poll {row['_polled']} ({status})" if row["_polled"] else "never polled"
        keywords = f" — keywords: {', '.join(row['keywords'])}" if row["keywords"] else ""
        lines.append(f"{row['name']} <{row['url']}>{keywords}\n  {last}; items added "
                     f"{row['added']}, failed {row['failed']}"
                     + (f", in progress {row['in_progress']}" if row["in_progress"] else "")
                     + (f"\n  last error: {row['last_error']}" if row["last_error"] else ""))
    print_text("\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """gaps, feeds."""
    p = sub.add_parser("gaps", help="questions abstained on or voted down (from the store)")
    p.add_argument("--limit", type=int, default=0, help="how many groups (default 20)")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("feeds", help="the feeds of seeds/feeds.yaml: last poll, items added")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    add_seeds_option(p)
    p.set_defaults(func=cmd_feeds)
