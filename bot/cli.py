"""The `briefbot` command line. Goes through the same handlers as the chat adapters.

Platform libraries are imported only by `serve` and `discord-sync`, so `briefbot ask`
never loads slack or discord.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

from bot.engine.markup import clean_question, printable
from bot.errors import UserFacingError
from bot.models import Answer, Briefing, Notice, Result, UserError
from bot.render.text import render_text
from bot.settings import Settings, SettingsError, load_settings


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


def _print_text(text: str, **kwargs: Any) -> None:
    """Human-readable output: questions and seeds may hold escapes; the terminal gets none."""
    print(printable(text), **kwargs)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "seeds", None):
        overrides["seeds_dir"] = Path(args.seeds)
    return load_settings(**overrides)


def _context(settings: Settings):
    from bot.context import AppContext
    from bot.engine.holder import IndexHolder
    from bot.engine.index import build_index

    index = build_index(settings.seeds_dir)
    return AppContext(settings=settings, index=IndexHolder(index, version=1))


def _run(coro):
    return asyncio.run(coro)


def cmd_ask(args: argparse.Namespace) -> int:
    from handlers import CommandRequest, dispatch

    ctx = _context(_settings(args))

    def one(question: str) -> Result:
        # The handler and the engine clean too; cleaning is idempotent, and doing it here
        # means nothing the shell passed (ANSI escapes, controls) reaches the output.
        request = CommandRequest(command="ask", text=clean_question(question), platform="cli")
        return _run(dispatch(request, ctx))

    if args.question == "-":
        for line in sys.stdin:
            result = one(line.rstrip("\n"))
            if args.json:
                print(to_json(result_to_json(result)), flush=True)
            else:
                _print_text(render_text(result) + "\n", flush=True)
        return 0
    result = one(args.question)
    if args.json:
        print(to_json(result_to_json(result)), flush=True)
    else:
        _print_text(render_text(result))
    return 2 if isinstance(result, UserError) else 0


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation on the terminal: one message a line, read in the context of the ones
    before ("what did he say?", "why?", "tell me more"), as in a Slack thread or a DM."""
    from bot.ids import new_id
    from handlers.conversation import MessageRequest
    from handlers.registry import converse

    ctx = _context(_settings(args))
    conversation = f"cli:{new_id()}"
    interactive = sys.stdin.isatty() and not args.json

    async def session() -> None:
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            request = MessageRequest(text=clean_question(line.rstrip("\n")), platform="cli",
                                     conversation=conversation, message_key=f"cli:{new_id()}")
            result = await converse(request, ctx)
            if result is None:
                continue
            if args.json:
                print(to_json(result_to_json(result)), flush=True)
            else:
                _print_text(render_text(result) + "\n", flush=True)

    _run(session())
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    ctx = _context(_settings(args))
    index = ctx.index.current
    if args.json:
        print(to_json(index.summary(), indent=2))
    else:
        _print_text(index.describe())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import run_eval

    ctx = _context(_settings(args))
    report = run_eval(Path(args.file), ctx, verbose=args.verbose)
    _print_text(report.render())
    return 0 if report.all_passed or not args.strict else 1


def cmd_brief(args: argparse.Namespace) -> int:
    from handlers import CommandRequest, dispatch

    ctx = _context(_settings(args))
    result = _run(dispatch(CommandRequest(command="brief", text="", platform="cli"), ctx))
    if args.json:
        print(to_json(result_to_json(result)))
    else:
        _print_text(render_text(result))
    return 2 if isinstance(result, UserError) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot import adapters
    from bot.serve import serve

    settings = _settings(args)
    asked = [*(["slack"] if args.slack else []), *(["discord"] if args.discord else []),
             *(args.platform or [])]
    if args.auto or not asked:  # the container's CMD: serve whatever the settings turn on
        on = adapters.configured(settings)
        if args.auto and not (asked or on):
            raise SettingsError(
                "serve --auto: neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is set; set one or both"
            )
        if args.auto or settings.platforms:
            asked += on
    return serve(settings, list(dict.fromkeys(asked)))


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    overrides = {"seeds_dir": Path(args.seeds)} if args.seeds else {}
    return _run(run_doctor(overrides))


def cmd_discord_sync(args: argparse.Namespace) -> int:
    from bot.adapters.discord import sync_commands_cli

    return sync_commands_cli(_settings(args), guild_id=args.guild)


