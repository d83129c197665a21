"""Conversations on Discord (issue 13), over real sockets against the fake Discord: mentions
are answered as replies that ping no one, DMs in the DM, replies to an answer follow up on
it; bots, webhooks, system messages, edits and messages not for the bot get nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter, messages
from bot.adapters.discord.client import INTENTS
from bot.adapters.discord.requests import without_mention
from bot.context import AppContext
from bot.models import Result
from handlers.conversation import MessageRequest
from handlers.errors import APOLOGY
from handlers.registry import HANDLERS, add_after_hook
from handlers.requests import CommandRequest
from tests.fake_discord import (
    APP_ID,
    CHANNEL_ID,
    DIRECT_MESSAGES,
    DM_CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    GUILD_MESSAGES,
    GUILDS,
    MENTION,
    MESSAGE_CONTENT,
    TIMESTAMP,
    TOKEN,
    Call,
    FakeDiscord,
    Member,
    running,
)
from tests.logwatch import LogWatch, watching

SEEN: list[CommandRequest] = []
add_after_hook(lambda req, *_: SEEN.append(req) if req.platform == "discord" else None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running() as fake:
        yield fake


@pytest.fixture
def watch() -> Iterator[LogWatch]:
    with watching() as handler:
        yield handler


@pytest.fixture
async def bot(ctx: AppContext, fake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    ctx.settings = ctx.settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url})
    SEEN.clear()
    adapter = DiscordAdapter.from_settings(ctx)
    await asyncio.wait_for(adapter.start(), 5)
    await fake.wait_for(lambda c: c.method == "SENT" and c.path == "READY")
    yield adapter
    await asyncio.wait_for(adapter.stop(), 10)


def answer_to(fake: FakeDiscord, message: dict[str, Any]) -> dict[str, Any]:
    """The bot's (last) message replying to `message`, as Discord keeps it."""
    return [m for m in fake.messages.values() if m["author"]["id"] == APP_ID
            and (m.get("message_reference") or {}).get("message_id") == message["id"]][-1]


def shown(call: Call) -> str:
    return " ".join(f"{e.get('title', '')} {e.get('description', '')}"
                    for e in call.body["embeds"])


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message["components"] for b in row["components"]]


def posts(fake: FakeDiscord) -> list[Call]:
    return fake.posts_in(CHANNEL_ID) + fake.posts_in(DM_CHANNEL_ID)


def requests() -> list[MessageRequest]:
    return [r for r in SEEN if isinstance(r, MessageRequest)]


