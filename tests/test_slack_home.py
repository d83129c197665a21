"""The App Home: published on app_home_opened, the admin part (gaps, Reload) only for
admins; Reload runs the admin-checked reload and republishes the Home with its report."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.adapters.slack.home import HOME_RELOAD_ACTION, MAX_VIEW_BLOCKS, home_view
from bot.context import AppContext
from bot.models import Article, Notice
from bot.store import open_store
from handlers.home import HomeData, home
from handlers.requests import CommandRequest
from tests.fake_slack import FakeSlack, block_action_payload, event_callback, form
from tests.test_slack_events import post_event
from tests.test_slack_http import post, serve_http, slack_ctx


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def http(live: AppContext, fake: FakeSlack) -> AsyncIterator[TestClient]:
    """HTTP mode on a copy of the seeds, with a store; slack:UADMIN is listed as an admin."""
    live.store = await open_store(live.settings)
    await live.store.upsert_subscription("slack", "CNEWS", "T1", 8, 30, "Europe/Berlin", "U1")
    await live.store.upsert_subscription("discord", "999", "G1", 9, 0, "UTC", "U1")
    client, adapter = await serve_http(slack_ctx(live, fake), fake)
    yield client
    await client.close()
    await adapter.stop()
    await live.store.close()


def opened(user: str) -> dict[str, Any]:
    return event_callback({"type": "app_home_opened", "user": user, "channel": "D1",
                           "tab": "home"})


async def home_of(client: TestClient, fake: FakeSlack, user: str) -> str:
    before = len(fake.published(user))
    await post_event(client, opened(user))
    views = await fake.wait_for(lambda: len(fake.published(user)) > before
                                and fake.published(user))
    view = views[-1]
    assert view["type"] == "home" and len(view["blocks"]) <= MAX_VIEW_BLOCKS
    return json.dumps(view, ensure_ascii=False)


async def test_the_home_shows_articles_people_channels_examples(http, fake):
    view = await home_of(http, fake, "U1")
    assert "Fyodor Tertitskiy" in view  # people it can describe
    assert "Articles (" in view and "Daily briefings" in view
    assert "<#CNEWS> at 08:30 Europe/Berlin" in view  # this platform's subscriptions only
    assert "999" not in view
    assert "who is" in view  # example questions
    assert HOME_RELOAD_ACTION not in view and "Admin" not in view


async def test_admins_see_the_gaps_and_reload(http, fake):
    view = await home_of(http, fake, "UADMIN")  # BRIEFBOT_ADMINS
    assert "Admin: gaps" in view and HOME_RELOAD_ACTION in view
    fake.users["UOWNER"] = {"is_owner": True}  # Slack's own flag, from users.info
    view = await home_of(http, fake, "UOWNER")
    assert HOME_RELOAD_ACTION in view


async def test_the_messages_tab_publishes_nothing(http, fake):
    body = opened("U1")
    body["event"]["tab"] = "messages"
    await post_event(http, body)
    await home_of(http, fake, "U2")  # a later event, answered: the first one was handled
    assert fake.published("U1") == []


def reload_click(user: str) -> dict[str, Any]:
    payload = block_action_payload({"type": "button", "action_id": HOME_RELOAD_ACTION,
                                    "value": "reload"}, response_url="", user_id=user)
    del payload["response_url"], payload["channel"]  # a Home tab click has neither
    payload["container"] = {"type": "view", "view_id": "V1"}
    return payload


async def click(client: TestClient, payload: dict[str, Any]):
    return await post(client, form({"payload": json.dumps(payload)}))


async def test_reload_from_the_home_reloads_and_shows_the_report(http, fake, live):
    version = await live.store.get_index_version()
    resp = await click(http, reload_click("UADMIN"))
    assert resp.status == 200
    views = await fake.wait_for(lambda: fake.published("UADMIN"))
    assert "Seeds reloaded" in json.dumps(views[-1], ensure_ascii=False)
    assert await live.store.get_index_version() == version + 1


async def test_reload_from_the_home_refuses_a_non_admin(http, fake, live):
    version = await live.store.get_index_version()
    await click(http, reload_click("U1"))
    views = await fake.wait_for(lambda: fake.published("U1"))
    assert "Only admins" in json.dumps(views[-1], ensure_ascii=False)
    assert HOME_RELOAD_ACTION not in json.dumps(views[-1])
    assert await live.store.get_index_version() == version


# --- the view within Slack's limits (pure) -----------------------------------------------------

async def test_home_data_for_an_admin_without_a_store(ctx):
    data = await home(CommandRequest(command="home", platform="slack", user_id="U1",
                                     platform_admin=True), ctx)
    assert data.admin and data.article_count == len(data.articles) > 0
    assert "need the store" in (data.gaps_text or "")


def test_a_huge_home_stays_within_limits_and_escaped():
    data = HomeData(
        articles=[Article(doc_id=f"d{i}", title=f"<!channel> story {i} " + "x" * 400,
                          date="2024-01-01")
                  for i in range(200)],
        article_count=500, people=[f"@here person {i}" for i in range(2000)],
        people_count=2000, examples=["who is <@U1>"], admin=True,
        gaps=[f"{i}× “q{i}” — abstained" for i in range(300)], gaps_text="Gaps")
    view = home_view(data, Notice(title="Seeds reloaded", text="x" * 10_000))
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert view["blocks"][-2]["type"] == "actions"  # the admin part survives the trim
    for block in view["blocks"]:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= (150 if block["type"] == "header" else 3000)
        for element in block.get("elements", []):
            assert len(element.get("text", "") if isinstance(element.get("text"), str)
                       else "") <= 3000
    raw = json.dumps(view)
    assert "<!channel>" not in raw and "<@U1>" not in raw and "@here" not in raw
