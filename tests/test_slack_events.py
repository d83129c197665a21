"""Slack conversations (issue 13): mentions, DMs and thread follow-ups over the Events API,
pushed over Socket Mode and POSTed signed over HTTP, answered against the fake Slack."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.render import SHARE_ACTION, VOTE_UP_ACTION
from bot.adapters.slack.requests import incoming, plain_text
from bot.context import AppContext
from tests.conftest import ROOT
from tests.fake_slack import (
    FakeSlack,
    direct_message,
    event_callback,
    json_headers,
    mention,
)
from tests.test_slack_http import (
    QUESTION,
    SECRET,
    button,
    click,
    handler,
    serve_http,
    slack_ctx,
)

_stamps = itertools.count(1)


def ts() -> str:
    """A fresh message timestamp, as Slack writes them."""
    return f"{int(time.time())}.{next(_stamps):06d}"


def actions(message: dict[str, Any]) -> list[str]:
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def blocks_text(message: dict[str, Any]) -> str:
    blocks = message["blocks"]
    return blocks if isinstance(blocks, str) else json.dumps(blocks, ensure_ascii=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def socket_bot(ctx: AppContext, fake: FakeSlack) -> AsyncIterator[SlackAdapter]:
    adapter = SlackAdapter.from_settings(
        slack_ctx(ctx, fake, slack_app_token=SecretStr("xapp-test"), slack_signing_secret=None))
    await adapter.start()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def http(ctx: AppContext, fake: FakeSlack) -> AsyncIterator[TestClient]:
    client, adapter = await serve_http(ctx, fake)
    yield client
    await client.close()
    await adapter.stop()


async def post_event(client: TestClient, body: dict[str, Any], **headers: str):
    raw = json.dumps(body)
    return await client.post("/slack/events", data=raw.encode(),
                             headers={**json_headers(SECRET, raw), **headers})


# --- answered where it was asked -----------------------------------------------------------

async def test_a_mention_over_socket_mode_is_answered_in_its_thread(socket_bot, fake):
    asked = ts()
    envelope = await fake.push("events_api", event_callback(mention(QUESTION, ts=asked)))
    assert (await fake.ack_for(envelope)).get("payload") is None  # acked empty, at once
    reply = await fake.post_in(channel="C1", thread_ts=asked)
    assert "Vladivostok" in reply["text"]
    assert "¶" in blocks_text(reply)  # cited, as /ask
    assert actions(reply) == ["briefbot_vote_up", "briefbot_vote_down"]  # no Share in public
    assert SHARE_ACTION not in blocks_text(reply)


async def test_a_mention_over_http_is_answered_in_its_thread(http, fake):
    asked = ts()
    resp = await post_event(http, event_callback(mention(QUESTION, ts=asked)))
    assert resp.status == 200
    reply = await fake.post_in(channel="C1", thread_ts=asked)
    assert "Vladivostok" in reply["text"]
    assert VOTE_UP_ACTION in actions(reply)


async def test_the_vote_buttons_of_a_thread_answer_work(http, fake):
    asked = ts()
    await post_event(http, event_callback(mention(QUESTION, ts=asked)))
    reply = await fake.post_in(thread_ts=asked)
    blocks = json.loads(reply["blocks"]) if isinstance(reply["blocks"], str) else reply["blocks"]
    resp = await click(http, fake, button({"blocks": blocks}, VOTE_UP_ACTION))
    assert resp.status == 200
    _, answer = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert answer["response_type"] == "ephemeral"  # told to the voter only


async def test_a_mention_inside_a_thread_answers_in_that_thread(http, fake):
    root, asked = ts(), ts()
    await post_event(http, event_callback(mention(QUESTION, ts=asked, thread_ts=root)))
    reply = await fake.post_in(channel="C1", thread_ts=root)
    assert "Vladivostok" in reply["text"]


async def test_a_direct_message_is_answered_in_the_dm(socket_bot, fake):
    await fake.push("events_api", event_callback(direct_message(QUESTION, ts=ts())))
    reply = await fake.post_in(channel="D1")
    assert "thread_ts" not in reply
    assert "Vladivostok" in reply["text"]


async def test_an_empty_mention_gets_the_chat_usage(http, fake):
    asked = ts()
    await post_event(http, event_callback(mention("", ts=asked)))
    reply = await fake.post_in(channel="C1", thread_ts=asked)
    assert "Mention me with a question" in reply["text"]


# --- follow-ups ----------------------------------------------------------------------------

async def test_a_follow_up_in_the_thread_is_read_in_context(http, fake):
    root = ts()
    await post_event(http, event_callback(mention("who is Tertitskiy", ts=root)))
    first = await fake.post_in(channel="C1", thread_ts=root)
    assert "Fyodor Tertitskiy" in first["text"]
    await post_event(http, event_callback(mention("what did he say?", ts=ts(), thread_ts=root)))
    second = await fake.wait_for(lambda: len(fake.posts(thread_ts=root)) == 2
                                 and fake.posts(thread_ts=root)[1])
    assert "what did Fyodor Tertitskiy say?" in blocks_text(second)  # the question as read
    assert "Tertitskiy said" in second["text"]


async def test_a_follow_up_in_a_dm_is_read_in_context(socket_bot, fake):
    await fake.push("events_api", event_callback(direct_message("who is Tertitskiy", ts=ts())))
    await fake.post_in(channel="D1")
    await fake.push("events_api", event_callback(direct_message("what did he say?", ts=ts())))
    second = await fake.wait_for(lambda: len(fake.posts(channel="D1")) == 2
                                 and fake.posts(channel="D1")[1])
    assert "what did Fyodor Tertitskiy say?" in blocks_text(second)


async def test_other_threads_do_not_share_the_context(http, fake):
    first, other = ts(), ts()
    await post_event(http, event_callback(mention("who is Tertitskiy", ts=first)))
    await fake.post_in(thread_ts=first)
    await post_event(http, event_callback(mention("what did he say?", ts=other)))
    reply = await fake.post_in(thread_ts=other)
    assert "Fyodor Tertitskiy say" not in blocks_text(reply)


# --- once, and never to a bot ----------------------------------------------------------------

async def marker(fake: FakeSlack, send) -> None:
    """Send a later event and wait for its reply: whatever came before was handled by then
    (the bot answers events in order of arrival, one task each; no sleeping)."""
    asked = ts()
    await send(event_callback(mention("where is the meeting", ts=asked, channel="CMARK")))
    await fake.post_in(channel="CMARK", thread_ts=asked)


async def test_a_retried_or_redelivered_event_is_answered_once_over_http(http, fake):
    asked = ts()
    body = event_callback(mention(QUESTION, ts=asked), event_id="EvSAME")
    await post_event(http, body)
    await fake.post_in(thread_ts=asked)
    retry = await post_event(http, body, **{"X-Slack-Retry-Num": "1",
                                            "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status == 200
    await post_event(http, body)  # the same event id again without the header (a replica)
    await marker(fake, lambda b: post_event(http, b))
    assert len(fake.posts(thread_ts=asked)) == 1


async def test_a_retried_envelope_is_answered_once_over_socket_mode(socket_bot, fake):
    asked = ts()
    body = event_callback(mention(QUESTION, ts=asked), event_id="EvSOCK")
    await fake.push("events_api", body)
    await fake.post_in(thread_ts=asked)
    retry = await fake.push("events_api", body, retry_attempt=1)
    await fake.ack_for(retry)
    await marker(fake, lambda b: fake.push("events_api", b))
    assert len(fake.posts(thread_ts=asked)) == 1


@pytest.mark.parametrize("event", [
    direct_message("who is Tertitskiy", ts="1.1", user="UBOT"),            # its own message
    direct_message("who is Tertitskiy", ts="1.2", bot_id="B999"),           # another bot
    direct_message("who is Tertitskiy", ts="1.3", subtype="bot_message"),
    direct_message("who is Tertitskiy", ts="1.4", subtype="message_changed"),
    direct_message("", ts="1.5", subtype="message_deleted"),
    {**direct_message("who is Tertitskiy", ts="1.6"), "channel_type": "channel",
     "channel": "C1"},                                                       # no mention
], ids=["itself", "a-bot", "bot_message", "edited", "deleted", "channel-message"])
async def test_no_reply_to_bots_edits_deletions(http, fake, event):
    await post_event(http, event_callback(event))
    await marker(fake, lambda b: post_event(http, b))
    assert fake.posts(channel=event["channel"]) == []


async def test_a_failing_answer_posts_the_apology_in_the_thread(http, fake):
    async def broken(req, ctx):
        raise RuntimeError("boom")

    asked = ts()
    with handler("message", broken):
        await post_event(http, event_callback(mention(QUESTION, ts=asked)))
        reply = await fake.post_in(thread_ts=asked)
    assert "Sorry" in reply["text"] or "sorry" in reply["text"]
    assert "boom" not in json.dumps(reply)


async def test_a_refused_post_is_logged_not_raised(http, fake, caplog):
    fake.script("chat.postMessage", "not_in_channel")
    asked = ts()
    await post_event(http, event_callback(mention(QUESTION, ts=asked)))
    await fake.wait_for(lambda: fake.calls_to("chat.postMessage"))
    await marker(fake, lambda b: post_event(http, b))
    assert any(getattr(r, "error", None) == "not_in_channel" for r in caplog.records)


# --- the translator (pure) ---------------------------------------------------------------------

def test_keys_of_a_thread_and_a_dm():
    thread = incoming(event_callback(mention("hi", ts="5.0", thread_ts="4.0"), event_id="Ev1"),
                      bot_user_id="UBOT")
    assert thread is not None
    assert thread.request.conversation == thread.request.remember_as == "slack:T1:C1:4.0"
    assert thread.request.message_key == "Ev1" and thread.thread_ts == "4.0"
    top = incoming(event_callback(mention("hi", ts="5.0")), bot_user_id="UBOT")
    assert top is not None and top.request.conversation == "slack:T1:C1:5.0"
    body = event_callback(direct_message("hi", ts="6.0"))
    del body["event_id"]
    dm = incoming(body, bot_user_id="UBOT")
    assert dm is not None and dm.request.conversation == "slack:T1:dm:D1"
    assert dm.request.message_key == "slack:D1:6.0" and dm.thread_ts is None


def test_a_mention_in_a_dm_is_left_to_the_dm_message():
    assert incoming(event_callback(mention("hi", ts="1.0", channel="D1")),
                    bot_user_id="UBOT") is None


def test_the_text_as_typed():
    assert plain_text("<@UBOT> who is <@U2|ann> in <#C1|general>? &lt;b&gt; &amp; "
                      "<https://x.example/a|this> <!here>", "UBOT") == (
        "who is @U2 in #general? <b> & this")


def test_the_manifest_subscribes_to_the_events_with_their_scopes():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "im:history", "im:read", "chat:write"} <= scopes
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] and app_home["messages_tab_enabled"]


async def test_the_request_url_challenge_is_answered(http):
    resp = await post_event(http, {"token": "legacy", "challenge": "c-123",
                                   "type": "url_verification"})
    assert resp.status == 200
    assert "c-123" in await resp.text()
