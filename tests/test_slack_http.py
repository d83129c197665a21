"""Slack HTTP mode: real slack-bolt behind the shared aiohttp app, a fake Slack on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.render import SHARE_ACTION
from bot.app import make_web_app
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.models import Answer, BriefingSection, Notice
from bot.platform import DeliveryError
from bot.settings import SettingsError
from handlers.registry import HANDLERS
from handlers.requests import CommandRequest
from tests.fake_slack import (
    FakeSlack,
    block_action_payload,
    form,
    signed_headers,
    slash_payload,
)
from tests.test_slack_render import assert_harmless

SECRET = "s3cr3t-signing-secret"
QUESTION = "where is the meeting planned"


def slack_ctx(ctx: AppContext, fake: FakeSlack, **extra: Any) -> AppContext:
    """The test context with Slack settings pointing at the fake."""
    update = {"slack_bot_token": SecretStr("xoxb-test"), "slack_app_token": None,
              "slack_signing_secret": SecretStr(SECRET), "slack_api_url": fake.api_url, **extra}
    ctx.settings = ctx.settings.model_copy(update=update)
    return ctx


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


async def serve_http(ctx: AppContext, fake: FakeSlack):
    adapter = SlackAdapter.from_settings(slack_ctx(ctx, fake))
    await adapter.start()
    client = TestClient(TestServer(make_web_app(ctx, [adapter]), host="127.0.0.1"))
    await client.start_server()
    return client, adapter


@pytest.fixture
async def http(ctx, fake):
    client, adapter = await serve_http(ctx, fake)
    yield client
    await client.close()
    await adapter.stop()


async def post(client: TestClient, body: str, *, secret: str = SECRET,
               timestamp: int | None = None, headers: dict[str, str] | None = None):
    return await client.post("/slack/events", data=body.encode(),
                             headers={**signed_headers(secret, body, timestamp), **(headers or {})})


async def slash(client: TestClient, fake: FakeSlack, command: str, text: str, **kw: Any):
    return await post(client, form(slash_payload(command, text,
                                                 response_url=fake.response_url())), **kw)


async def click(client: TestClient, fake: FakeSlack, button: dict[str, Any], **kw: Any):
    payload = block_action_payload(button, response_url=fake.response_url("click"))
    return await post(client, form({"payload": json.dumps(payload)}), **kw)


@contextmanager
def handler(name: str, fn: Any) -> Iterator[None]:
    """Answer command `name` with a test handler for the duration of the block."""
    original = HANDLERS.get(name)
    HANDLERS[name] = fn
    try:
        yield
    finally:
        if original is None:
            HANDLERS.pop(name, None)
        else:
            HANDLERS[name] = original


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return next(e for e in actions["elements"] if e["action_id"] == action_id)


async def test_signed_ask_is_answered_in_the_ack(http, fake):
    resp = await slash(http, fake, "/ask", QUESTION)
    assert resp.status == 200
    message = await resp.json()
    assert message["response_type"] == "ephemeral"
    assert message["text"] and "Vladivostok" in json.dumps(message)
    assert any(b["type"] == "context" and "¶" in b["elements"][0]["text"]
               for b in message["blocks"])
    assert button(message, SHARE_ACTION)
    await slash(http, fake, "/ask", "who is Tertitskiy")
    assert {c.method for c in fake.calls} == {"auth.test"}  # answers cost no API call
    assert fake.responses == []


def test_each_request_gets_its_own_client_as_bolt_builds_it(ctx, fake):
    """The adapter copies a per-workspace client instead of constructing one a request: each
    request still gets its own AsyncWebClient with exactly the attributes bolt's own
    `_init_context` gives it, and setting its token changes no other request's client."""
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest

    app, url = SlackAdapter.from_settings(slack_ctx(ctx, fake)).app, fake.response_url()

    def context(team: str) -> Any:
        req = AsyncBoltRequest(body=form({**slash_payload("/ask", "x", response_url=url),
                                          "team_id": team}),
                               headers={"content-type": "application/x-www-form-urlencoded"})
        app._init_context(req)
        return req.context

    def bolts(team: str) -> Any:
        req = AsyncBoltRequest(body=form({**slash_payload("/ask", "x", response_url=url),
                                          "team_id": team}),
                               headers={"content-type": "application/x-www-form-urlencoded"})
        AsyncApp._init_context(app, req)
        return req.context

    first, second, other = context("T1"), context("T1"), context("T2")
    clients = [first.client, second.client, other.client]
    assert len({id(c) for c in clients}) == 3 and app.client not in clients
    for ours, team in ((first, "T1"), (second, "T1"), (other, "T2")):
        theirs = bolts(team)
        assert type(ours.client) is type(theirs.client)
        assert vars(ours.client) == vars(theirs.client)
        assert ours.client.default_params == {"team_id": team}
        assert ours["logger"] is theirs["logger"] and ours["token"] == theirs["token"]
        assert ours["listener_runner"] is theirs["listener_runner"]
    assert first.client.default_params is not second.client.default_params
    assert first.client.retry_handlers is not second.client.retry_handlers
    first.client.token = "xoxb-someone-else"
    assert context("T1").client.token == "xoxb-test" and second.client.token == "xoxb-test"


