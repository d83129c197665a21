"""`/brief` through the one dispatch path: briefing, subscribe, unsubscribe, status."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.context import AppContext
from bot.models import Briefing, Notice, Result, UserError
from bot.store import open_store_url
from handlers import CommandRequest, dispatch
from tests.clock import FakeClock

NOW = datetime(2024, 3, 30, 12, 0, tzinfo=UTC)  # the day before Berlin's spring-forward


@pytest.fixture
async def chat(ctx: AppContext, tmp_path: Path) -> AsyncIterator[AppContext]:
    store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'brief.db'}")
    yield dataclasses.replace(ctx, store=store, clock=FakeClock(NOW))
    await store.close()


async def brief(ctx: AppContext, text: str, *, manager: bool = True, platform: str = "slack",
                channel: str | None = "C1", user: str = "U1") -> Result:
    req = CommandRequest(command="brief", text=text, platform=platform, channel_id=channel,
                         workspace_id="T1", user_id=user, can_manage_channel=manager)
    return await dispatch(req, ctx)


async def test_empty_text_is_todays_briefing(chat: AppContext) -> None:
    assert isinstance(await brief(chat, ""), Briefing)


async def test_subscribe_status_unsubscribe(chat: AppContext) -> None:
    result = await brief(chat, "subscribe 02:30 europe/berlin")
    assert isinstance(result, Notice) and result.public
    assert "02:30 Europe/Berlin" in result.text
    # 02:30 does not exist in Berlin on 31 March 2024: it posts at 03:00 CEST.
    assert result.lines == ["Next: Sun 31 Mar 03:00 CEST (Europe/Berlin)"]
    sub = await chat.store.get_subscription("slack", "C1")
    assert (sub.hour, sub.minute, sub.zone, sub.workspace_id, sub.created_by) == (
        2, 30, "Europe/Berlin", "T1", "U1")

    status = await brief(chat, "status", manager=False, user="U2")
    assert isinstance(status, Notice)
    assert status.text == "Every day at 02:30 Europe/Berlin."
    assert status.lines == ["Next: Sun 31 Mar 03:00 CEST (Europe/Berlin)"]

    assert isinstance(await brief(chat, "unsubscribe"), Notice)
    assert await chat.store.get_subscription("slack", "C1") is None
    again = await brief(chat, "unsubscribe")
    assert isinstance(again, Notice) and "no daily briefing" in again.text
    assert "no daily briefing" in (await brief(chat, "status")).text


async def test_zone_defaults_to_the_setting(chat: AppContext) -> None:
    chat = dataclasses.replace(
        chat, settings=chat.settings.model_copy(update={"default_timezone": "Asia/Kolkata"}))
    result = await brief(chat, "subscribe 08:00")
    assert isinstance(result, Notice) and "08:00 Asia/Kolkata" in result.text
    assert result.lines == ["Next: Sun 31 Mar 08:00 IST (Asia/Kolkata)"]


@pytest.mark.parametrize(("text", "message"), [
    ("subscribe 25:00", "hours go from 00 to 23"),
    ("subscribe 8.30pm", "`8.30pm` is `20:30`"),
    ("subscribe 08:30 Mars/Olympus", "Unknown time zone `Mars/Olympus`"),
    ("subscribe", "Say when"),
    ("subscribe 08:30 UTC extra", "Say when"),
    ("weekly", "is not something I can do"),
])
async def test_bad_input_gets_a_clear_message(chat: AppContext, text: str, message: str) -> None:
    result = await brief(chat, text)
    assert isinstance(result, UserError)
    assert message in result.message
    assert await chat.store.list_subscriptions() == []


async def test_only_managers_and_admins_change_the_subscription(chat: AppContext) -> None:
    refused = await brief(chat, "subscribe 08:30", manager=False, user="U9")
    assert isinstance(refused, UserError) and refused.message.startswith("Only admins")
    assert await chat.store.list_subscriptions() == []

    admins = chat.settings.model_copy(update={"admins": ["slack:U9"]})
    assert isinstance(await brief(dataclasses.replace(chat, settings=admins),
                                  "subscribe 08:30", manager=False, user="U9"), Notice)
    refused = await brief(chat, "unsubscribe", manager=False, user="U8")
    assert isinstance(refused, UserError)
    assert await chat.store.get_subscription("slack", "C1") is not None


async def test_a_channel_the_bot_cannot_post_in(chat: AppContext) -> None:
    class Adapter:
        async def check_channel(self, channel_id: str) -> str | None:
            return f"I can't post in <#{channel_id}>: invite me with `/invite @briefbot`."

    chat.platforms = {"slack": Adapter()}
    result = await brief(chat, "subscribe 08:30")
    assert isinstance(result, UserError) and "/invite @briefbot" in result.message
    assert await chat.store.list_subscriptions() == []


async def test_subscriptions_need_a_channel(chat: AppContext) -> None:
    result = await brief(chat, "subscribe 08:30", platform="cli", channel=None)
    assert isinstance(result, UserError) and "belong to a channel" in result.message
