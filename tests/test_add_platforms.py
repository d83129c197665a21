"""/add URL through the fake Slack and the fake Discord, over the wire: a local aiohttp server
on 127.0.0.1 serves the article (BRIEFBOT_FETCH_ALLOW_HOSTS=127.0.0.1 lets the fetch reach it
and records every request); an admin's /add writes the seed file, answers with the reload
report under the article's title and date, and the next /ask answers from it; a non-admin is
refused before anything is fetched; a refused URL gets its sentence and nothing is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp.connector
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter
from bot.context import AppContext
from handlers.add import url_of
from tests import fake_slack
from tests.fake_discord import MANAGE_GUILD, TOKEN, FakeDiscord, Member, running
from tests.fake_slack import FakeSlack, form, slash_payload
from tests.test_add_url import article_html
from tests.test_discord_adapter import connect
from tests.test_slack_http import post, serve_http

TITLE = "Riverton approves the harbour bridge"
FILE = "riverton-approves-the-harbour-bridge.md"
QUESTION = "who is Anna Kowalczyk"
NEW_FACT = "the city's mayor"
REFUSED = "Only admins can add articles"
PRIVATE_URL = "http://10.0.0.1/news/bridge"
PRIVATE_REFUSAL = "10.0.0.1"
WAIT_S = 30.0


class Site:
    """The article at /news/harbour-bridge; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/{tail:.*}", self.page)

    async def page(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if request.path == "/news/harbour-bridge":
            return web.Response(text=article_html(), content_type="text/html", charset="utf-8")
        raise web.HTTPNotFound()


@pytest.fixture
async def site() -> AsyncIterator[tuple[Site, str]]:
    pages = Site()
    runner = web.AppRunner(pages.app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield pages, f"http://127.0.0.1:{port}/news/harbour-bridge"
    finally:
        await asyncio.wait_for(runner.cleanup(), WAIT_S)


@pytest.fixture(autouse=True)
def allow_local(live: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """BRIEFBOT_FETCH_ALLOW_HOSTS=127.0.0.1, and room for a fetch and two index builds."""
    live.settings = live.settings.model_copy(update={"fetch_allow_hosts": ["127.0.0.1"]})
    monkeypatch.setattr(fake_slack, "TIMEOUT", WAIT_S)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address aiohttp tries to connect to (it connects through aiohappyeyeballs)."""
    attempts: list[str] = []
    real = aiohttp.connector.aiohappyeyeballs.start_connection

    async def recording(addr_infos, *args, **kwargs):
        attempts.extend(str(info[4][0]) for info in addr_infos)
        return await real(addr_infos, *args, **kwargs)

    monkeypatch.setattr(aiohttp.connector.aiohappyeyeballs, "start_connection", recording)
    return attempts


def no_new_file(seeds: Path) -> bool:
    return not (seeds / FILE).exists() and not list(seeds.glob(".*.tmp"))


def test_the_url_is_taken_out_of_chat_markup() -> None:
    assert url_of(" <https://x.example/a?b=1&amp;c=2|x.example/a> ") == \
        "https://x.example/a?b=1&c=2"
    assert url_of("<https://x.example/a>") == "https://x.example/a"
    assert url_of("https://x.example/a") == "https://x.example/a"


# --- Slack ------------------------------------------------------------------------------------

@pytest.fixture
async def slack(live: AppContext) -> AsyncIterator[tuple[TestClient, FakeSlack]]:
    fake = await FakeSlack().start()
    client, adapter = await serve_http(live, fake)
    yield client, fake
    await client.close()
    await asyncio.wait_for(adapter.stop(), WAIT_S)
    await fake.close()


async def slack_ask(client: TestClient, fake: FakeSlack) -> str:
    body = form(slash_payload("/ask", QUESTION, response_url=fake.response_url("ask")))
    return json.dumps(await (await post(client, body)).json(), ensure_ascii=False)


async def slack_add(client: TestClient, fake: FakeSlack, text: str, user: str) -> str:
    """Acked at once ("Working on /add…"); the report arrives through response_url."""
    key = f"add-{len(fake.responses)}"
    body = form(slash_payload("/add", text, response_url=fake.response_url(key), user_id=user))
    ack = await post(client, body)
    assert ack.status == 200 and "Working on" in await ack.text()
    _, message = await fake.wait_for(
        lambda: next((r for r in fake.responses if r[0] == key), None))
    return json.dumps(message, ensure_ascii=False)


async def test_slack_admin_adds_and_the_next_ask_answers_from_it(
        slack, site, live: AppContext, seeds: Path) -> None:
    client, fake = slack
    pages, url = site
    assert NEW_FACT not in await slack_ask(client, fake)
    report = await slack_add(client, fake, f"<{url}|127.0.0.1/news/harbour-bridge>", "UADMIN")
    assert f"Article added: {TITLE} (2025-03-04)" in report, report
    assert f"Documents added: {FILE[:-3]}" in report and "Anna Kowalczyk" in report
    assert (seeds / FILE).is_file() and pages.requests == ["/news/harbour-bridge"]
    assert live.index.version == 2
    assert NEW_FACT in await slack_ask(client, fake)


async def test_slack_non_admin_is_refused_and_nothing_is_fetched(
        slack, site, live: AppContext, seeds: Path) -> None:
    client, fake = slack
    pages, url = site
    assert REFUSED in await slack_add(client, fake, url, "UOTHER")
    assert pages.requests == [] and no_new_file(seeds) and live.index.version == 1
    assert NEW_FACT not in await slack_ask(client, fake)


async def test_slack_private_address_is_refused_with_its_sentence(
        slack, live: AppContext, seeds: Path, connections: list[str]) -> None:
    client, fake = slack
    report = await slack_add(client, fake, f"<{PRIVATE_URL}>", "UADMIN")
    assert "Refused" in report and PRIVATE_REFUSAL in report and "private" in report
    assert PRIVATE_REFUSAL not in connections
    assert no_new_file(seeds) and live.index.version == 1


async def test_slack_add_without_a_url_shows_the_usage(slack) -> None:
    client, fake = slack
    assert "Add an article by its URL" in await slack_add(client, fake, "help", "UOTHER")


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
    await asyncio.wait_for(adapter.stop(), WAIT_S)


def _text(calls: list[Any]) -> str:
    return json.dumps([c.body for c in calls], ensure_ascii=False)


async def discord_ask(fake: FakeDiscord) -> str:
    interaction = await fake.command("ask", {"question": QUESTION})
    return _text(await fake.wait_reply(interaction, within=WAIT_S))


async def discord_add(fake: FakeDiscord, url: str, member: Member) -> str:
    """Deferred, then one follow-up with the report (or the refusal)."""
    interaction = await fake.command("add", {"url": url}, member=member)
    return _text(await fake.wait_reply(interaction, count=2, within=WAIT_S))


async def test_discord_admin_adds_and_the_next_ask_answers_from_it(
        dbot: DiscordAdapter, dfake: FakeDiscord, site, live: AppContext,
        seeds: Path) -> None:
    pages, url = site
    assert NEW_FACT not in await discord_ask(dfake)
    report = await discord_add(dfake, url, ADMIN)
    assert f"Article added: {TITLE} (2025-03-04)" in report
    assert f"Documents added: {FILE[:-3]}" in report
    assert (seeds / FILE).is_file() and pages.requests == ["/news/harbour-bridge"]
    assert live.index.version == 2
    assert NEW_FACT in await discord_ask(dfake)


async def test_discord_non_admin_is_refused_and_nothing_is_fetched(
        dbot: DiscordAdapter, dfake: FakeDiscord, site, live: AppContext,
        seeds: Path) -> None:
    pages, url = site
    assert REFUSED in await discord_add(dfake, url, MEMBER)
    assert pages.requests == [] and no_new_file(seeds) and live.index.version == 1
    assert NEW_FACT not in await discord_ask(dfake)


async def test_discord_private_address_is_refused_with_its_sentence(
        dbot: DiscordAdapter, dfake: FakeDiscord, live: AppContext, seeds: Path,
        connections: list[str]) -> None:
    report = await discord_add(dfake, PRIVATE_URL, ADMIN)
    assert "Refused" in report and PRIVATE_REFUSAL in report and "private" in report
    assert PRIVATE_REFUSAL not in connections
    assert no_new_file(seeds) and live.index.version == 1
