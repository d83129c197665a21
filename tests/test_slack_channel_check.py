"""`/brief subscribe` on Slack first asks conversations.info whether the bot may post there.

The real slack-bolt app in HTTP mode (signed requests) against the fake Slack, with a SQLite
store in tmp_path: a channel the bot cannot post in gets a sentence saying how to fix it and
no subscription; a good channel, or a Slack that cannot answer right now, subscribes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.adapters.slack import SlackAdapter
from bot.context import AppContext
from bot.store import open_store
from tests.conftest import ROOT
from tests.fake_slack import FakeSlack, form, slash_payload
from tests.test_slack_http import post, serve_http

ADMIN = "UADMIN"
SUBSCRIBE = "subscribe 08:30 Europe/Berlin"
INVITE = "/invite @briefbot"
ALL_SCOPES = ["commands", "chat:write", "chat:write.public", "users:read", "channels:read",
              "groups:read", "im:read", "mpim:read"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.users[ADMIN] = {"is_admin": True}
    yield fake
    await fake.close()


@pytest.fixture
async def slack(ctx: AppContext, fake: FakeSlack) -> AsyncIterator[TestClient]:
    ctx.store = await open_store(ctx.settings)  # SQLite in the test's tmp data dir
    client, adapter = await serve_http(ctx, fake)
    ctx.platforms = {"slack": adapter}  # what start_scheduler publishes in serve
    yield client
    await client.close()
    await adapter.stop()
    await ctx.store.close()


async def subscribe(client: TestClient, fake: FakeSlack, channel: str = "C1",
                    user: str = ADMIN) -> dict[str, Any]:
    """`/brief subscribe …` is acked at once; the answer comes through response_url."""
    key = f"subscribe-{len(fake.responses)}"
    body = form(slash_payload("/brief", SUBSCRIBE, response_url=fake.response_url(key),
                              user_id=user, channel_id=channel))
    assert (await asyncio.wait_for(post(client, body), 10)).status == 200
    _, message = await fake.wait_for(
        lambda: next((r for r in fake.responses if r[0] == key), None))
    return message


def checked(fake: FakeSlack) -> list[str]:
    return [str(c.args.get("channel")) for c in fake.calls_to("conversations.info")]


@pytest.mark.parametrize(("state", "scopes", "says"), [
    ({"member": False, "private": True}, None, "not a member of this channel"),
    ({"found": False}, None, "cannot find this channel"),
    ({"archived": True}, None, "archived"),
    # an app installed without chat:write.public must be invited even to a public channel
    ({"member": False}, ["commands", "chat:write", "users:read", "channels:read"],
     "not a member of this channel"),
], ids=["private-not-member", "not-found", "archived", "public-without-chat-write-public"])
async def test_a_channel_the_bot_cannot_post_in_gets_the_fix_and_no_subscription(
        slack: TestClient, fake: FakeSlack, ctx: AppContext, state: dict[str, bool],
        scopes: list[str] | None, says: str) -> None:
    fake.channel("C9", **state)
    fake.scopes = scopes
    message = await subscribe(slack, fake, channel="C9")
    assert message["response_type"] == "ephemeral"
    assert says in message["text"]
    if not state.get("archived"):
        assert INVITE in message["text"]
    assert checked(fake) == ["C9"]
    assert await ctx.store.list_subscriptions() == []


async def test_a_dm_between_people_is_refused_without_an_invite_hint(
        slack: TestClient, fake: FakeSlack, ctx: AppContext) -> None:
    fake.channel("D42", found=False)  # Slack's answer for a DM the bot is not part of
    message = await subscribe(slack, fake, channel="D42")
    assert "direct message between other people" in message["text"]
    assert "/invite" not in message["text"]
    assert await ctx.store.list_subscriptions() == []


@pytest.mark.parametrize(("state", "scopes"), [
    ({}, None),  # public, the bot a member
    ({"member": False}, None),  # public, not joined: chat:write.public (the manifest's)
    ({"member": False}, ALL_SCOPES),
    ({"private": True}, ALL_SCOPES),  # private, the bot invited
], ids=["member", "public-not-member", "public-chat-write-public", "private-member"])
async def test_a_good_channel_subscribes(slack: TestClient, fake: FakeSlack, ctx: AppContext,
                                         state: dict[str, bool],
                                         scopes: list[str] | None) -> None:
    fake.channel("C1", **state)
    fake.scopes = scopes
    message = await subscribe(slack, fake)
    assert message["response_type"] == "in_channel"
    assert "Daily briefing subscribed" in message["text"]
    assert "08:30 Europe/Berlin" in message["text"]
    assert checked(fake) == ["C1"]
    sub = await ctx.store.get_subscription("slack", "C1")
    assert sub is not None and (sub.hour, sub.minute, sub.zone) == (8, 30, "Europe/Berlin")
    assert sub.created_by == ADMIN


async def test_a_missing_read_scope_is_named(slack: TestClient, fake: FakeSlack,
                                             ctx: AppContext) -> None:
    fake.script("conversations.info", "missing_scope", needed="groups:read",
                provided="commands,chat:write,chat:write.public,users:read")
    message = await subscribe(slack, fake)
    assert "`groups:read` scope" in message["text"] and "reinstall" in message["text"]
    assert await ctx.store.list_subscriptions() == []


@pytest.mark.parametrize("blip", [
    [("fatal_error", 200, {})],
    [("ratelimited", 429, {"Retry-After": "0"})] * 3,  # still limited after the 2 retries
], ids=["fatal-error", "rate-limited"])
async def test_slack_trouble_gives_no_verdict_and_subscribes(
        slack: TestClient, fake: FakeSlack, ctx: AppContext,
        blip: list[tuple[str, int, dict[str, str]]]) -> None:
    for error, status, headers in blip:
        fake.script("conversations.info", error, status=status, headers=headers)
    message = await subscribe(slack, fake)
    assert "Daily briefing subscribed" in message["text"]
    assert len(checked(fake)) == len(blip)
    assert await ctx.store.get_subscription("slack", "C1") is not None


async def test_a_non_admin_is_refused_before_any_check(slack: TestClient, fake: FakeSlack,
                                                       ctx: AppContext) -> None:
    message = await subscribe(slack, fake, user="U2")
    assert message["text"].startswith("Only admins")
    assert checked(fake) == []
    assert await ctx.store.list_subscriptions() == []


async def test_slack_unreachable_gives_no_verdict(ctx: AppContext,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a free port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctx.settings = ctx.settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr("s"),
        "slack_app_token": None, "slack_api_url": f"http://127.0.0.1:{port}/api/"})
    adapter = SlackAdapter.from_settings(ctx)
    # slack_sdk's connection retries would sleep ~3 s on the real clock; one try is enough
    adapter.client.retry_handlers = []
    assert await asyncio.wait_for(adapter.check_channel("C1"), 10) is None
    assert "conversations.info failed" in caplog.text


def test_the_manifest_grants_what_the_check_relies_on() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write.public", "channels:read", "groups:read", "im:read", "mpim:read"} <= scopes