async def test_a_mention_is_answered_as_a_reply_that_pings_no_one(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    expected = bot.ctx.index.current.answer("who is Tertitskiy")
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    [reply] = await fake.wait_replies(asked)
    assert reply.path == f"/channels/{CHANNEL_ID}/messages" and reply.status == 200
    assert reply.body["message_reference"]["message_id"] in (asked["id"], int(asked["id"]))
    assert reply.body["allowed_mentions"] == {"parse": []}  # nobody, not even the asker
    embed = reply.body["embeds"][0]
    assert embed["title"] == expected.title
    assert embed["description"].split()[:8] == expected.text.split()[:8]
    assert any(f["name"].startswith("[1] ") for f in embed["fields"])  # citations
    ids = custom_ids(answer_to(fake, asked))  # 👍 / 👎 as on /ask; no Share: it is public
    assert [i.split(":")[:3] for i in ids] == [["bb", "vote", "up"], ["bb", "vote", "down"]]
    [req] = requests()
    assert (req.command, req.text, req.user_id, req.user_name) == (
        "message", "who is Tertitskiy", Member().id, "Alice")
    assert (req.channel_id, req.workspace_id, req.message_key) == (
        CHANNEL_ID, GUILD_ID, f"discord:{asked['id']}")
    assert req.conversation == req.remember_as == f"discord:msg:{asked['id']}"


async def test_a_dm_is_answered_in_the_dm(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    asked = await fake.post("who is Tertitskiy", dm=True)
    [reply] = await fake.wait_for(lambda c: c.path == f"/channels/{DM_CHANNEL_ID}/messages")
    assert reply.status == 200 and "message_reference" not in reply.body
    assert reply.body["allowed_mentions"] == {"parse": []}
    assert "Tertitskiy" in shown(reply)
    [req] = requests()
    assert req.workspace_id is None and req.channel_id == DM_CHANNEL_ID
    assert req.conversation == req.remember_as == f"discord:dm:{DM_CHANNEL_ID}"
    assert req.message_key == f"discord:{asked['id']}"
    # The DM is one conversation: the next message follows up without replying to anything.
    await fake.post("what did he say?", dm=True)
    await fake.wait_for(lambda c: c.path == f"/channels/{DM_CHANNEL_ID}/messages", count=2)
    assert requests()[-1].conversation == f"discord:dm:{DM_CHANNEL_ID}"
    expected = bot.ctx.index.current.answer("what did Fyodor Tertitskiy say?")
    followup = fake.posts_in(DM_CHANNEL_ID)[-1]
    assert followup.body["embeds"][0]["description"].split()[:8] == expected.text.split()[:8]
    assert posts(fake) == fake.posts_in(DM_CHANNEL_ID)  # nothing in the guild channel


async def test_a_reply_to_an_answer_follows_up_on_it(bot: DiscordAdapter,
                                                     fake: FakeDiscord) -> None:
    engine = bot.ctx.index.current
    first = await fake.post(f"{MENTION} who is Tertitskiy")
    await fake.wait_replies(first)
    # A reply that pings the bot mentions it without typing its name.
    second = await fake.post("what did he say?", reply_to=answer_to(fake, first))
    [reply] = await fake.wait_replies(second)
    quotes = engine.answer("what did Fyodor Tertitskiy say?")
    assert reply.body["embeds"][0]["description"].split()[:8] == quotes.text.split()[:8]
    assert "Nothing will happen unless Xi Jinping" in shown(reply)
    req = requests()[-1]
    assert (req.text, req.conversation, req.remember_as) == (
        "what did he say?", f"discord:msg:{first['id']}", f"discord:msg:{second['id']}")
    # The chain goes on: a reply to that answer continues from the follow-up.
    third = await fake.post(f"{MENTION} who is he, again?", reply_to=answer_to(fake, second))
    [reply] = await fake.wait_replies(third)
    card = engine.answer("who is Fyodor Tertitskiy, again?")
    assert reply.body["embeds"][0]["title"] == card.title == "Fyodor Tertitskiy"
    assert reply.body["embeds"][0]["description"].split()[:8] == card.text.split()[:8]
    assert requests()[-1].conversation == f"discord:msg:{second['id']}"
    # Outside the chain "he" is nobody in particular.
    fresh = await fake.post(f"{MENTION} what did he say?")
    [reply] = await fake.wait_replies(fresh)
    assert "Nothing will happen unless Xi Jinping" not in shown(reply)


@pytest.mark.parametrize("resolved", ["full", "shallow", "missing"])
async def test_a_reply_to_any_message_of_the_chain_continues_it(
        bot: DiscordAdapter, fake: FakeDiscord, watch: LogWatch, resolved: str) -> None:
    """Issue 19: the reply references the bot's answer by its id. However much of the
    replied-to message Discord resolves (with its own reference, without it, or nothing,
    which it does when it could not fetch it), the conversation goes on."""
    fake.resolve_replies = resolved
    engine = bot.ctx.index.current
    first = await fake.post(f"{MENTION} who is Rüdiger Frank")
    await fake.wait_replies(first)
    answer = answer_to(fake, first)
    await watch.kept_for_replies(answer)
    # A reply to the answer, the mention left on (Discord's default): not typed, but a ping.
    second = await fake.post("what did he say?", reply_to=answer)
    [reply] = await fake.wait_replies(second)
    quotes = engine.answer("what did Rüdiger Frank say?")
    assert "Who do you mean" not in shown(reply)
    assert reply.body["embeds"][0]["title"] == "Rüdiger Frank"
    assert reply.body["embeds"][0]["description"].split()[:8] == quotes.text.split()[:8]
    # A reply to the user's own follow-up, not to the bot's answer, continues it too ...
    third = await fake.post(f"{MENTION} who is he?", reply_to=second)
    [card] = await fake.wait_replies(third)
    assert card.body["embeds"][0]["title"] == "Rüdiger Frank"
    # ... and so does a reply to the second answer.
    await watch.kept_for_replies(answer_to(fake, second))
    fourth = await fake.post("who is he?", reply_to=answer_to(fake, second))
    [card] = await fake.wait_replies(fourth)
    assert card.body["embeds"][0]["title"] == "Rüdiger Frank"
    assert [r.text for r in requests()] == [
        "who is Rüdiger Frank", "what did he say?", "who is he?", "who is he?"]


async def test_help_in_a_chain_keeps_the_conversation_for_the_reply_to_it(
        bot: DiscordAdapter, fake: FakeDiscord, watch: LogWatch) -> None:
    fake.resolve_replies = "missing"
    first = await fake.post(f"{MENTION} who is Rüdiger Frank")
    await fake.wait_replies(first)
    await watch.kept_for_replies(answer_to(fake, first))
    helped = await fake.post("help", reply_to=answer_to(fake, first))
    [usage] = await fake.wait_replies(helped)
    assert "Mention me with a question" in shown(usage)
    await watch.kept_for_replies(answer_to(fake, helped))
    again = await fake.post("what did he say?", reply_to=answer_to(fake, helped))
    [reply] = await fake.wait_replies(again)
    assert reply.body["embeds"][0]["title"] == "Rüdiger Frank"


async def test_a_mention_replying_to_a_question_continues_its_conversation(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    first = await fake.post(f"{MENTION} who is Tertitskiy")
    await fake.wait_replies(first)
    other = Member(id="400000000000000009", name="bob", display="Bob")
    again = await fake.post(f"{MENTION} what did he say?", reply_to=first, member=other)
    [reply] = await fake.wait_replies(again)
    assert "Nothing will happen unless Xi Jinping" in shown(reply)
    assert requests()[-1].conversation == f"discord:msg:{first['id']}"


async def test_messages_not_for_the_bot_get_no_reply(bot: DiscordAdapter,
                                                     fake: FakeDiscord) -> None:
    answered = await fake.post(f"{MENTION} who is Tertitskiy")
    await fake.wait_replies(answered)  # and the bot's own reply came back over the gateway
    await fake.wait_for(lambda c: c.method == "SENT" and c.path == "MESSAGE_CREATE"
                        and c.body["id"] == answer_to(fake, answered)["id"])
    ignored = [
        await fake.post(f"{MENTION} who is Tertitskiy", bot=True),  # another bot
        await fake.post(f"{MENTION} who is Tertitskiy", webhook=True),
        await fake.post(f"{MENTION} who is Tertitskiy", kind=7),  # a member joined
        await fake.post("who is Tertitskiy"),  # in the channel, not addressed to the bot
        await fake.post("who is Tertitskiy", reply_to=answer_to(fake, answered), ping=False),
    ]
    edited = {**answered, "content": f"{MENTION} who is Rudiger Frank",
              "edited_timestamp": TIMESTAMP}
    await fake.dispatch("MESSAGE_UPDATE", edited)
    # Messages are handled in order and one not for the bot is dropped before anything is
    # awaited, so once the next one is answered, all of the above were passed over.
    last = await fake.post(f"{MENTION} who is Rudiger Frank")
    await fake.wait_replies(last)
    assert posts(fake) == fake.replies_to(answered) + fake.replies_to(last)
    assert [r.text for r in requests()] == ["who is Tertitskiy", "who is Rudiger Frank"]
    assert all(fake.replies_to(m) == [] for m in ignored)
    withheld = [c for c in fake.calls if c.method == "SENT" and c.path == "MESSAGE_CREATE"
                and c.body["id"] == ignored[-1]["id"]]
    assert withheld  # it reached the bot, with its text withheld (no message-content intent)


async def test_a_channel_message_without_the_mention_is_ignored_even_with_its_text(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.withhold_content = False  # as if Discord sent every message's text
    ignored = await fake.post("who is Tertitskiy")
    to_someone = await fake.post("<@400000000000000009> who is Tertitskiy")
    last = await fake.post(f"{MENTION} who is Rudiger Frank")
    await fake.wait_replies(last)
    assert fake.replies_to(ignored) == fake.replies_to(to_someone) == []
    assert len(posts(fake)) == 1


async def test_a_redelivered_message_is_answered_once(bot: DiscordAdapter,
                                                      fake: FakeDiscord) -> None:
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    await fake.wait_replies(asked)
    await fake.dispatch("MESSAGE_CREATE", asked)  # e.g. replayed after a resume
    last = await fake.post(f"{MENTION} help")
    [usage] = await fake.wait_replies(last)
    assert "Mention me with a question" in shown(usage)
    assert len(fake.replies_to(asked)) == 1


async def test_the_gateway_intents_ask_for_no_message_content(bot: DiscordAdapter,
                                                              fake: FakeDiscord) -> None:
    [identify] = fake.find(lambda c: c.path == "IDENTIFY")
    intents = identify.body["d"]["intents"]
    assert intents & (GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES) == (
        GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES)
    assert not intents & MESSAGE_CONTENT
    assert not INTENTS.message_content and not INTENTS.members and not INTENTS.presences
    assert bot.client.intents == INTENTS


async def test_a_user_facing_error_is_posted_as_its_sentence(bot: DiscordAdapter,
                                                             fake: FakeDiscord) -> None:
    asked = await fake.post(f"{MENTION} " + "why " * 200)
    [reply] = await fake.wait_replies(asked)
    assert "the limit is 500" in shown(reply)
    assert reply.body["allowed_mentions"] == {"parse": []}


async def test_a_failure_is_logged_and_apologised_for(
        bot: DiscordAdapter, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(req: CommandRequest, ctx: AppContext) -> Result:
        raise RuntimeError("the engine fell over")

    monkeypatch.setitem(HANDLERS, "message", broken)
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    [reply] = await fake.wait_replies(asked)
    assert APOLOGY in shown(reply) and "fell over" not in shown(reply)
    assert any(r.exc_info and "fell over" in str(r.exc_info[1]) for r in caplog.records)

    async def unclaimable(req: MessageRequest, ctx: AppContext) -> Result | None:
        raise OSError("the store is down")  # the claim, before dispatch's own error path

    monkeypatch.setattr(messages, "converse", unclaimable)
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    [reply] = await fake.wait_replies(asked)
    assert APOLOGY in shown(reply)
    [failed] = [r for r in caplog.records if r.getMessage() == "discord message failed"]
    assert failed.levelno == logging.ERROR and "store is down" in str(failed.exc_info[1])
    assert getattr(failed, "discord_message", None) == int(asked["id"])


async def test_a_refused_reply_is_logged_and_the_bot_answers_on(
        bot: DiscordAdapter, fake: FakeDiscord, caplog: pytest.LogCaptureFixture) -> None:
    fake.forbidden_channels.add(CHANNEL_ID)
    refused = await fake.post(f"{MENTION} who is Tertitskiy")
    [call] = await fake.wait_for(lambda c: c.path == f"/channels/{CHANNEL_ID}/messages")
    assert call.status == 403
    fake.forbidden_channels.clear()
    asked = await fake.post(f"{MENTION} who is Rudiger Frank")
    await fake.wait_replies(asked)
    [warning] = [r for r in caplog.records if "refused the reply" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "403" in warning.getMessage()
    assert getattr(warning, "channel", None) == CHANNEL_ID
    assert len(fake.posts_in(CHANNEL_ID)) == 2 and fake.replies_to(refused)[0].status == 403


async def test_without_read_message_history_the_answer_is_posted_without_the_reply(
        bot: DiscordAdapter, fake: FakeDiscord, caplog: pytest.LogCaptureFixture,
        watch: LogWatch) -> None:
    fake.no_history_channels.add(CHANNEL_ID)
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    refused, posted = await fake.wait_for(
        lambda c: c.path == f"/channels/{CHANNEL_ID}/messages", count=2)
    assert refused.status == 400 and fake.replies(refused, asked)
    assert posted.status == 200 and "message_reference" not in posted.body
    assert posted.body["allowed_mentions"] == {"parse": []} and "Tertitskiy" in shown(posted)
    [warning] = [r for r in caplog.records if "Read Message History" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    # Nothing links that answer to the question, yet a reply to it continues the conversation.
    fake.no_history_channels.clear()
    [answer] = [m for m in fake.messages.values() if m["author"]["id"] == APP_ID]
    assert "message_reference" not in answer
    await watch.kept_for_replies(answer)
    followup = await fake.post("what did he say?", reply_to=answer)
    [reply] = await fake.wait_replies(followup)
    assert "Nothing will happen unless Xi Jinping" in shown(reply)


async def test_the_vote_buttons_under_a_reply_work(bot: DiscordAdapter,
                                                  fake: FakeDiscord) -> None:
    asked = await fake.post(f"{MENTION} who is Tertitskiy")
    await fake.wait_replies(asked)
    answer = answer_to(fake, asked)
    click = await fake.click(answer, custom_ids(answer)[0])
    [callback] = await fake.wait_reply(click)
    assert callback.body["data"]["flags"] & EPHEMERAL
    vote = SEEN[-1]
    assert (vote.command, vote.text, vote.options["question"]) == ("vote", "up",
                                                                   "who is Tertitskiy")


def test_only_the_bots_own_mention_is_taken_out() -> None:
    bot_id = int(APP_ID)
    assert without_mention(f"<@{bot_id}> who is  X", bot_id) == "who is X"
    assert without_mention(f"who is X <@!{bot_id}>?", bot_id) == "who is X ?"
    assert without_mention("<@123> who is X", bot_id) == "<@123> who is X"

