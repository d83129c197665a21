"""Removing an article (issue 19): the `remove` handler (admins, by URL or file name), over
the wire as Discord's /remove and Slack's /remove, and as `briefbot remove URL|FILE`; the
removal is recorded in the store with the new version, and a reload that fails puts the file
back. Also `briefbot add` recording its article in the store, with and without a server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter
from bot.admin import IndexVersionPoller
from bot.app import make_web_app
from bot.cli import main
from bot.cli.articles import cli_user
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.models import Answer, Notice, UserError
from bot.settings import Settings
from bot.store import Store, open_store_url
from handlers.registry import dispatch
from handlers.requests import CommandRequest
from tests.fake_discord import MANAGE_GUILD, TOKEN, FakeDiscord, Member, running
from tests.test_add_platforms import FILE, NEW_FACT, QUESTION, Site
from tests.test_articles_store import URL, files, seed_text
from tests.test_discord_adapter import connect

NAME = "harbour-bridge.md"
WAIT_S = 30.0


def remove(target: str, user: str = "UADMIN") -> CommandRequest:
    return CommandRequest(command="remove", text=target, platform="slack", user_id=user)


def ask(live: AppContext) -> Answer:
    return live.index.current.answer(QUESTION)


@pytest.fixture
async def with_article(live: AppContext, seeds: Path, store: Store) -> AppContext:
    """The `live` context on a store, with an added article live and recorded."""
    live.store = store
    (seeds / NAME).write_text(seed_text(), encoding="utf-8")
    reloaded = await dispatch(CommandRequest(command="reload", platform="cli", user_id="t",
                                             options={"publish": NAME}), live)
    assert isinstance(reloaded, Notice), reloaded
    assert NEW_FACT in ask(live).text
    return live


async def test_an_admin_removes_by_url_and_every_replica_is_told(
        with_article: AppContext, seeds: Path, store: Store) -> None:
    result = await dispatch(remove(f"<{URL}|www.example.com/news>"), with_article)
    assert isinstance(result, Notice), result
    assert result.title == "Article removed: Riverton approves the harbour bridge"
    assert "Documents removed: harbour-bridge" in result.lines
    assert not (seeds / NAME).exists() and NEW_FACT not in ask(with_article).text
    row = await store.articles.find(name=NAME, live=False)
    assert row is not None and row.removed and row.removed_by == "slack:UADMIN"
    assert row.index_version == with_article.index.version == result.data["version"] == 2


async def test_by_url_every_file_of_the_article_goes(
        with_article: AppContext, seeds: Path, store: Store) -> None:
    """This folder holds the article under another name too (added here before the store
    kept articles): removing its URL removes both, here and, by the tombstones, elsewhere."""
    (seeds / "bridge-copy.md").write_text(seed_text(), encoding="utf-8")
    result = await dispatch(remove(URL), with_article)
    assert isinstance(result, Notice), result
    assert not (seeds / NAME).exists() and not (seeds / "bridge-copy.md").exists()
    for name in (NAME, "bridge-copy.md"):
        row = await store.articles.find(name=name, live=False)
        assert row is not None and row.removed and row.url == URL


async def test_an_article_recorded_under_a_new_name_keeps_one_file(
        with_article: AppContext, seeds: Path, store: Store) -> None:
    """The same URL recorded under another name retires the old one; this replica's folder
    loses the old file right after, and its poller rebuilds without the duplicate."""
    (seeds / "bridge-2.md").write_text(seed_text(extra=" Work starts in May."),
                                       encoding="utf-8")
    result = await dispatch(CommandRequest(command="reload", platform="cli", user_id="t",
                                           options={"publish": "bridge-2.md"}), with_article)
    assert isinstance(result, Notice) and not (seeds / NAME).exists()
    assert with_article.seed_mirror.behind
    assert await IndexVersionPoller(with_article).check_once()
    ids = [d.id for d in with_article.index.current.documents]
    assert "bridge-2" in ids and "harbour-bridge" not in ids
    assert not with_article.seed_mirror.behind


async def test_by_file_name_or_document_id(with_article: AppContext, seeds: Path) -> None:
    result = await dispatch(remove("harbour-bridge"), with_article)
    assert isinstance(result, Notice) and not (seeds / NAME).exists()


@pytest.mark.parametrize(("target", "said"), [
    ("https://www.example.com/nowhere", "No article in the seeds has the URL"),
    ("nothing-here.md", "No article named nothing-here.md"),
    ("../etc/passwd", "neither an http(s) URL nor the name of an article file"),
    ("feeds.yaml", "No article named feeds.yaml"),
    ("a.md b.md", "Give one URL or one file name"),
])
async def test_what_is_not_an_article_is_refused_with_a_sentence(
        with_article: AppContext, seeds: Path, store: Store, target: str, said: str) -> None:
    before = files(seeds)
    result = await dispatch(remove(target), with_article)
    assert isinstance(result, UserError) and said in result.message, result
    assert files(seeds) == before and with_article.index.version == 1
    assert await store.get_index_version() == 1


async def test_a_non_admin_is_refused_and_nothing_is_removed(
        with_article: AppContext, seeds: Path) -> None:
    result = await dispatch(remove(NAME, user="UOTHER"), with_article)
    assert isinstance(result, UserError) and "Only admins can remove articles" in result.message
    assert (seeds / NAME).exists()


async def test_a_failed_reload_puts_the_file_back(live: AppContext, seeds: Path,
                                                  store: Store) -> None:
    """Removing the last article leaves nothing to build: refused, the file is back, the
    store records nothing."""
    live.store = store
    [only] = files(seeds)
    before = (seeds / only).read_bytes()
    result = await dispatch(remove(only), live)
    assert isinstance(result, UserError) and "nothing changed" in result.message
    assert f"{only} is back in place" in result.message
    assert (seeds / only).read_bytes() == before and files(seeds) == [only]
    assert await store.get_index_version() == 0 and live.index.version == 1


async def test_usage(live: AppContext) -> None:
    result = await dispatch(remove("", user="UOTHER"), live)
    assert isinstance(result, Notice) and "/remove" in result.text


# --- Discord, over the wire -------------------------------------------------------------------

@pytest.fixture
async def dbot(with_article: AppContext) -> AsyncIterator[tuple[DiscordAdapter, FakeDiscord]]:
    async with running() as fake:
        with_article.settings = with_article.settings.model_copy(update={
            "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
            "discord_gateway_url": fake.gateway_url})
        adapter = await connect(with_article, fake)
        yield adapter, fake
        await asyncio.wait_for(adapter.stop(), WAIT_S)


async def discord_remove(fake: FakeDiscord, article: str, member: Member) -> str:
    """Deferred ("thinking…"), then one follow-up with the report or the refusal."""
    interaction = await fake.command("remove", {"article": article}, member=member)
    calls = await fake.wait_reply(interaction, count=2, within=WAIT_S)
    return json.dumps([c.body for c in calls], ensure_ascii=False)


async def test_discord_remove_for_admins_only(dbot, seeds: Path) -> None:
    _, fake = dbot
    refused = await discord_remove(fake, NAME, Member(permissions=0))
    assert "Only admins can remove articles" in refused and (seeds / NAME).exists()
    report = await discord_remove(fake, NAME, Member(id="400000000000000007",
                                                     permissions=MANAGE_GUILD))
    assert "Article removed: Riverton approves the harbour bridge" in report
    assert not (seeds / NAME).exists()
    [command] = [c for c in fake.commands.values() if c["name"] == "remove"]
    assert str(command["default_member_permissions"]) == str(MANAGE_GUILD)


# --- the command line -----------------------------------------------------------------------

@pytest.fixture
def cli_env(seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BRIEFBOT_SEEDS_DIR is the copy, the store a SQLite file in BRIEFBOT_DATA_DIR."""
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BRIEFBOT_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path / "data" / "briefbot.db"


