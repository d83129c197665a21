"""Issue 19, part 3, end to end: two replicas with separate seeds folders and one store
(PostgreSQL, and the same code on a SQLite file), each a real start-up (`build_context`), the
real slack-bolt app over signed HTTP against the fake Slack, and the real version poller.

An admin's `/add` on replica A (the page served from 127.0.0.1) reaches replica B within 10 s:
B answers a question from the new article and lists it in its App Home, its seeds folder
holding the very file A wrote, next to its own hand-placed files. A replica started with an
empty seeds folder catches up from the store. `/remove` on B takes the article away on A.
A reload on B that raced A's /add catches up afterwards.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.adapters.slack import SlackAdapter
from bot.admin import IndexVersionPoller
from bot.app import build_context
from bot.context import AppContext
from bot.models import Notice
from bot.settings import Settings
from handlers.registry import dispatch
from handlers.requests import CommandRequest
from tests import fake_slack
from tests.fake_slack import FakeSlack, event_callback, form, slash_payload
from tests.logwatch import LogWatch, watching
from tests.test_add_platforms import FILE, NEW_FACT, QUESTION, TITLE, Site
from tests.test_reload import NEW_ARTICLE
from tests.test_slack_events import post_event
from tests.test_slack_http import post, serve_http

ROOT = Path(__file__).resolve().parent.parent
FOLLOW_WITHIN_S = 10.0  # the bound: the other replica answers within it
WAIT_S = 30.0  # a fetch and index builds on a busy machine
HAND_PLACED = "treaty.txt"  # placed by hand on B only: it keeps working there
HAND_QUESTION, HAND_FACT = "who is Jane Roe", "historian at Example University"


@dataclass
class Replica:
    name: str
    ctx: AppContext
    client: TestClient
    adapter: SlackAdapter
    poller: IndexVersionPoller

    @property
    def seeds(self) -> Path:
        return self.ctx.settings.seeds_dir

    async def slow(self, fake: FakeSlack, command: str, text: str, user: str = "UADMIN") -> str:
        """A slash command that acks at once and answers through response_url."""
        key = f"{self.name}-{command}-{len(fake.responses)}"
        body = form(slash_payload(f"/{command}", text, response_url=fake.response_url(key),
                                  user_id=user))
        ack = await post(self.client, body)
        assert ack.status == 200 and "Working on" in await ack.text()
        _, message = await fake.wait_for(
            lambda: next((r for r in fake.responses if r[0] == key), None))
        return json.dumps(message, ensure_ascii=False)

    async def ask(self, fake: FakeSlack, question: str = QUESTION) -> str:
        body = form(slash_payload("/ask", question, response_url=fake.response_url("ask")))
        return json.dumps(await (await post(self.client, body)).json(), ensure_ascii=False)

    async def home(self, fake: FakeSlack, user: str = "U1") -> str:
        before = len(fake.published(user))
        await post_event(self.client, event_callback(
            {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}))
        views = await fake.wait_for(lambda: len(fake.published(user)) > before
                                    and fake.published(user))
        return json.dumps(views[-1], ensure_ascii=False)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
async def site() -> AsyncIterator[str]:
    pages = Site()
    runner = web.AppRunner(pages.app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/news/harbour-bridge"
    finally:
        await asyncio.wait_for(runner.cleanup(), WAIT_S)


@pytest.fixture
async def slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    monkeypatch.setattr(fake_slack, "TIMEOUT", WAIT_S)
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
def watch() -> Iterator[LogWatch]:
    with watching("briefbot.admin") as admin, watching("briefbot.reload"):
        yield admin


class Replicas:
    """Replicas started as `briefbot serve` starts them, each with its own seeds and data."""

    def __init__(self, tmp_path: Path, url: str, fake: FakeSlack) -> None:
        self.tmp_path, self.url, self.fake = tmp_path, url, fake
        self.running: list[Replica] = []

    async def start(self, name: str, *, seeds: str = "shipped",
                    poll: bool = True) -> Replica:
        folder = self.tmp_path / f"{name}-seeds"
        if not folder.exists():
            if seeds == "shipped":
                shutil.copytree(ROOT / "seeds", folder)
            else:
                folder.mkdir()
        settings = Settings(seeds_dir=folder, data_dir=self.tmp_path / f"{name}-data",
                            database_url=self.url, admins=["slack:UADMIN"],
                            fetch_allow_hosts=["127.0.0.1"], _env_file=None)
        ctx = await asyncio.wait_for(build_context(settings), WAIT_S)
        client, adapter = await serve_http(ctx, self.fake)
        poller = IndexVersionPoller(ctx)
        if poll:
            poller.start()  # every 5 s, as in serve; the tests wake it instead of waiting
        replica = Replica(name, ctx, client, adapter, poller)
        self.running.append(replica)
        return replica

    async def stop(self, replica: Replica) -> None:
        self.running.remove(replica)
        await replica.poller.stop()
        await replica.client.close()
        await asyncio.wait_for(replica.adapter.stop(), WAIT_S)
        if replica.ctx.store is not None:
            await replica.ctx.store.close()


@pytest.fixture
async def replicas(tmp_path: Path, store_url: str, slack: FakeSlack
                   ) -> AsyncIterator[Replicas]:
    running = Replicas(tmp_path, store_url, slack)
    yield running
    for replica in list(running.running):
        await running.stop(replica)


async def followed(watch: LogWatch, version: int, within: float = FOLLOW_WITHIN_S) -> None:
    """Wait until a replica logged that it followed the store to `version`."""
    await watch.wait_for(lambda r: r.getMessage() == "followed a reload by another replica"
                         and getattr(r, "version", None) == version, within=within)


async def test_an_article_added_on_one_replica_reaches_every_replica(
        replicas: Replicas, slack: FakeSlack, site: str, watch: LogWatch) -> None:
    a = await replicas.start("a")
    b = await replicas.start("b")
    (b.seeds / HAND_PLACED).write_text(NEW_ARTICLE, encoding="utf-8")
    assert NEW_FACT not in await b.ask(slack)

    # /add on A: fetched, written, recorded with the new version, live on A.
    report = await a.slow(slack, "add", f"<{site}>")
    assert f"Article added: {TITLE} (2025-03-04)" in report, report
    added_at = time.monotonic()
    version = a.ctx.index.version
    stored = await a.ctx.store.articles.find(name=FILE)
    assert stored is not None and stored.index_version == version
    assert stored.added_by == "slack:UADMIN" and stored.url == site

    # B follows within 10 s: answers from it, lists it in its Home, keeps its own files.
    b.poller.wake()
    await followed(watch, version)
    assert NEW_FACT in await b.ask(slack)
    assert TITLE in await b.home(slack)
    assert time.monotonic() - added_at < FOLLOW_WITHIN_S
    assert (b.seeds / FILE).read_bytes() == (a.seeds / FILE).read_bytes()
    assert HAND_FACT in await b.ask(slack, HAND_QUESTION)
    assert not [name for name in files(b.seeds) if name.startswith(".")]  # no temp files
    assert b.ctx.index.version == version

    # A replica started with an empty seeds folder catches up from the store.
    c = await replicas.start("c", seeds="empty", poll=False)
    assert files(c.seeds) == [FILE]
    assert NEW_FACT in await c.ask(slack)
    assert c.ctx.index.version == version

    # /remove on B (admins only): the tombstone reaches A, which deletes its file, rebuilds.
    assert "Only admins can remove articles" in await b.slow(slack, "remove", FILE, "UOTHER")
    assert (b.seeds / FILE).exists()
    report = await b.slow(slack, "remove", FILE)
    assert f"Article removed: {TITLE}" in report, report
    assert not (b.seeds / FILE).exists() and NEW_FACT not in await b.ask(slack)
    removed_at, version = time.monotonic(), b.ctx.index.version
    a.poller.wake()
    await followed(watch, version)
    assert not (a.seeds / FILE).exists()
    assert NEW_FACT not in await a.ask(slack) and TITLE not in await a.home(slack)
    assert time.monotonic() - removed_at < FOLLOW_WITHIN_S
    assert HAND_FACT in await b.ask(slack, HAND_QUESTION)
    tombstone = await a.ctx.store.articles.find(name=FILE, live=False)
    assert tombstone is not None and tombstone.removed and tombstone.removed_by == "slack:UADMIN"


async def test_a_reload_that_raced_an_add_catches_up(
        replicas: Replicas, slack: FakeSlack, site: str, watch: LogWatch) -> None:
    """B's /reload syncs its folder, then A records its /add while B builds: B records the
    next version without the article, sees it missed one, and its poller catches up."""
    a = await replicas.start("a", poll=False)
    b = await replicas.start("b", poll=False)
    lock = b.ctx.index.reload_lock
    await lock.acquire()  # B's build waits here, after its sync
    try:
        reloading = asyncio.ensure_future(dispatch(
            CommandRequest(command="reload", platform="cli", user_id="test"), b.ctx))
        synced = await watch.wait_for(lambda r: "in step with the store's version" in
                                      r.getMessage(), within=WAIT_S)
        assert synced[0].args == (0,)
        added = await dispatch(CommandRequest(command="add", text=site, platform="slack",
                                              user_id="UADMIN"), a.ctx)
        assert isinstance(added, Notice) and a.ctx.index.version == 1
    finally:
        lock.release()
    report = await asyncio.wait_for(reloading, WAIT_S)
    assert isinstance(report, Notice) and b.ctx.index.version == 2
    assert NEW_FACT not in await b.ask(slack) and b.ctx.seed_mirror.behind
    assert await b.poller.check_once()  # the poller's tick, triggered
    assert NEW_FACT in await b.ask(slack)
    assert b.ctx.index.version == 2 and not b.ctx.seed_mirror.behind
    assert not await b.poller.check_once()  # in step: nothing more to do
