"""Votes, /gaps, question recording, the local reload route and replicas following a reload."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.discord import DiscordAdapter
from bot.adapters.slack.render import VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.admin import IndexVersionPoller
from bot.app import make_web_app
from bot.cli import main
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.models import Answer, Notice, UserError
from bot.settings import Settings
from bot.store import Store, open_store_url
from handlers import CommandRequest, dispatch
from handlers.feedback import flush_questions
from tests.fake_discord import FakeDiscord, Member, running
from tests.fake_slack import FakeSlack
from tests.test_discord_adapter import ask as discord_ask
from tests.test_discord_adapter import connect, custom_ids
from tests.test_reload import NEW_ARTICLE
from tests.test_slack_http import button, click, serve_http, slash

ROOT = Path(__file__).resolve().parent.parent
UNANSWERABLE = "What is the price of tea on Mars?"


@pytest.fixture
def sctx(ctx: AppContext, store: Store) -> AppContext:
    ctx.store = store
    ctx.settings = ctx.settings.model_copy(update={"admins": ["slack:UADMIN"]})
    return ctx


def vote_req(direction: str, user: str = "U1", **options: str) -> CommandRequest:
    return CommandRequest(command="vote", text=direction, platform="slack", user_id=user,
                          options={"answer_id": "a1", "question": "who is Tertitskiy",
                                   "intent": "who", "citations": "[]", **options})


async def test_second_click_changes_the_vote(sctx: AppContext, store: Store) -> None:
    first = await dispatch(vote_req("up"), sctx)
    assert isinstance(first, Notice) and first.text == "Thanks — recorded 👍"
    assert not first.public
    second = await dispatch(vote_req("down"), sctx)
    assert second.text == "Thanks — recorded 👎"
    await dispatch(vote_req("up", user="U2"), sctx)
    assert await store.votes_for("a1") == {1: 1, -1: 1}


async def test_a_malformed_vote_is_a_sentence(sctx: AppContext) -> None:
    result = await dispatch(vote_req("sideways"), sctx)
    assert isinstance(result, UserError) and "vote" in result.message


async def test_gaps_are_admin_only_grouped_and_nameless(sctx: AppContext, store: Store) -> None:
    for text in (UNANSWERABLE, "what is the price of tea on mars", "who is Tertitskiy"):
        await dispatch(CommandRequest(command="ask", text=text, platform="slack",
                                      user_id="USECRET", user_name="secret.person"), sctx)
    await dispatch(vote_req("down", user="USECRET"), sctx)
    refused = await dispatch(CommandRequest(command="gaps", platform="slack", user_id="U1"), sctx)
    assert isinstance(refused, UserError) and "Only admins can see the gaps" in refused.message
    report = await dispatch(CommandRequest(command="gaps", platform="slack", user_id="UADMIN"),
                            sctx)
    assert isinstance(report, Notice)
    text = "\n".join(report.lines)
    assert report.lines[0].startswith("1× “who is tertitskiy” — 👎")  # newest first
    assert "2× “what is the price of tea on mars” — abstained" in text
    assert "USECRET" not in text and "secret" not in text


async def test_old_questions_are_purged(sctx: AppContext, store: Store) -> None:
    await dispatch(CommandRequest(command="ask", text=UNANSWERABLE, platform="slack"), sctx)
    store.clock = lambda: sctx.clock() + timedelta(days=91)
    poller = IndexVersionPoller(sctx)
    await poller.purge_if_due()
    assert await store.gaps() == []


async def test_briefbot_gaps_prints_the_report(sctx: AppContext, store: Store, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    await dispatch(CommandRequest(command="ask", text=UNANSWERABLE, platform="discord"), sctx)
    await flush_questions(sctx)  # `serve` writes within milliseconds; the CLI is another process
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}")
    assert await asyncio.to_thread(main, ["gaps"]) == 0
    assert "1× “what is the price of tea on mars” — abstained" in capsys.readouterr().out


# --- buttons through the fakes ----------------------------------------------------------------

async def test_slack_thumbs_up_then_down_stores_one_down_vote(sctx: AppContext,
                                                             store: Store) -> None:
    fake = await FakeSlack().start()
    client, adapter = await serve_http(sctx, fake)
    try:
        answer = await (await slash(client, fake, "/ask", "who is Tertitskiy")).json()
        for action, n in ((VOTE_UP_ACTION, 1), (VOTE_DOWN_ACTION, 2)):
            await click(client, fake, button(answer, action))
            await fake.wait_for(lambda n=n: len(fake.responses) >= n)
        texts = [body["text"] for _, body in fake.responses]
        assert texts == ["Thanks — recorded 👍", "Thanks — recorded 👎"]
        answer_id = json.loads(button(answer, VOTE_UP_ACTION)["value"])["id"]
        assert await store.votes_for(answer_id) == {1: 0, -1: 1}
        [gap] = await store.gaps()
        assert gap.question == "who is tertitskiy" and gap.reasons == ("downvoted",)
    finally:
        await client.close()
        await adapter.stop()
        await fake.close()


@pytest.fixture
async def dfake() -> AsyncIterator[FakeDiscord]:
    async with running() as fake:
        yield fake


async def discord_bot(ctx: AppContext, fake: FakeDiscord) -> DiscordAdapter:
    from pydantic import SecretStr

    from tests.fake_discord import TOKEN

    ctx.settings = ctx.settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url})
    return await connect(ctx, fake)


async def test_discord_thumbs_up_then_down_stores_one_down_vote(
        sctx: AppContext, store: Store, dfake: FakeDiscord) -> None:
    bot = await discord_bot(sctx, dfake)
    try:
        _, message = await discord_ask(dfake, "who is Tertitskiy")
        up, down = custom_ids(message)[1:3]
        for custom_id in (up, down):
            await dfake.wait_reply(await dfake.click(message, custom_id, member=Member()))
        answer_id = up.rsplit(":", 1)[1]
        assert await store.votes_for(answer_id) == {1: 0, -1: 1}
        [gap] = await store.gaps()
        assert gap.question == "who is tertitskiy"
    finally:
        await asyncio.wait_for(bot.stop(), 10)


# --- briefbot reload over the local port ------------------------------------------------------

def live_ctx(seeds: Path, data: Path, store: Store | None = None) -> AppContext:
    settings = Settings(seeds_dir=seeds, data_dir=data, _env_file=None)
    return AppContext(settings=settings, index=IndexHolder(build_index(seeds), 1),
                      store=store)


async def test_briefbot_reload_posts_to_the_local_server(
        seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    ctx = live_ctx(seeds, tmp_path)
    client = TestClient(TestServer(make_web_app(ctx, []), host="127.0.0.1"))
    await client.start_server()
    token_file = tmp_path / "admin.token"
    try:
        assert token_file.stat().st_mode & 0o777 == 0o600  # other local users cannot read it
        forwarded = await client.post("/admin/reload", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status == 403 and ctx.index.version == 1
        for headers in ({}, {"Authorization": "Bearer guessed"}):  # local, but no token
            refused = await client.post("/admin/reload", headers=headers)
            assert refused.status == 401 and "admin token" in (await refused.json())["text"]
        assert ctx.index.version == 1
        (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        monkeypatch.setenv("BRIEFBOT_PORT", str(client.port))
        monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path))
        assert await asyncio.to_thread(main, ["reload", "--timeout", "30"]) == 0
        out = capsys.readouterr().out
        assert "Seeds reloaded" in out and "Documents added: treaty" in out
        assert ctx.index.version == 2
        (seeds / "empty.txt").write_bytes(b"")
        assert await asyncio.to_thread(main, ["reload", "--timeout", "30"]) == 1
        assert "empty.txt" in capsys.readouterr().out and ctx.index.version == 2
    finally:
        await client.close()
    assert not token_file.exists()  # removed at shutdown
    assert await asyncio.to_thread(main, ["reload", "--timeout", "5"]) == 1
    assert "no admin token" in capsys.readouterr().err
    token_file.write_text("stale")  # a server that died without cleaning up
    assert await asyncio.to_thread(main, ["reload", "--timeout", "5"]) == 1
    assert "no briefbot server answers" in capsys.readouterr().err


# --- replicas ---------------------------------------------------------------------------------

async def test_two_replicas_sharing_a_store_converge(seeds: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    store_a, store_b = await open_store_url(url), await open_store_url(url)
    a, b = live_ctx(seeds, tmp_path / "a", store_a), live_ctx(seeds, tmp_path / "b", store_b)
    pollers = [IndexVersionPoller(c) for c in (a, b)]  # driven by hand: no waiting on a timer
    try:
        for poller in pollers:
            await poller.adopt()
        (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        report = await dispatch(CommandRequest(command="reload"), a)
        assert isinstance(report, Notice)
        version = await store_a.get_index_version()
        assert a.index.version == version >= 1

        assert await pollers[1].check_once() is True  # b sees the newer version and follows
        assert b.index.version == version
        answer = await dispatch(CommandRequest(command="ask", text="who is Jane Roe"), b)
        assert isinstance(answer, Answer) and "historian at Example University" in answer.text
        assert [await p.check_once() for p in pollers] == [False, False]  # nobody reloads again
        assert (a.index.version, b.index.version) == (version, version)
    finally:
        await store_a.close()
        await store_b.close()


async def test_sighup_reloads_the_seeds(seeds: Path, tmp_path: Path) -> None:
    import os
    import signal

    from bot.admin import start_admin, stop_admin

    ctx = live_ctx(seeds, tmp_path)
    start_admin(ctx)
    try:
        (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(500):  # bounded: 10 s at most
            if ctx.index.version == 2:
                break
            await asyncio.sleep(0.02)
        assert ctx.index.version == 2
    finally:
        await stop_admin(ctx)
