"""Round trips: the real discord.py client against the fake Discord, over real sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter, discord_token
from bot.adapters.discord.render import render_messages
from bot.context import AppContext
from bot.models import Answer, Briefing, BriefingSection, Notice, Result
from bot.platform import DeliveryError, PlatformAdapter
from bot.settings import SettingsError
from bot.store import Store
from handlers.registry import HANDLERS, add_after_hook
from handlers.requests import CommandRequest
from tests.fake_discord import (
    APP_ID,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    MANAGE_GUILD,
    TOKEN,
    VIEW_CHANNEL,
    FakeDiscord,
    Member,
    running,
)

SEEN: list[CommandRequest] = []
add_after_hook(lambda req, *_: SEEN.append(req) if req.platform == "discord" else None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running() as fake:
        yield fake


@pytest.fixture
def dctx(ctx: AppContext, fake: FakeDiscord) -> AppContext:
    ctx.settings = ctx.settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url})
    return ctx


async def connect(ctx: AppContext, fake: FakeDiscord) -> DiscordAdapter:
    adapter = DiscordAdapter.from_settings(ctx)
    await asyncio.wait_for(adapter.start(), 5)
    await fake.wait_for(lambda c: c.method == "SENT" and c.path == "READY")
    return adapter


@pytest.fixture
async def bot(dctx: AppContext, fake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    SEEN.clear()
    adapter = await connect(dctx, fake)
    yield adapter
    await asyncio.wait_for(adapter.stop(), 10)


def callback(fake: FakeDiscord, interaction: dict[str, Any]) -> dict[str, Any]:
    [call] = [c for c in fake.for_interaction(interaction) if c.path.endswith("/callback")]
    return call.body


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message["components"] for b in row["components"]]


async def ask(fake: FakeDiscord, question: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send /ask; return the interaction and the message the callback created."""
    interaction = await fake.command("ask", {"question": question})
    await fake.wait_reply(interaction)
    body = callback(fake, interaction)
    [message] = [m for m in fake.messages.values()
                 if m.get("interaction_token") == interaction["token"]]
    assert body["type"] == 4
    return interaction, message