async def test_empty_ask_shows_usage(http, fake):
    message = await (await slash(http, fake, "/ask", "")).json()
    assert "/who" in json.dumps(message)


@pytest.mark.parametrize("kw", [{"secret": "wrong"}, {"timestamp": int(time.time()) - 301}])
async def test_bad_signature_or_stale_timestamp_gets_401(http, fake, kw):
    resp = await slash(http, fake, "/reload", "", **kw)
    assert resp.status == 401
    assert fake.calls_to("chat.postMessage") == [] and fake.responses == []
    assert fake.calls_to("users.info") == []


async def test_retried_delivery_posts_once(http, fake):
    body = form(slash_payload("/reload", "", response_url=fake.response_url("first")))
    assert (await post(http, body)).status == 200
    retry = await post(http, body, headers={"X-Slack-Retry-Num": "1",
                                            "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status == 200 and await retry.text() == ""
    # a later command's answer arriving means the retry had its chance to (wrongly) answer
    await slash(http, fake, "/gaps", "")
    await fake.wait_for(lambda: any(k == "r1" for k, _ in fake.responses))
    assert [k for k, _ in fake.responses].count("first") == 1
    assert len(fake.calls_to("users.info")) == 2


@pytest.fixture
def reload_probe():
    """/reload answered by a probe that records the admin flag the adapter passed."""
    seen: list[bool] = []

    async def probe(req, ctx):
        seen.append(req.platform_admin)
        return Notice(title="Reloaded", text="3 documents")

    with handler("reload", probe):
        yield seen


async def test_slow_command_acks_then_answers_via_response_url(http, fake, reload_probe):
    fake.users["U1"] = {"is_admin": True}
    ack = await (await slash(http, fake, "/reload", "")).json()
    assert "Working on" in ack["text"]
    _, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert message["response_type"] == "ephemeral" and "Reloaded" in message["text"]
    assert reload_probe == [True]
    assert fake.calls_to("users.info")[0].args["user"] == "U1"


async def test_users_info_failure_means_not_admin(http, fake, reload_probe):
    fake.script("users.info", "user_not_found")
    await slash(http, fake, "/reload", "")
    _, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert "Reloaded" in message["text"] and reload_probe == [False]


async def test_share_posts_once_as_the_bot(http, fake):
    answer = await (await slash(http, fake, "/ask", QUESTION)).json()
    share = button(answer, SHARE_ACTION)
    assert (await click(http, fake, share)).status == 200
    posts = await fake.wait_for(lambda: fake.calls_to("chat.postMessage"))
    await click(http, fake, share)
    _, notice = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert "already shared" in notice["text"]
    assert len(fake.calls_to("chat.postMessage")) == 1
    post_args = posts[0].args
    assert post_args["channel"] == "C1" and posts[0].token == "xoxb-test"
    assert "Shared by <@U1>" in json.dumps(post_args["blocks"])
    assert all(b["type"] != "actions" for b in post_args["blocks"])


async def test_share_into_channel_without_the_bot_explains_invite(http, fake):
    fake.script("chat.postMessage", "not_in_channel")
    answer = await (await slash(http, fake, "/ask", QUESTION)).json()
    await click(http, fake, button(answer, SHARE_ACTION))
    _, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert "/invite @briefbot" in message["text"]


async def test_vote_click_dispatches_vote_with_the_answer(http, fake):
    votes: list[CommandRequest] = []

    async def probe(req, ctx):
        votes.append(req)
        return Notice(text="Thanks for the feedback.")

    with handler("vote", probe):
        answer = await (await slash(http, fake, "/ask", QUESTION)).json()
        await click(http, fake, button(answer, "briefbot_vote_down"))
        _, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert message["response_type"] == "ephemeral" and message["replace_original"] is False
    [vote] = votes
    share = json.loads(button(answer, SHARE_ACTION)["value"])
    assert vote.text == "down" and vote.user_id == "U1" and vote.channel_id == "C1"
    assert vote.options["answer_id"] == share["id"] and vote.options["question"] == QUESTION
    assert vote.options["intent"]
    assert all({"document", "paragraph"} <= set(c)
               for c in json.loads(vote.options["citations"]))


async def test_public_notice_is_shown_in_channel(http, fake):
    async def public(req, ctx):
        return Notice(text="Daily briefing at 08:30 Europe/Berlin for this channel.",
                      public=True)

    with handler("brief", public):
        message = await (await slash(http, fake, "/brief", "status")).json()
    assert message["response_type"] == "in_channel"


async def test_seed_with_pings_is_shown_harmlessly(settings, fake, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "pings.txt").write_text(
        "Harbour news\n\n"
        "The harbour master told the crowd <!channel> that the ferry to Vladivostok is "
        "cancelled. He added @everyone and <@U999> must wait for the next ferry.\n",
        encoding="utf-8")
    ctx = AppContext(settings=settings.model_copy(update={"seeds_dir": seeds}),
                     index=IndexHolder(build_index(seeds), version=1))
    client, adapter = await serve_http(ctx, fake)
    try:
        message = await (await slash(client, fake, "/ask", "@here why is the ferry cancelled"
                                     " <!everyone>")).json()
        assert "ferry" in message["text"]
        assert "&lt;!channel&gt;" in message["text"] or "@\u2060everyone" in message["text"]
        assert_harmless(message)
        await click(client, fake, button(message, SHARE_ACTION))
        posted = (await fake.wait_for(lambda: fake.calls_to("chat.postMessage")))[0].args
        assert_harmless({"text": posted["text"], "blocks": posted["blocks"]})
    finally:
        await client.close()
        await adapter.stop()


async def test_post_briefing_errors(ctx, fake):
    adapter = SlackAdapter.from_settings(slack_ctx(ctx, fake))
    briefing = ctx.index.current.briefing()
    briefing.sections.append(BriefingSection(heading="<!channel>", lines=["@here"]))
    fake.script("chat.postMessage", status=429, headers={"Retry-After": "0"})
    await adapter.post_briefing("C1", briefing)  # retried after the rate limit
    assert len(fake.calls_to("chat.postMessage")) == 2
    fake.script("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryError, match="/invite") as err:
        await adapter.post_briefing("C404", briefing)
    assert err.value.permanent
    fake.script("chat.postMessage", "fatal_error")
    with pytest.raises(DeliveryError) as err:
        await adapter.post_briefing("C1", briefing)
    assert not err.value.permanent


@pytest.mark.parametrize(("update", "variable"), [
    ({"slack_bot_token": None}, "SLACK_BOT_TOKEN"),
    ({"slack_bot_token": SecretStr("xoxp-user")}, "SLACK_BOT_TOKEN"),
    ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET"),
    ({"slack_app_token": SecretStr("xoxb-wrong")}, "SLACK_APP_TOKEN"),
])
def test_missing_or_malformed_setting_names_the_variable(ctx, update, variable):
    ctx.settings = ctx.settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
        "slack_app_token": None, **update})
    with pytest.raises(SettingsError, match=f"^{variable}: ") as err:
        SlackAdapter.from_settings(ctx)
    assert "\n" not in str(err.value)


async def test_rejected_token_stops_start_up(ctx, fake):
    fake.script("auth.test", "invalid_auth")
    adapter = SlackAdapter.from_settings(slack_ctx(ctx, fake))
    with pytest.raises(SettingsError, match=r"SLACK_BOT_TOKEN.*invalid_auth"):
        await adapter.start()


def test_answer_type_is_what_share_posts():
    assert Answer.model_fields["shared_by"]  # share sets it; the renderer names the sharer