async def run_cli(argv: list[str]) -> int:
    return await asyncio.wait_for(asyncio.to_thread(main, argv), WAIT_S)


async def test_briefbot_remove(cli_env: Path, seeds: Path, tmp_path: Path, capsys) -> None:
    (seeds / NAME).write_text(seed_text(), encoding="utf-8")
    assert await run_cli(["remove", str(seeds / NAME), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["ok"], out["path"], out["url"], out["version"]) == (True, NAME, URL, 1)
    assert "Documents removed: harbour-bridge" in out["text"]
    assert not (seeds / NAME).exists()
    store = await open_store_url(f"sqlite+aiosqlite:///{cli_env}")
    try:
        row = await store.articles.find(name=NAME, live=False)
        assert row is not None and row.removed and row.removed_by == f"cli:{cli_user()}"
    finally:
        await store.close()

    assert await run_cli(["remove", NAME]) == 1
    assert "No article named harbour-bridge.md" in capsys.readouterr().err
    outside = tmp_path / "elsewhere" / NAME
    assert await run_cli(["remove", str(outside)]) == 1
    assert "is not in the seeds folder" in capsys.readouterr().err


@pytest.fixture
async def site() -> AsyncIterator[str]:
    from aiohttp import web

    pages = Site()
    runner = web.AppRunner(pages.app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/news/harbour-bridge"
    await asyncio.wait_for(runner.cleanup(), WAIT_S)


async def test_briefbot_add_without_a_server_records_the_article(
        cli_env: Path, site: str, seeds: Path, tmp_path: Path, capsys) -> None:
    assert await run_cli(["add", site, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reload"] is None and "recorded in the store as index version 1" in out["note"]
    store = await open_store_url(f"sqlite+aiosqlite:///{cli_env}")
    try:
        row = await store.articles.find(name=FILE)
        assert row is not None and row.added_by == f"cli:{cli_user()}"
        # another replica, its folder empty, gets it from the store
        other = tmp_path / "other"
        other.mkdir()
        from bot.ingest.mirror import SeedMirror

        await SeedMirror(other).sync(store.articles)
        assert (other / FILE).read_bytes() == (seeds / FILE).read_bytes()
    finally:
        await store.close()


async def test_briefbot_add_asks_the_server_to_record_it(
        cli_env: Path, site: str, seeds: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'server.db'}")
    settings = Settings(seeds_dir=seeds, data_dir=tmp_path / "data", _env_file=None)
    ctx = AppContext(settings=settings, index=IndexHolder(build_index(seeds), 0), store=store)
    client = TestClient(TestServer(make_web_app(ctx, []), host="127.0.0.1"))
    await client.start_server()
    try:
        monkeypatch.setenv("BRIEFBOT_PORT", str(client.port))
        assert await run_cli(["add", site, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["reload"]["ok"] is True and ctx.index.version == 1
        row = await store.articles.find(name=FILE)
        assert row is not None and row.index_version == 1
        assert row.added_by == f"cli:{cli_user()}"
        token = (tmp_path / "data" / "admin.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        for body, said in ((b"{", "not JSON"), (b'{"publish": ["../x.md"]}', "seed file names"),
                           (b'{"publish": "x.md"}', "list of file names"),
                           (b'{"extra": 1}', "`publish` and `user` only")):
            response = await client.post("/admin/reload", data=body, headers=headers)
            answer: dict[str, Any] = await response.json()
            assert response.status in (400, 422) and said in answer["text"], answer
        assert ctx.index.version == 1
    finally:
        await asyncio.wait_for(client.close(), WAIT_S)
        await store.close()