class _NoServer(Exception):
    """No local server to ask: `str(exc)` says why, `hint` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _post_local_reload(settings: Settings, timeout: float) -> tuple[int, dict[str, Any]]:
    """POST /admin/reload to the server on this host with its admin token: (status, body).
    Raises _NoServer (token missing, unreadable, or nobody answering)."""
    import urllib.error
    import urllib.request

    from bot.admin import RELOAD_PATH, token_path

    path = token_path(settings)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise _NoServer(f"no admin token at {path}: no briefbot server is running with this "
                        f"BRIEFBOT_DATA_DIR", "start one with `briefbot serve` (it reads the "
                        "seeds at start), or set BRIEFBOT_DATA_DIR to the server's.") from None
    except OSError as exc:
        raise _NoServer(f"cannot read the admin token {path} ({exc.strerror})",
                        "run this as the user that runs the server.") from None
    url = f"http://127.0.0.1:{settings.port}{RELOAD_PATH}"
    request = urllib.request.Request(url, method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _NoServer(f"no briefbot server answers on 127.0.0.1:{settings.port} "
                        f"({reason})", "start one with `briefbot serve` (it reads the seeds "
                        "at start).") from None


def cmd_reload(args: argparse.Namespace) -> int:
    """Ask the server running on this host to reload (POST /admin/reload on its port, with
    the admin token it wrote to BRIEFBOT_DATA_DIR/admin.token)."""
    try:
        status, body = _post_local_reload(load_settings(), args.timeout)
    except _NoServer as exc:
        print(f"briefbot reload: {exc}; {exc.hint}", file=sys.stderr)
        return 1
    _print_text(body.get("text") or f"HTTP {status}")
    return 0 if status == 200 else 1


def cmd_add(args: argparse.Namespace) -> int:
    """Fetch a news page, write its article to the seeds folder, and reload a local server."""
    from bot.ingest.add import add_url, people_in
    from bot.ingest.fetch import FetchRefused

    settings = _settings(args)
    seeds_dir = settings.seeds_dir
    try:
        added = _run(add_url(args.url, seeds_dir, allow_hosts=settings.fetch_allow_hosts,
                             inspect=people_in))
    except FetchRefused as exc:
        if args.json:
            print(to_json({"ok": False, "error": exc.message, "url": args.url}), flush=True)
        _print_text(f"briefbot add: {exc.message}", file=sys.stderr)
        return 1
    article, people = added.article, list(added.inspected or [])
    reload: dict[str, Any] | None = None
    served = load_settings().seeds_dir  # the folder a server on this host reads
    if seeds_dir.resolve() != served.resolve():
        reload_note = (f"{seeds_dir} is not the server's seeds folder ({served}), so no "
                       f"server was asked to reload.")
    else:
        try:
            status, body = _post_local_reload(settings, args.timeout)
        except _NoServer as exc:
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
        _print_text(f"{verb} {article.title!r} ({when}{by}) as {added.path}\n"
                    f"{len(article.paragraphs)} paragraphs, {article.words} words; people "
                    f"found: {', '.join(people[:12]) or 'none'}"
                    f"{' …' if len(people) > 12 else ''}\n{reload_note}")
    return 1 if reload is not None and not reload["ok"] else 0


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

    _print_text(render_text(_run(report())))
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    """The feeds of seeds/feeds.yaml with their last poll and item counts, from the store."""
    from bot.ingest.feeds import feeds_path, load_feeds
    from bot.store import open_store_url

    settings = _settings(args)
    specs = load_feeds(settings.seeds_dir)  # a broken file: one line naming the field, exit 1
    if not specs:
        _print_text(f"No feeds: {feeds_path(settings.seeds_dir)} does not exist or lists none.")
        return 0

    async def read() -> tuple[Any, Any]:
        store = await open_store_url(settings.resolved_database_url)
        try:
            return await store.feed_states(), await store.feed_item_counts()
        finally:
            await store.close()

    states, counts = _run(read())
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
    _print_text("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def seeds(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seeds", metavar="DIR",
                       help="folder of articles (default: BRIEFBOT_SEEDS_DIR or ./seeds)")

    p = sub.add_parser("ask", help="answer a question from the seeds")
    p.add_argument("question", help='the question, or "-" to read one question a line from stdin')
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    seeds(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation from stdin: follow-ups read in context")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    seeds(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("index", help="show what was extracted from the seeds (for curators)")
    p.add_argument("--json", action="store_true")
    seeds(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("eval", help="score a question file (dev_questions.json format)")
    p.add_argument("file")
    p.add_argument("--verbose", "-v", action="store_true", help="show every answer")
    p.add_argument("--strict", action="store_true", help="exit 1 unless every question passes")
    seeds(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("brief", help="print today's briefing")
    p.add_argument("--json", action="store_true")
    seeds(p)
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("serve", help="answer in Slack and/or Discord")
    p.add_argument("--slack", action="store_true", help="serve Slack (SLACK_BOT_TOKEN ...)")
    p.add_argument("--discord", action="store_true", help="serve Discord (DISCORD_TOKEN)")
    p.add_argument("--platform", action="append", metavar="NAME",
                   help="serve a platform by its registry name (repeatable)")
    p.add_argument("--auto", action="store_true",
                   help="serve every platform whose token is set (what the container runs)")
    seeds(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("doctor", help="check settings, seeds, store and platform tokens")
    seeds(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("reload", help="make the server running on this host re-read the seeds")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the report")
    p.set_defaults(func=cmd_reload)

    p = sub.add_parser("add", help="fetch a news page and add its article to the seeds")
    p.add_argument("url", help="the page's http(s) URL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for a running server's reload report")
    seeds(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("gaps", help="questions abstained on or voted down (from the store)")
    p.add_argument("--limit", type=int, default=0, help="how many groups (default 20)")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("feeds", help="the feeds of seeds/feeds.yaml: last poll, items added")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    seeds(p)
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("discord-sync", help="register the slash commands with Discord")
    p.add_argument("--guild", metavar="ID", help="sync to one guild (instant) instead of globally")
    p.set_defaults(func=cmd_discord_sync)
    return parser


EXTRA_COMMANDS: list[Any] = []


def main(argv: list[str] | None = None) -> int:
    from bot.observability import setup_logging

    setup_logging(default_level="WARNING")  # `serve` raises it to BRIEFBOT_LOG_LEVEL
    parser = build_parser()
    for add in EXTRA_COMMANDS:
        add(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        _print_text(f"briefbot: {exc}", file=sys.stderr)
        return 2
    except UserFacingError as exc:
        _print_text(f"briefbot: {exc.message}" + (f"\n{exc.hint}" if exc.hint else ""),
                    file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
