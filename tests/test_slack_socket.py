"""Slack Socket Mode: slack-bolt's aiohttp Socket Mode client against the fake's websocket."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.render import SHARE_ACTION
from tests.fake_slack import FakeSlack, block_action_payload, slash_payload
from tests.test_slack_http import QUESTION, button, reload_probe, slack_ctx

__all__ = ["reload_probe"]  # a fixture shared with the HTTP tests


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def socket_bot(ctx, fake):
    adapter = SlackAdapter.from_settings(
        slack_ctx(ctx, fake, slack_app_token=SecretStr("xapp-test"), slack_signing_secret=None))
    await adapter.start()
    yield adapter
    await adapter.stop()


async def test_connects_with_the_app_token_through_slack_api_url(socket_bot, fake):
    opened = fake.calls_to("apps.connections.open")
    assert [c.token for c in opened] == ["xapp-test"]


async def test_ask_is_answered_in_the_ack(socket_bot, fake):
    envelope = await fake.push("slash_commands", slash_payload(
        "/ask", QUESTION, response_url=fake.response_url()))
    ack = await fake.ack_for(envelope)
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "Vladivostok" in ack["payload"]["text"]
    assert button(ack["payload"], SHARE_ACTION)
    assert fake.responses == []


async def test_slow_command_is_acked_then_answered_via_response_url(socket_bot, fake,
                                                                   reload_probe):
    envelope = await fake.push("slash_commands", slash_payload(
        "/reload", "", response_url=fake.response_url("slow")))
    ack = await fake.ack_for(envelope)
    assert "Working on" in ack["payload"]["text"]
    key, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert key == "slow" and message["response_type"] == "ephemeral"
    assert "Reloaded" in message["text"] and reload_probe == [False]
    assert fake.calls_to("users.info")


async def test_share_button_posts_once(socket_bot, fake):
    envelope = await fake.push("slash_commands", slash_payload(
        "/ask", QUESTION, response_url=fake.response_url()))
    share = button((await fake.ack_for(envelope))["payload"], SHARE_ACTION)
    for _ in range(2):
        click = await fake.push("interactive", block_action_payload(
            share, response_url=fake.response_url("click"), user_id="U7"))
        await fake.ack_for(click)
    posts = await fake.wait_for(lambda: fake.calls_to("chat.postMessage"))
    _, notice = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert "already shared" in notice["text"]
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert "Shared by <@U7>" in json.dumps(posts[0].args["blocks"])
