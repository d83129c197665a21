"""Daily briefings end to end on both fake platforms.

An admin runs `/brief subscribe 08:30 Europe/Berlin` through the real slack-bolt app (HTTP
mode, signed requests) or the real discord.py client (gateway interaction); `/brief status`
shows the next post; then the scheduler is ticked with an injected clock — never the real
one — and posts the briefing to that channel (`chat.postMessage` on the fake Slack, a channel
message with an embed on the fake Discord) once per local day. A SQLite store in tmp_path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.context import AppContext
from bot.platform import PlatformAdapter
from bot.scheduler import Outcome, Scheduler
from bot.store import open_store
from tests.clock import FakeClock
from tests.fake_discord import CHANNEL_ID, MANAGE_GUILD, TOKEN, FakeDiscord, Member, running
from tests.fake_slack import FakeSlack, form, slash_payload
from tests.test_discord_adapter import connect
from tests.test_slack_http import post, serve_http

SUBSCRIBED_AT = datetime(2024, 6, 10, 6, 0, tzinfo=UTC)  # Monday, 08:00 CEST in Berlin
POST_AT = datetime(2024, 6, 10, 6, 30, tzinfo=UTC)  # 08:30 Europe/Berlin
TIMEOUT = 10.0
SLACK_ADMIN = "UADMIN"
DISCORD_ADMIN = Member(id="400000000000000007", permissions=MANAGE_GUILD)


@dataclass
class Platform:
    """One fake platform driven through its real client library."""

    name: str
    channel: str
    adapter: PlatformAdapter
    brief: Callable[[str], Awaitable[str]]  # `/brief <text>` by an admin → the reply, as JSON
    posts: Callable[[], list[tuple[str, dict[str, Any]]]]  # (channel, payload) posted
    title: Callable[[dict[str, Any]], str]  # the briefing's title in a posted payload


@asynccontextmanager
async def slack_platform(ctx: AppContext) -> AsyncIterator[Platform]:
    fake = await FakeSlack().start()
    fake.users[SLACK_ADMIN] = {"is_admin": True}
    client, adapter = await serve_http(ctx, fake)

    async def brief(text: str) -> str:
        key = f"brief-{len(fake.calls)}-{len(fake.responses)}"
        body = form(slash_payload("/brief", text, response_url=fake.response_url(key),
                                  user_id=SLACK_ADMIN))
        resp = await asyncio.wait_for(post(client, body), TIMEOUT)
        assert resp.status == 200
        ack = await resp.json()
        if not ack.get("text", "").startswith("Working on"):
            return json.dumps(ack, ensure_ascii=False)  # fast: answered in the ack
        _, message = await fake.wait_for(  # slow (admin check): through response_url
            lambda: next((r for r in fake.responses if r[0] == key), None))
        return json.dumps(message, ensure_ascii=False)

    def posts() -> list[tuple[str, dict[str, Any]]]:
        return [(c.args["channel"], c.args) for c in fake.calls_to("chat.postMessage")]

    try:
        yield Platform("slack", "C1", adapter, brief, posts,
                       title=lambda p: p["blocks"][0]["text"]["text"].strip("*"))
    finally:
        await client.close()
        await adapter.stop()
        await fake.close()


@asynccontextmanager
async def discord_platform(ctx: AppContext) -> AsyncIterator[Platform]:
    async with running() as fake, connected(ctx, fake) as platform:
        yield platform


@asynccontextmanager
async def connected(ctx: AppContext, fake: FakeDiscord) -> AsyncIterator[Platform]:
    ctx.settings = ctx.settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url})
    adapter = await connect(ctx, fake)

    async def brief(text: str) -> str:
        action, *args = text.split()
        options = dict(zip(["time", "zone"], args, strict=False))
        interaction = await fake.command("brief", options, subcommand=action,
                                         member=DISCORD_ADMIN)
        # deferred, then the answer; a public one settles "thinking" first and posts after
        count = 3 if action == "subscribe" else 2
        calls = await fake.wait_reply(interaction, count=count, within=TIMEOUT)
        return json.dumps([c.body for c in calls], ensure_ascii=False)

    def posts() -> list[tuple[str, dict[str, Any]]]:
        return [(c.path.split("/")[2], c.body) for c in fake.find(
            lambda c: c.method == "POST" and c.path.startswith("/channels/"))]

    try:
        yield Platform("discord", CHANNEL_ID, adapter, brief, posts,
                       title=lambda p: p["embeds"][0]["title"])
    finally:
        await asyncio.wait_for(adapter.stop(), TIMEOUT)


@pytest.fixture
async def live(ctx: AppContext) -> AsyncIterator[AppContext]:
    """The test context with a fake clock and a SQLite store (tmp data dir) on that clock."""
    clock = FakeClock(SUBSCRIBED_AT)
    ctx.clock = clock
    ctx.store = await open_store(ctx.settings, clock=clock)
    yield ctx
    await ctx.store.close()


@pytest.fixture(params=["slack", "discord"])
async def platform(request: pytest.FixtureRequest, live: AppContext
                   ) -> AsyncIterator[Platform]:
    make = slack_platform if request.param == "slack" else discord_platform
    async with make(live) as platform:
        live.platforms = {platform.name: platform.adapter}  # as start_scheduler does
        yield platform


async def no_sleep(_: float) -> None:
    """Backoff between retries must not wait on the real clock (none are expected here)."""


async def tick(scheduler: Scheduler, clock: FakeClock) -> list[tuple[str, str, date]]:
    outcomes: list[Outcome] = await asyncio.wait_for(scheduler.tick(clock()), TIMEOUT)
    return [(o.status, o.channel_id, o.local_date) for o in outcomes]


async def test_subscribe_then_the_briefing_is_posted_once_a_day(
        platform: Platform, live: AppContext) -> None:
    clock: FakeClock = live.clock
    scheduler = Scheduler(live, live.platforms, sleep=no_sleep)

    reply = await platform.brief("subscribe 08:30 Europe/Berlin")
    assert "Daily briefing subscribed" in reply and "08:30 Europe/Berlin" in reply
    status = await platform.brief("status")
    assert "Every day at 08:30 Europe/Berlin" in status
    assert "Next: Mon 10 Jun 08:30 CEST (Europe/Berlin)" in status
    assert platform.posts() == []

    clock.now = POST_AT - timedelta(seconds=1)  # 08:29:59 in Berlin: not yet
    assert await tick(scheduler, clock) == []
    assert platform.posts() == []

    clock.advance(seconds=61)  # 08:31
    assert await tick(scheduler, clock) == [("sent", platform.channel, date(2024, 6, 10))]
    [(channel, payload)] = platform.posts()
    briefing = live.index.current.briefing()
    assert channel == platform.channel
    assert platform.title(payload) == briefing.title
    assert briefing.sections[0].heading in json.dumps(payload, ensure_ascii=False)

    # The same local day: later ticks, and a fresh scheduler (a restart), post nothing more.
    for later in (timedelta(minutes=1), timedelta(hours=15, minutes=28)):  # to 23:59 Berlin
        clock.advance(seconds=later.total_seconds())
        assert await tick(scheduler, clock) == []
    assert await tick(Scheduler(live, live.platforms, sleep=no_sleep), clock) == []
    assert len(platform.posts()) == 1

    status = await platform.brief("status")
    assert "Next: Tue 11 Jun 08:30 CEST (Europe/Berlin)" in status
    assert "Last posted: Mon 10 Jun 08:31 CEST (Europe/Berlin)" in status

    clock.now = POST_AT + timedelta(days=1, seconds=30)  # Tuesday 08:30:30 in Berlin
    assert await tick(scheduler, clock) == [("sent", platform.channel, date(2024, 6, 11))]
    assert [channel for channel, _ in platform.posts()] == [platform.channel] * 2
    assert platform.title(platform.posts()[1][1]) == briefing.title
