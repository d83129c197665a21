"""/reload through the fake Slack and the fake Discord: the next /ask uses the new seeds,
non-admins are refused, and a broken file changes nothing and is named to the admin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter
from bot.context import AppContext
from tests.fake_discord import MANAGE_GUILD, TOKEN, FakeDiscord, Member, running
from tests.fake_slack import FakeSlack, form, slash_payload
from tests.test_discord_adapter import connect
from tests.test_reload import NEW_ARTICLE
from tests.test_slack_http import post, serve_http

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "who is Jane Roe"
NEW_FACT = "historian at Example University"
REFUSED = "Only admins can reload the seeds"


# --- Slack ------------------------------------------------------------------------------------

@pytest.fixture
async def slack(live: AppContext) -> AsyncIterator[tuple[TestClient, FakeSlack]]:
    fake = await FakeSlack().start()
    client, adapter = await serve_http(live, fake)
    yield client, fake
    await client.close()
    await adapter.stop()
    await fake.close()


async def slack_ask(client: TestClient, fake: FakeSlack) -> str:
    body = form(slash_payload("/ask", QUESTION, response_url=fake.response_url("ask")))
    return json.dumps(await (await post(client, body)).json(), ensure_ascii=False)


async def slack_reload(client: TestClient, fake: FakeSlack, user: str) -> str:
    """Acked at once; the report arrives through response_url."""
    key = f"reload-{len(fake.responses)}"
    body = form(slash_payload("/reload", "", response_url=fake.response_url(key), user_id=user))
    ack = await post(client, body)
    assert ack.status == 200
    _, message = await fake.wait_for(
        lambda: next((r for r in fake.responses if r[0] == key), None))
    return json.dumps(message, ensure_ascii=False)


async def test_slack_admin_reload_makes_the_next_ask_use_the_new_article(
        slack, live: AppContext, seeds: Path) -> None:
    client, fake = slack
    assert NEW_FACT not in await slack_ask(client, fake)
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = await slack_reload(client, fake, "UADMIN")
    assert "Seeds reloaded" in report and "treaty" in report and "Jane Roe" in report
    assert NEW_FACT in await slack_ask(client, fake)


async def test_slack_non_admin_is_refused_and_nothing_changes(
        slack, live: AppContext, seeds: Path) -> None:
    client, fake = slack
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    old = live.index.current
    assert REFUSED in await slack_reload(client, fake, "UOTHER")
    assert live.index.current is old and live.index.version == 1
    assert NEW_FACT not in await slack_ask(client, fake)


async def test_slack_workspace_admin_may_reload(slack, live: AppContext) -> None:
    client, fake = slack
    fake.users["UOWNER"] = {"is_owner": True}
    assert "Seeds reloaded" in await slack_reload(client, fake, "UOWNER")


async def test_slack_broken_file_changes_nothing_and_is_named(
        slack, live: AppContext, seeds: Path) -> None:
    client, fake = slack
    before = await slack_ask(client, fake)
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (seeds / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    report = await slack_reload(client, fake, "UADMIN")
    assert "scan.txt" in report and "nothing changed" in report
    assert live.index.version == 1
    after = await slack_ask(client, fake)
    assert NEW_FACT not in after and json.loads(after)["text"] == json.loads(before)["text"]


# --- Discord ----------------------------------------------------------------------------------

ADMIN = Member(id="400000000000000007", permissions=MANAGE_GUILD)
MEMBER = Member(permissions=0)


@pytest.fixture
async def dfake() -> AsyncIterator[FakeDiscord]:
    async with running() as fake:
        yield fake


@pytest.fixture
async def dbot(live: AppContext, dfake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    live.settings = live.settings.model_copy(update={
        "discord_token": SecretStr(TOKEN), "discord_api_url": dfake.api_url,
        "discord_gateway_url": dfake.gateway_url})
    adapter = await connect(live, dfake)
    yield adapter
    await asyncio.wait_for(adapter.stop(), 10)


def _text(calls: list[Any]) -> str:
    return json.dumps([c.body for c in calls], ensure_ascii=False)


async def discord_ask(fake: FakeDiscord) -> str:
    interaction = await fake.command("ask", {"question": QUESTION})
    return _text(await fake.wait_reply(interaction))


async def discord_reload(fake: FakeDiscord, member: Member) -> str:
    """Deferred, then one follow-up with the report (or the refusal)."""
    interaction = await fake.command("reload", member=member)
    return _text(await fake.wait_reply(interaction, count=2, within=10))


async def test_discord_admin_reload_makes_the_next_ask_use_the_new_article(
        dbot: DiscordAdapter, dfake: FakeDiscord, seeds: Path) -> None:
    assert NEW_FACT not in await discord_ask(dfake)
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = await discord_reload(dfake, ADMIN)
    assert "Seeds reloaded" in report and "treaty" in report
    assert NEW_FACT in await discord_ask(dfake)


async def test_discord_non_admin_is_refused_and_nothing_changes(
        dbot: DiscordAdapter, dfake: FakeDiscord, live: AppContext, seeds: Path) -> None:
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert REFUSED in await discord_reload(dfake, MEMBER)
    assert live.index.version == 1
    assert NEW_FACT not in await discord_ask(dfake)


async def test_discord_broken_file_changes_nothing_and_is_named(
        dbot: DiscordAdapter, dfake: FakeDiscord, live: AppContext, seeds: Path) -> None:
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (seeds / "notes.txt").write_bytes("caf\xe9".encode("latin-1"))
    report = await discord_reload(dfake, ADMIN)
    assert "notes.txt" in report and "nothing changed" in report
    assert live.index.version == 1
    assert NEW_FACT not in await discord_ask(dfake)

