"""Replicas on Discord: two real discord.py clients (two gateway sessions, one bot token) get
every interaction from the fake Discord; with one shared PostgreSQL store exactly one of them
answers each, and the other does nothing at all. A SQLite store (one process) claims nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.adapters.discord import DiscordAdapter
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.settings import Settings
from bot.store import Store, create_engine_for, open_store_url
from bot.store import tables as t
from handlers.registry import add_after_hook
from handlers.requests import CommandRequest
from tests.fake_discord import EPHEMERAL, MENTION, TOKEN, Call, FakeDiscord, running
from tests.logwatch import LogWatch, watching
from tests.pg import PgServer, free_port
from tests.test_discord_messages import answer_to

SEEN: list[CommandRequest] = []
add_after_hook(lambda req, *_: SEEN.append(req) if req.platform == "discord" else None)

WITHIN = 5.0


@pytest.fixture
def watch() -> Iterator[LogWatch]:
    with watching() as handler:
        SEEN.clear()
        yield handler


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running() as fake:
        yield fake


@pytest.fixture
def dsettings(settings: Settings, fake: FakeDiscord) -> Settings:
    return settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url})


class Replicas:
    """Running adapters, each a process of its own as far as the bot can tell."""

    def __init__(self, settings: Settings, seed_index: Any, fake: FakeDiscord) -> None:
        self.settings, self.seed_index, self.fake = settings, seed_index, fake
        self.adapters: list[DiscordAdapter] = []

    async def start(self, store: Store) -> DiscordAdapter:
        ctx = AppContext(settings=self.settings, index=IndexHolder(self.seed_index, version=1),
                         store=store)
        adapter = DiscordAdapter.from_settings(ctx)
        self.adapters.append(adapter)
        await asyncio.wait_for(adapter.start(), WITHIN)
        await self.fake.wait_for(lambda c: c.method == "SENT" and c.path == "READY",
                                 count=len(self.adapters))
        return adapter

    async def stop(self) -> None:
        for adapter in self.adapters:
            await asyncio.wait_for(adapter.stop(), 10)
        for adapter in self.adapters:
            if (questions := adapter.ctx.question_log) is not None:
                await asyncio.wait_for(questions.close(), 10)
            await adapter.ctx.store.close()


@pytest.fixture
async def replicas(dsettings: Settings, seed_index: Any,
                   fake: FakeDiscord) -> AsyncIterator[Replicas]:
    running = Replicas(dsettings, seed_index, fake)
    yield running
    await running.stop()


@pytest.fixture
async def two_on_postgres(replicas: Replicas, pg_server: PgServer) -> Replicas:
    """Two replicas, each with its own connection pool on one PostgreSQL database."""
    url = await pg_server.create_database()
    for _ in range(2):
        await replicas.start(await open_store_url(url))
    return replicas


def answered(fake: FakeDiscord, interaction: dict[str, Any]) -> list[Call]:
    return fake.for_interaction(interaction)


def data_of(call: Call) -> dict[str, Any]:
    return call.body.get("data") or {}


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message["components"] for b in row["components"]]


async def claims(store: Store) -> list[str]:
    async with store.engine.connect() as conn:
        return [row[0] for row in await conn.execute(select(t.claims.c.key))]


async def once(fake: FakeDiscord, watch: LogWatch, interaction: dict[str, Any]) -> Call:
    """The one callback for an interaction, once the other replica let it go (or, if it
    did not, as soon as it answered too: then the test fails at once, not on a timeout)."""
    await fake.wait_reply(interaction)
    lost = asyncio.ensure_future(watch.lost(interaction))
    twice = asyncio.ensure_future(fake.wait_reply(interaction, count=2))
    done, pending = await asyncio.wait({lost, twice}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if twice in done and twice.exception() is None:
        pytest.fail(f"answered twice: {[(c.path, c.status) for c in answered(fake, interaction)]}")
    lost.result()  # a TimeoutError here: no replica ever let the interaction go
    [call] = answered(fake, interaction)
    assert call.path.endswith("/callback") and call.status == 200
    return call


async def ask(fake: FakeDiscord, watch: LogWatch, question: str) -> dict[str, Any]:
    """/ask on both sessions; returns the one message answering it."""
    interaction = await fake.command("ask", {"question": question})
    await once(fake, watch, interaction)
    [message] = [m for m in fake.messages.values()
                 if m.get("interaction_token") == interaction["token"]]
    return message


# --- PostgreSQL: two replicas -----------------------------------------------------------------


@pytest.mark.postgres
async def test_a_slash_command_reaches_both_sessions_and_is_answered_once(
        two_on_postgres: Replicas, fake: FakeDiscord, watch: LogWatch) -> None:
    interaction = await fake.command("ask", {"question": "who is Tertitskiy"})
    sent = fake.find(lambda c: c.method == "SENT" and c.path == "INTERACTION_CREATE")
    assert len({c.body["session"] for c in sent}) == 2  # each gateway session got it
    call = await once(fake, watch, interaction)
    assert call.body["type"] == 4 and data_of(call)["flags"] & EPHEMERAL
    assert "Tertitskiy" in data_of(call)["embeds"][0]["description"]
    assert [(r.command, r.text) for r in SEEN] == [("ask", "who is Tertitskiy")]
    assert fake.find(lambda c: c.status >= 400) == []  # no 40060 for a second answer
    store = two_on_postgres.adapters[0].ctx.store
    assert await claims(store) == [f"interaction:discord:{interaction['id']}"]
    assert watch.noise() == []


@pytest.mark.postgres
async def test_autocomplete_is_answered_once(two_on_postgres: Replicas, fake: FakeDiscord,
                                             watch: LogWatch) -> None:
    interaction = await fake.command("who", {"name": "ter"}, focused="name")
    call = await once(fake, watch, interaction)
    assert call.body["type"] == 8
    assert "Fyodor Tertitskiy" in [c["value"] for c in data_of(call)["choices"]]
    assert SEEN == [] and watch.noise() == []


@pytest.mark.postgres
async def test_a_vote_is_recorded_once_and_answered_once(
        two_on_postgres: Replicas, fake: FakeDiscord, watch: LogWatch) -> None:
    message = await ask(fake, watch, "who is Tertitskiy")
    up = custom_ids(message)[1]
    assert up.startswith("bb:vote:up:")
    click = await fake.click(message, up)
    call = await once(fake, watch, click)
    assert data_of(call)["flags"] & EPHEMERAL
    assert "recorded" in data_of(call)["embeds"][0]["description"]
    assert [(r.command, r.text) for r in SEEN if r.command == "vote"] == [("vote", "up")]
    store = two_on_postgres.adapters[1].ctx.store
    assert await store.votes_for(up.rsplit(":", 1)[1]) == {1: 1, -1: 0}
    assert fake.find(lambda c: c.status >= 400) == [] and watch.noise() == []


@pytest.mark.postgres
async def test_share_posts_once_and_no_replica_says_already_shared(
        two_on_postgres: Replicas, fake: FakeDiscord, watch: LogWatch) -> None:
    message = await ask(fake, watch, "who is Tertitskiy")
    share = custom_ids(message)[0]
    assert share.startswith("bb:share:ask:")
    click = await fake.click(message, share)
    call = await once(fake, watch, click)
    shared = data_of(call)
    assert not shared.get("flags", 0) & EPHEMERAL  # posted in the channel, once
    assert shared["embeds"][0]["author"]["name"] == "Shared by Alice"
    assert [r.command for r in SEEN] == ["ask", "share"]
    assert not any("already shared" in e.get("description", "")
                   for c in fake.calls if c.rest and isinstance(c.body, dict)
                   for e in (c.body.get("data") or c.body).get("embeds") or [])
    assert fake.find(lambda c: c.status >= 400) == [] and watch.noise() == []


@pytest.mark.postgres
async def test_a_mention_reaches_both_sessions_and_is_replied_to_once(
        two_on_postgres: Replicas, fake: FakeDiscord, watch: LogWatch) -> None:
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    sent = fake.find(lambda c: c.method == "SENT" and c.path == "MESSAGE_CREATE"
                     and c.body["id"] == asked["id"])
    assert len({c.body["session"] for c in sent}) == 2  # each gateway session got it
    await fake.wait_replies(asked)
    lost = asyncio.ensure_future(watch.wait_for(
        lambda r: r.name == "briefbot.discord" and "another replica" in r.getMessage()
        and asked["id"] in r.getMessage()))
    twice = asyncio.ensure_future(fake.wait_replies(asked, count=2))
    done, pending = await asyncio.wait({lost, twice}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if twice in done and twice.exception() is None:
        pytest.fail("replied twice")
    lost.result()  # a TimeoutError here: no replica ever let the message go
    [reply] = fake.replies_to(asked)
    assert reply.status == 200 and reply.body["allowed_mentions"] == {"parse": []}
    assert "Tertitskiy" in reply.body["embeds"][0]["description"]
    assert [(r.command, r.text) for r in SEEN] == [("message", "who is Tertitskiy")]
    store = two_on_postgres.adapters[0].ctx.store
    assert [k for k in await claims(store) if k.endswith(f"discord:{asked['id']}")]
    assert fake.find(lambda c: c.status >= 400) == [] and watch.noise() == []


@pytest.mark.postgres
@pytest.mark.parametrize("resolved", ["full", "missing"])
async def test_a_reply_to_the_answer_continues_on_another_replica(
        replicas: Replicas, fake: FakeDiscord, pg_server: PgServer, watch: LogWatch,
        resolved: str) -> None:
    """Issue 19: one replica answers the question and goes away; a replica that never saw
    the question (its own process, an empty message cache) gets the reply to the answer and
    continues the conversation from the store, however much Discord resolved."""
    fake.resolve_replies = resolved
    url = await pg_server.create_database()
    first = await replicas.start(await open_store_url(url))
    asked = await fake.post(f"{MENTION} who is Rüdiger Frank")
    await fake.wait_replies(asked)
    answer = answer_to(fake, asked)
    await watch.kept_for_replies(answer)
    await asyncio.wait_for(first.stop(), 10)
    second = await replicas.start(await open_store_url(url))
    assert second.client is not first.client
    followup = await fake.post("what did he say?", reply_to=answer)
    [reply] = await fake.wait_replies(followup)
    quotes = second.ctx.index.current.answer("what did Rüdiger Frank say?")
    assert reply.body["embeds"][0]["title"] == "Rüdiger Frank"
    assert reply.body["embeds"][0]["description"].split()[:8] == quotes.text.split()[:8]
    assert [(r.command, r.text) for r in SEEN] == [
        ("message", "who is Rüdiger Frank"), ("message", "what did he say?")]
    assert watch.noise() == []


# --- one process: nothing to race -------------------------------------------------------------


async def test_a_sqlite_store_is_not_shared_and_claims_nothing(
        replicas: Replicas, fake: FakeDiscord, watch: LogWatch, tmp_path: Any) -> None:
    store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    assert not store.shared
    await replicas.start(store)
    interaction = await fake.command("ask", {"question": "who is Tertitskiy"})
    await fake.wait_reply(interaction)
    [message] = [m for m in fake.messages.values()
                 if m.get("interaction_token") == interaction["token"]]
    click = await fake.click(message, custom_ids(message)[1])
    await fake.wait_reply(click)
    assert [r.command for r in SEEN] == ["ask", "vote"]
    assert [len(answered(fake, i)) for i in (interaction, click)] == [1, 1]
    assert await claims(store) == []  # no write per interaction
    assert watch.noise() == []


async def test_a_failing_store_does_not_lose_the_interaction(
        replicas: Replicas, fake: FakeDiscord, watch: LogWatch) -> None:
    """A PostgreSQL store nobody listens for: the claim fails, the user is answered anyway."""
    store = Store(create_engine_for(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x"))
    assert store.shared
    await replicas.start(store)
    interaction = await fake.command("ask", {"question": "who is Tertitskiy"})
    await fake.wait_reply(interaction)
    [call] = answered(fake, interaction)
    assert call.body["type"] == 4
    assert "Tertitskiy" in data_of(call)["embeds"][0]["description"]
    [warning] = watch.matching(lambda r: "could not claim" in r.getMessage())
    assert warning.levelno == logging.WARNING and "answering it anyway" in warning.getMessage()
