"""Feeds (issue 14): an RSS and an Atom feed and their article pages served over real sockets
by a local aiohttp server on 127.0.0.1 (BRIEFBOT_FETCH_ALLOW_HOSTS=127.0.0.1), polled with an
injected clock: new items are added once, a 304 adds nothing, a restart adds nothing twice,
two pollers on one store (SQLite, then PostgreSQL) add each item once; keywords; a broken
feeds.yaml names the field; `briefbot feeds`; the daily briefing lists the new articles."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import serve_until
from bot.cli import main
from bot.context import AppContext
from bot.engine.documents import seed_files
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.errors import SeedError
from bot.feed_poller import FeedPoller, start_feeds, stop_feeds
from bot.ingest.feeds import item_key, load_feeds, parse_items
from bot.ingest.fetch import decode_body
from bot.scheduler import known_by
from bot.settings import Settings
from bot.store import Store, open_store_url
from tests.clock import FakeClock
from tests.pg import free_port
from tests.test_add_url import PARAGRAPHS, article_html

T0 = datetime(2025, 3, 4, 7, 0, tzinfo=UTC)
WAIT_S = 30

TITLES = {
    "bridge": "Riverton approves the harbour bridge",
    "ferry": "Ferry workers strike over pay in Riverton",
    "library": "The old library reopens its doors",
    "tram": "Trams return to the harbour district",
    "bridge-vote": "Council publishes the bridge vote record",
}


def rss(base: str, slugs: list[str], *, with_guid: bool = True) -> str:
    items = []
    for slug in slugs:
        guid = f"<guid isPermaLink=\"false\">rss-{slug}</guid>" if with_guid else ""
        items.append(f"<item><title>{TITLES.get(slug, slug)}</title>"
                     f"<link>{base}/a/{slug}</link>{guid}"
                     f"<description>News about the {slug}.</description>"
                     f"</item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Riverton Post</title><link>{base}/</link>"
            f"<description>News</description>{''.join(items)}</channel></rss>")


def atom(base: str, slugs: list[str]) -> str:
    entries = "".join(
        f"<entry><title>{TITLES[s]}</title><link href=\"{base}/a/{s}\"/>"
        f"<id>tag:riverton.test,2025:{s}</id><updated>2025-03-04T06:00:00Z</updated>"
        f"<summary>About the {s}.</summary></entry>" for s in slugs)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Riverton Post (Atom)</title><id>tag:riverton.test,2025:feed</id>"
            f"<updated>2025-03-04T06:00:00Z</updated>{entries}</feed>")


class Site:
    """The feeds and pages, with every request recorded (path, conditional headers)."""

    def __init__(self) -> None:
        self.rss_slugs = ["bridge", "ferry", "bridge"]  # the same guid twice
        self.rss_guid = True
        self.atom_slugs = ["library"]
        self.rss_etag = '"rss-1"'
        self.atom_modified = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)
        self.requests: list[tuple[str, str | None, str | None]] = []
        self.base = ""
        app = web.Application()
        app.router.add_get("/rss.xml", self.rss)
        app.router.add_get("/atom.xml", self.atom)
        app.router.add_get("/page.html", self.not_a_feed)
        app.router.add_get("/a/{slug}", self.article)
        self.app = app

    def _seen(self, request: web.Request) -> None:
        self.requests.append((request.path, request.headers.get("If-None-Match"),
                              request.headers.get("If-Modified-Since")))

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    async def rss(self, request: web.Request) -> web.Response:
        self._seen(request)
        if request.headers.get("If-None-Match") == self.rss_etag:
            return web.Response(status=304, headers={"ETag": self.rss_etag})
        return web.Response(text=rss(self.base, self.rss_slugs, with_guid=self.rss_guid),
                            content_type="application/rss+xml",
                            headers={"ETag": self.rss_etag})

    async def atom(self, request: web.Request) -> web.Response:
        self._seen(request)
        modified = format_datetime(self.atom_modified, usegmt=True)
        if request.headers.get("If-Modified-Since") == modified:
            return web.Response(status=304)
        return web.Response(text=atom(self.base, self.atom_slugs),
                            content_type="application/atom+xml",
                            headers={"Last-Modified": modified})

    async def not_a_feed(self, request: web.Request) -> web.Response:
        self._seen(request)
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")

    async def article(self, request: web.Request) -> web.Response:
        self._seen(request)
        slug = request.match_info["slug"]
        if slug not in TITLES:
            raise web.HTTPNotFound()
        first = f"This report on the {slug} was filed by the Riverton Post newsroom today."
        return web.Response(text=article_html(TITLES[slug], paragraphs=[first, *PARAGRAPHS]),
                            content_type="text/html")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    pages = Site()
    server = TestServer(pages.app, host="127.0.0.1")
    await server.start_server()
    pages.base = str(server.make_url("")).rstrip("/")
    try:
        yield pages
    finally:
        await server.close()


def write_feeds(seeds: Path, site: Site, *, keywords: list[str] | None = None) -> None:
    kw = f"\n    keywords: {json.dumps(keywords)}" if keywords else ""
    (seeds / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.base}/rss.xml\n    name: Riverton RSS{kw}\n"
        f"  - url: {site.base}/atom.xml\n", encoding="utf-8")


def context(seeds: Path, data: Path, store: Store) -> AppContext:
    settings = Settings(seeds_dir=seeds, data_dir=data, fetch_allow_hosts=["127.0.0.1"],
                        _env_file=None)
    return AppContext(settings=settings, index=IndexHolder(build_index(seeds), version=0),
                      store=store)


def article_hits(site: Site) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path, _, _ in site.requests:
        if path.startswith("/a/"):
            counts[path[3:]] = counts.get(path[3:], 0) + 1
    return counts


def new_files(seeds: Path) -> list[str]:
    return sorted(p.name for p in seed_files(seeds) if p.suffix == ".md")


async def tick(poller: FeedPoller):
    return await asyncio.wait_for(poller.tick(), WAIT_S)


async def test_new_items_are_added_once_then_304_adds_nothing(
        site: Site, seeds: Path, tmp_path: Path, store: Store) -> None:
    write_feeds(seeds, site)
    ctx = context(seeds, tmp_path, store)
    clock = FakeClock(T0)
    poller = FeedPoller(ctx, clock=clock)
    before = known_by(ctx.index.current)

    report = await tick(poller)
    assert sorted(report.added) == sorted(new_files(seeds))
    assert len(new_files(seeds)) == 3  # bridge (listed twice), ferry, library
    assert article_hits(site) == {"bridge": 1, "ferry": 1, "library": 1}
    assert report.reloaded and ctx.index.version == 1  # one reload for the poll
    for name in report.added:  # recorded with that version, for every replica (issue 19)
        row = await store.articles.find(name=name)
        assert row is not None and (row.added_by, row.index_version) == ("feeds", 1)
    titles = {d.title for d in ctx.index.current.documents}
    assert {TITLES["bridge"], TITLES["ferry"], TITLES["library"]} <= titles

    # the daily briefing's "new since" part lists them (they are ordinary seed files)
    briefing = ctx.index.current.briefing(since=T0, known_docs=set(before.docs),
                                          known_people=set(before.people))
    [news] = [s for s in briefing.sections if s.heading.startswith("New since")]
    assert any(TITLES["ferry"] in line and TITLES["library"] in line for line in news.lines)

    # not due yet: nothing is fetched
    clock.advance(minutes=29)
    report = await tick(poller)
    assert [r.status for r in report.feeds] == ["skipped", "skipped"]
    assert site.hits("/rss.xml") == 1

    # due: both answer 304 to the validators of the first poll, nothing is added
    clock.advance(minutes=2)
    report = await tick(poller)
    assert [r.status for r in report.feeds] == ["304", "304"]
    assert not report.added and not report.reloaded and ctx.index.version == 1
    assert site.requests[-2][1] == '"rss-1"'  # If-None-Match
    assert site.requests[-1][2] is not None  # If-Modified-Since
    assert len(new_files(seeds)) == 3

    # a new Atom entry (and a new Last-Modified): only it is fetched and added
    site.atom_slugs = ["tram", "library"]
    site.atom_modified = datetime(2025, 3, 4, 7, 40, tzinfo=UTC)
    clock.advance(minutes=31)
    report = await tick(poller)
    assert [r.status for r in report.feeds] == ["304", "200"]
    assert len(report.added) == 1 and len(new_files(seeds)) == 4
    assert article_hits(site) == {"bridge": 1, "ferry": 1, "library": 1, "tram": 1}
    assert ctx.index.version == 2

    counts = await store.feed_item_counts()
    assert counts == {f"{site.base}/rss.xml": {"added": 2},
                      f"{site.base}/atom.xml": {"added": 2}}


async def test_a_restart_adds_nothing_twice(site: Site, seeds: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}"
    write_feeds(seeds, site)
    site.rss_guid = False  # keyed by the item's link
    clock = FakeClock(T0)
    store = await open_store_url(url)
    try:
        await tick(FeedPoller(context(seeds, tmp_path, store), clock=clock))
    finally:
        await store.close()
    assert len(new_files(seeds)) == 3
    # the server forgets its validators: the restarted poller reads the same items again
    site.rss_etag = '"rss-2"'
    site.atom_modified = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    clock.advance(minutes=30)
    store = await open_store_url(url)
    try:
        report = await tick(FeedPoller(context(seeds, tmp_path, store), clock=clock))
    finally:
        await store.close()
    assert [r.status for r in report.feeds] == ["200", "200"]
    assert [r.matching for r in report.feeds] == [3, 1]
    assert not report.added and not report.reloaded
    assert article_hits(site) == {"bridge": 1, "ferry": 1, "library": 1}
    assert len(new_files(seeds)) == 3


async def test_two_pollers_on_one_store_add_each_item_once(
        site: Site, seeds: Path, tmp_path: Path, store_url: str) -> None:
    write_feeds(seeds, site)
    site.rss_slugs = ["bridge", "ferry", "tram"]
    site.atom_slugs = ["library", "bridge-vote"]
    stores = [await open_store_url(store_url) for _ in range(2)]
    try:
        contexts = [context(seeds, tmp_path / f"r{i}", s) for i, s in enumerate(stores)]
        pollers = [FeedPoller(c, clock=FakeClock(T0)) for c in contexts]
        reports = await asyncio.wait_for(asyncio.gather(*(p.tick() for p in pollers)), WAIT_S)
        added = [path for report in reports for path in report.added]
        assert sorted(added) == new_files(seeds) and len(added) == 5
        assert article_hits(site) == {s: 1 for s in TITLES}
        counts = await stores[0].feed_item_counts()
        assert sum(n for c in counts.values() for n in c.values()) == 5
        assert all(set(c) == {"added"} for c in counts.values())
        # whichever replica added an item reloaded; the store's version moved for the others
        assert await stores[0].get_index_version() >= 1
    finally:
        for s in stores:
            await s.close()


async def test_keywords_keep_matching_items_only(
        site: Site, seeds: Path, tmp_path: Path, store: Store) -> None:
    write_feeds(seeds, site, keywords=["Bridge", "library"])
    site.rss_slugs = ["bridge", "ferry", "bridge-vote"]
    site.atom_slugs = ["tram"]  # the Atom feed has no keywords: everything
    report = await tick(FeedPoller(context(seeds, tmp_path, store), clock=FakeClock(T0)))
    assert [(r.items, r.matching) for r in report.feeds] == [(3, 2), (1, 1)]
    assert article_hits(site) == {"bridge": 1, "bridge-vote": 1, "tram": 1}
    assert len(report.added) == 3


async def test_a_failed_item_and_a_feed_that_is_not_a_feed(
        site: Site, seeds: Path, tmp_path: Path, store: Store) -> None:
    (seeds / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.base}/page.html\n  - url: {site.base}/rss.xml\n",
        encoding="utf-8")
    site.rss_slugs = ["ferry", "gone"]  # "gone" is a 404: remembered as failed
    report = await tick(FeedPoller(context(seeds, tmp_path, store), clock=FakeClock(T0)))
    [pdf, feed] = report.feeds
    assert pdf.status == "error" and "application/pdf" in (pdf.error or "")
    assert "RSS, Atom or XML feeds" in (pdf.error or "")
    assert feed.status == "200" and len(feed.added) == 1
    assert feed.failed == [f"{site.base}/a/gone"]
    assert await store.feed_item_counts() == {f"{site.base}/rss.xml": {"added": 1,
                                                                       "failed": 1}}
    states = await store.feed_states()
    assert states[f"{site.base}/page.html"].status == "error"
    assert states[f"{site.base}/rss.xml"].etag == '"rss-1"'


def test_parse_items_keys_by_guid_else_link() -> None:
    base = "http://127.0.0.1:1"
    [a, _] = parse_items(rss(base, ["bridge", "ferry"]), f"{base}/rss.xml")
    assert (a.key, a.url, a.title) == ("guid:rss-bridge", f"{base}/a/bridge", TITLES["bridge"])
    [c] = parse_items(rss(base, ["ferry"], with_guid=False), f"{base}/rss.xml")
    assert c.key == f"url:{base}/a/ferry"
    [d] = parse_items(atom(base, ["tram"]), f"{base}/atom.xml")
    assert d.key == "guid:tag:riverton.test,2025:tram" and d.url == f"{base}/a/tram"
    assert item_key("guid:" + "x" * 600).startswith("guid:sha256:")
    assert len(item_key("guid:" + "x" * 600)) < 100
    # a Latin-1 feed, decoded by the fetch (its XML declaration), relative link
    raw = ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
           "<title>x</title><item><title>Zürich baut eine Brücke</title><link>/a/z</link>"
           "</item></channel></rss>").encode("latin-1")
    text, _ = decode_body(raw, None)
    [e] = parse_items(text, f"{base}/feed.xml")
    assert (e.title, e.url, e.key) == ("Zürich baut eine Brücke", f"{base}/a/z",
                                       f"url:{base}/a/z")


@pytest.mark.parametrize(("text", "field"), [
    ("feeds:\n  - url: ftp://example.com/rss\n", "feeds.0.url"),
    ("feeds:\n  - url: https://example.com/rss\n    keyword: [x]\n", "feeds.0.keyword"),
    ("feeds:\n  - url: https://example.com/rss\n    keywords: bridge\n", "feeds.0.keywords"),
    ("feeds:\n  - url: https://example.com/a\n  - url: https://example.com/a/\n", "feeds"),
    ("feed:\n  - url: https://example.com/rss\n", "feed"),
])
def test_a_broken_feeds_file_names_the_field(seeds: Path, text: str, field: str) -> None:
    (seeds / "feeds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SeedError) as caught:
        load_feeds(seeds)
    assert caught.value.message.startswith(f"feeds.yaml: field `{field}`:")


async def test_a_broken_feeds_file_polls_nothing(
        site: Site, seeds: Path, tmp_path: Path, store: Store) -> None:
    (seeds / "feeds.yaml").write_text("feeds: [{url: 'nope'}]\n", encoding="utf-8")
    report = await tick(FeedPoller(context(seeds, tmp_path, store), clock=FakeClock(T0)))
    assert report.error is not None and "feeds.0.url" in report.error
    assert site.requests == []


async def test_briefbot_feeds_lists_last_poll_and_counts(
        site: Site, seeds: Path, tmp_path: Path, store: Store,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_feeds(seeds, site)
    await tick(FeedPoller(context(seeds, tmp_path, store), clock=FakeClock(T0)))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}")
    monkeypatch.chdir(tmp_path)  # no .env
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["feeds", "--seeds", str(seeds)]) == 0
    out = capsys.readouterr().out
    assert f"Riverton RSS <{site.base}/rss.xml>" in out
    assert "last poll 2025-03-04 07:00 UTC (new items read); items added 2, failed 0" in out
    assert "items added 1, failed 0" in out
    assert await asyncio.to_thread(main, ["feeds", "--seeds", str(seeds), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["added"], r["last_status"]) for r in rows] == [
        ("Riverton RSS", 2, "200"), ("127.0.0.1", 1, "200")]
    (seeds / "feeds.yaml").unlink()
    assert await asyncio.to_thread(main, ["feeds", "--seeds", str(seeds)]) == 0
    assert "No feeds" in capsys.readouterr().out


async def test_the_poller_starts_only_with_a_feeds_file(
        seeds: Path, tmp_path: Path, store: Store) -> None:
    ctx = context(seeds, tmp_path, store)
    assert start_feeds(ctx) is None  # no feeds.yaml
    (seeds / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    poller = start_feeds(ctx)
    assert poller is not None and ctx.background.feed_poller is poller
    await asyncio.wait_for(stop_feeds(ctx), WAIT_S)
    assert ctx.background.feed_poller is None and poller._task is None


async def test_a_running_server_polls_its_feeds(
        site: Site, seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve_until` (the server's wiring) starts the poller, which adds and reloads, and
    stops it at shutdown."""
    write_feeds(seeds, site)
    polled = asyncio.Event()
    real_tick = FeedPoller.tick

    async def tick_and_tell(self: FeedPoller, now: datetime | None = None):
        report = await real_tick(self, now)
        polled.set()
        return report

    monkeypatch.setattr(FeedPoller, "tick", tick_and_tell)
    settings = Settings(seeds_dir=seeds, data_dir=tmp_path, fetch_allow_hosts=["127.0.0.1"],
                        host="127.0.0.1", port=free_port(), _env_file=None)
    store = await open_store_url(settings.resolved_database_url)
    ctx = AppContext(settings=settings, index=IndexHolder(build_index(seeds), version=0),
                     store=store)
    stop = asyncio.Event()
    server = asyncio.create_task(serve_until(ctx, [], stop))
    try:
        await asyncio.wait_for(polled.wait(), WAIT_S)
        assert ctx.index.version == 1 and len(new_files(seeds)) == 3
        assert ctx.background.feed_poller is not None
    finally:
        stop.set()
        await asyncio.wait_for(server, WAIT_S)
    assert ctx.background.feed_poller is None