async def test_ask_is_answered_through_the_callback_without_mentions(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    expected = bot.ctx.index.current.answer("who is Tertitskiy")
    interaction, message = await ask(fake, "who is Tertitskiy")
    data = callback(fake, interaction)["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    assert expected.text.split()[:5] == data["embeds"][0]["description"].split()[:5]
    ids = custom_ids(message)
    assert ids[0].startswith("bb:share:ask:") and ids[0].endswith(":who is Tertitskiy")
    assert ids[1].startswith("bb:vote:up:") and ids[2].startswith("bb:vote:down:")
    [req] = SEEN
    assert (req.command, req.text, req.platform) == ("ask", "who is Tertitskiy", "discord")
    assert (req.user_id, req.user_name, req.channel_id, req.workspace_id) == (
        Member().id, "Alice", CHANNEL_ID, GUILD_ID)
    assert not req.platform_admin and not req.can_manage_channel
    assert len(fake.for_interaction(interaction)) == 1  # answered once, nothing else


async def test_mentions_in_the_question_ping_no_one(bot: DiscordAdapter,
                                                    fake: FakeDiscord) -> None:
    interaction, _ = await ask(fake, "@everyone <@&123> who is Tertitskiy")
    assert callback(fake, interaction)["data"]["allowed_mentions"] == {"parse": []}


async def test_autocomplete_offers_matching_people(bot: DiscordAdapter,
                                                   fake: FakeDiscord) -> None:
    interaction = await fake.command("who", {"name": "ter"}, focused="name")
    await fake.wait_reply(interaction)
    body = callback(fake, interaction)
    assert body["type"] == 8
    names = [choice["value"] for choice in body["data"]["choices"]]
    assert "Fyodor Tertitskiy" in names
    assert SEEN == []  # autocomplete runs no command


async def test_who_answers_a_person(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    interaction = await fake.command("who", {"name": "Fyodor Tertitskiy"})
    await fake.wait_reply(interaction)
    assert callback(fake, interaction)["type"] == 4
    assert SEEN[0].command == "who"


async def test_reload_by_a_member_without_manage_server_gets_only_an_ephemeral_sentence(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    index_before, version_before = bot.ctx.index.current, bot.ctx.index.version
    interaction = await fake.command("reload", member=Member(permissions=0))
    calls = await fake.wait_reply(interaction, count=2)
    assert callback(fake, interaction) == {"type": 5, "data": {"flags": EPHEMERAL}}  # deferred
    followup = calls[1]
    assert followup.method == "POST" and followup.path.startswith(f"/webhooks/{APP_ID}/")
    assert followup.body["flags"] & EPHEMERAL
    [embed] = followup.body["embeds"]
    shown = f"{embed.get('title', '')} {embed.get('description', '')}"
    assert "Only admins can reload the seeds" in shown  # the refusal itself,
    assert "reloaded" not in shown.lower()  # not a report
    assert bot.ctx.index.current is index_before and bot.ctx.index.version == version_before
    [req] = SEEN
    assert req.command == "reload" and not req.platform_admin
    assert fake.find(lambda c: c.path.startswith("/channels/")) == []
    assert len(fake.for_interaction(interaction)) == 2


async def test_manage_server_makes_a_platform_admin(bot: DiscordAdapter,
                                                    fake: FakeDiscord) -> None:
    interaction = await fake.command("gaps", member=Member(permissions=MANAGE_GUILD))
    await fake.wait_reply(interaction, count=2)
    assert SEEN[0].platform_admin and SEEN[0].command == "gaps"


async def test_brief_subscribe_defers_and_passes_the_handler_text(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    interaction = await fake.command("brief", {"time": "08:30", "zone": "Europe/Berlin"},
                                     subcommand="subscribe")
    await fake.wait_reply(interaction, count=2)
    assert callback(fake, interaction)["type"] == 5
    assert (SEEN[0].command, SEEN[0].text) == ("brief", "subscribe 08:30 Europe/Berlin")


async def test_a_public_notice_after_deferring_settles_the_thinking_message_first(
        bot: DiscordAdapter, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    async def subscribed(req: CommandRequest, ctx: AppContext) -> Result:
        return Notice(text="This channel gets the briefing at 08:30.", public=True)

    monkeypatch.setitem(HANDLERS, "brief", subscribed)
    interaction = await fake.command("brief", {"time": "08:30"}, subcommand="subscribe")
    calls = await fake.wait_reply(interaction, count=3)
    assert [c.method for c in calls] == ["POST", "PATCH", "POST"]
    assert calls[1].path.endswith("/messages/@original")
    assert calls[1].body["content"] == "Posted in the channel."
    assert not calls[2].body.get("flags", 0) & EPHEMERAL
    assert calls[2].body["allowed_mentions"] == {"parse": []}


async def test_a_long_answer_goes_out_as_several_messages_buttons_on_the_last(
        bot: DiscordAdapter, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    async def long_answer(req: CommandRequest, ctx: AppContext) -> Result:
        return Answer(question=req.text, text="A grounded sentence. " * 2000, intent="summary")

    monkeypatch.setitem(HANDLERS, "ask", long_answer)
    interaction = await fake.command("ask", {"question": "tell me everything"})
    expected = render_messages(await long_answer(CommandRequest(command="ask"), bot.ctx))
    assert len(expected) >= 7  # ~42,000 characters
    await fake.wait_reply(interaction, count=len(expected))
    calls = fake.for_interaction(interaction)
    bodies = [c.body.get("data", c.body) for c in calls]
    assert all(b["flags"] & EPHEMERAL for b in bodies)
    assert all(sum(len(e.get("description", "")) for e in b["embeds"]) <= 6000 for b in bodies)
    assert [bool(b.get("components")) for b in bodies] == [False] * (len(bodies) - 1) + [True]
    text = " ".join(e["description"] for b in bodies for e in b["embeds"])
    assert text.split() == ("A grounded sentence. " * 2000).split()


async def test_a_reconnect_resumes_and_the_next_command_is_answered(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    await ask(fake, "who is Tertitskiy")
    session = fake.session_id
    await fake.drop_connection()
    [resume] = await fake.wait_for(lambda c: c.path == "RESUME")
    assert resume.body["d"]["session_id"] == session and resume.body["d"]["seq"] >= 2
    await fake.wait_for(lambda c: c.method == "SENT" and c.path == "RESUMED")
    assert len(fake.find(lambda c: c.path == "IDENTIFY")) == 1  # resumed, not re-identified
    await ask(fake, "who is Rudiger Frank")
    assert [r.text for r in SEEN] == ["who is Tertitskiy", "who is Rudiger Frank"]


async def test_heartbeats_are_acknowledged(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    await fake.wait_for(lambda c: c.path == "HEARTBEAT", count=2, within=3)


async def test_share_twice_posts_once(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    _, message = await ask(fake, "who is Tertitskiy")
    share_id = custom_ids(message)[0]
    first = await fake.click(message, share_id)
    await fake.wait_reply(first)
    shared = callback(fake, first)["data"]
    assert not shared.get("flags", 0) & EPHEMERAL
    assert shared["embeds"][0]["author"]["name"] == "Shared by Alice"
    assert shared["allowed_mentions"] == {"parse": []}
    assert all(not i.startswith("bb:share") for i in custom_ids(fake.messages[
        next(m for m in fake.messages if fake.messages[m].get("interaction_token")
             == first["token"])]))
    second = await fake.click(message, share_id, member=Member(id="400000000000000009"))
    await fake.wait_reply(second)
    again = callback(fake, second)["data"]
    assert again["flags"] & EPHEMERAL
    assert "already shared" in again["embeds"][0]["description"]
    assert [(r.command, r.options["source_command"]) for r in SEEN[1:]] == [("share", "ask")] * 2
    assert SEEN[1].text == "who is Tertitskiy"


async def test_long_question_is_shared_from_memory(bot: DiscordAdapter,
                                                   fake: FakeDiscord) -> None:
    question = "what did Tertitskiy say about the talks and " + "the meeting " * 8
    _, message = await ask(fake, question)
    share_id = custom_ids(message)[0]
    assert len(share_id) <= 100 and share_id.endswith(":")
    click = await fake.click(message, share_id)
    await fake.wait_reply(click)
    assert SEEN[-1].command == "share" and SEEN[-1].text == question


async def test_long_question_is_shared_from_the_store_when_forgotten(
        bot: DiscordAdapter, fake: FakeDiscord, store: Store) -> None:
    bot.ctx.store = store  # as another replica, or this one after a restart, would see it
    question = "what did Tertitskiy say about the talks and " + " and ".join(["the meeting"] * 8)
    _, message = await ask(fake, question)
    bot._answers.clear()  # this process no longer remembers the answer
    click = await fake.click(message, custom_ids(message)[0])
    await fake.wait_reply(click)
    assert SEEN[-1].command == "share" and SEEN[-1].text == question


async def test_vote_buttons_dispatch_vote_and_answer_ephemerally(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    _, message = await ask(fake, "who is Tertitskiy")
    click = await fake.click(message, custom_ids(message)[1])
    await fake.wait_reply(click)
    assert callback(fake, click)["data"]["flags"] & EPHEMERAL
    vote = SEEN[-1]
    assert (vote.command, vote.text) == ("vote", "up")
    assert vote.options["question"] == "who is Tertitskiy"
    assert set(vote.options) == {"answer_id", "question", "intent", "citations"}


async def test_a_command_discord_knows_but_we_do_not_gets_a_sentence(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    interaction = await fake.command("obsolete")
    await fake.wait_reply(interaction)
    data = callback(fake, interaction)["data"]
    assert data["flags"] & EPHEMERAL and "discord-sync" in data["embeds"][0]["description"]


async def test_post_briefing_and_its_refusals(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    briefing = Briefing(title="Today", text="@everyone the gist.",
                        sections=[BriefingSection(heading="Talks", lines=["One.", "Two."])])
    await bot.post_briefing(CHANNEL_ID, briefing)
    [post] = fake.find(lambda c: c.path == f"/channels/{CHANNEL_ID}/messages")
    assert post.body["allowed_mentions"] == {"parse": []}
    assert post.body["embeds"][0]["title"] == "Today"
    fake.forbidden_channels.add("777")
    with pytest.raises(DeliveryError, match="Invite the bot") as refused:
        await bot.post_briefing("777", briefing)
    assert refused.value.permanent
    with pytest.raises(DeliveryError) as unknown:
        await bot.post_briefing("778", briefing)
    assert unknown.value.permanent


async def test_check_channel_uses_the_bot_permissions_sent_with_interactions(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    assert await bot.check_channel(CHANNEL_ID) is None  # never seen: no verdict
    interaction = await fake.command("ask", {"question": "help"}, app_permissions=VIEW_CHANNEL)
    await fake.wait_reply(interaction)
    problem = await bot.check_channel(CHANNEL_ID)
    assert problem is not None and "Send Messages, Embed Links" in problem
    assert "Invite the bot" in problem
    interaction = await fake.command("ask", {"question": "help"})
    await fake.wait_reply(interaction)
    assert await bot.check_channel(CHANNEL_ID) is None


async def test_commands_sync_at_start_only_when_changed(dctx: AppContext,
                                                        fake: FakeDiscord) -> None:
    for _ in range(2):
        adapter = await connect(dctx, fake)
        await adapter.stop()
    syncs = fake.find(lambda c: c.method == "PUT")
    assert [c.path for c in syncs] == [f"/applications/{APP_ID}/commands"]
    names = {command["name"] for command in syncs[0].body}
    assert names == {"ask", "who", "brief", "reload", "add", "remove", "gaps"}
    reload = next(c for c in syncs[0].body if c["name"] == "reload")
    assert reload["default_member_permissions"] == str(MANAGE_GUILD) or \
        reload["default_member_permissions"] == MANAGE_GUILD


async def test_discord_sync_cli_syncs_to_a_guild(dctx: AppContext, fake: FakeDiscord) -> None:
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "DISCORD_API_URL": fake.api_url,
           "BRIEFBOT_DATA_DIR": str(dctx.settings.data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "discord-sync", "--guild", GUILD_ID, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert f"to guild {GUILD_ID}" in out.decode()
    assert [c.path for c in fake.find(lambda c: c.method == "PUT")] == [
        f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"]
    # The next start finds the same command set already synced and leaves Discord alone.
    adapter = await connect(dctx, fake)
    await adapter.stop()
    assert len(fake.find(lambda c: c.method == "PUT")) == 1


def test_token_missing_or_malformed_names_the_variable(settings) -> None:
    with pytest.raises(SettingsError, match=r"^DISCORD_TOKEN: not set"):
        discord_token(settings)
    for bad in ["Bot " + TOKEN, "abc", TOKEN + " extra"]:
        broken = settings.model_copy(update={"discord_token": SecretStr(bad)})
        with pytest.raises(SettingsError, match=r"^DISCORD_TOKEN: malformed") as err:
            discord_token(broken)
        assert "\n" not in str(err.value)


async def test_a_rejected_token_stops_start_up(dctx: AppContext, fake: FakeDiscord) -> None:
    fake.token = TOKEN.replace("fake", "real")
    adapter = DiscordAdapter.from_settings(dctx)
    with pytest.raises(SettingsError, match=r"^DISCORD_TOKEN: Discord rejected"):
        await asyncio.wait_for(adapter.start(), 5)
    await adapter.stop()


async def test_a_token_the_gateway_refuses_after_start_ends_wait_failed(
        dctx: AppContext, fake: FakeDiscord) -> None:
    adapter = DiscordAdapter.from_settings(dctx)
    await asyncio.wait_for(adapter.start(), 5)  # REST accepted the token
    fake.token = TOKEN.replace("fake", "real")  # the gateway will not (close code 4004)
    try:
        error = await asyncio.wait_for(adapter.wait_failed(), 5)
        assert isinstance(error, SettingsError)
        assert str(error).startswith("DISCORD_TOKEN: the Discord gateway refused the token")
    finally:
        await asyncio.wait_for(adapter.stop(), 10)


async def test_wait_failed_keeps_waiting_through_a_stop(bot: DiscordAdapter) -> None:
    assert isinstance(bot, PlatformAdapter)  # the whole protocol
    waiting = asyncio.ensure_future(bot.wait_failed())
    await asyncio.wait_for(bot.stop(), 10)  # the gateway task has ended when stop returns
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()


async def test_serve_discord_answers_through_the_fake_and_stops_on_sigterm(
        tmp_path: Path, fake: FakeDiscord) -> None:
    """The run contract from outside: `briefbot serve --discord` with the env vars only."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "DISCORD_API_URL": fake.api_url,
           "DISCORD_GATEWAY_URL": fake.gateway_url, "BRIEFBOT_DATA_DIR": str(tmp_path),
           "BRIEFBOT_HOST": "127.0.0.1", "BRIEFBOT_PORT": str(port),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--discord", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for(lambda c: c.method == "SENT" and c.path == "READY", within=30)
        interaction, _ = await ask(fake, "who is Tertitskiy")
        assert callback(fake, interaction)["data"]["embeds"][0]["description"]
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert TOKEN not in err.decode()
        await fake.wait_for(lambda c: c.path == "CLOSED")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
