"""A third platform is a registry entry: an in-test platform, found by name, serves a question,
a chat follow-up and a daily briefing through the real server wiring, with no core edit.

The platform here is the smallest honest one: its "wire" is a pair of method calls, its
renderer the plain-text one. Everything behind it is real: the registry lookup by name,
`build_context` (seeds, SQLite store), `serve_until` (HTTP, scheduler, shutdown), dispatch,
the engine, the conversation store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import adapters as registry
from bot.adapters import Platform
from bot.app import build_context, make_adapters, serve_until
from bot.context import AppContext
from bot.models import Briefing, Result
from bot.platform import AdapterDefaults, PlatformAdapter
from bot.render.text import render_text
from bot.settings import Settings, SettingsError
from bot.store import open_store
from handlers.conversation import MessageRequest
from handlers.registry import converse, dispatch
from handlers.requests import CommandRequest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TIMEOUT = 20.0


class LoopbackAdapter(AdapterDefaults):
    """An in-test chat platform: commands and messages arrive as calls, posts are kept."""

    name = "loopback"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.started = asyncio.Event()
        self.posted: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.stopped = False

    async def start(self) -> None:
        self.started.set()

    async def stop(self) -> None:
        self.stopped = True

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        await self.posted.put((channel_id, render_text(briefing)))

    # the platform's "wire": a payload in, a rendered message out
    async def command(self, command: str, text: str, channel: str = "room-1") -> str:
        req = CommandRequest(command=command, text=text, platform=self.name, user_id="u1",
                             channel_id=channel, can_manage_channel=True)
        return render_text(await dispatch(req, self.ctx))

    async def message(self, text: str, message_id: str, thread: str) -> str | None:
        req = MessageRequest(text=text, platform=self.name, user_id="u1", channel_id="room-1",
                             conversation=f"loopback:{thread}", message_key=message_id)
        result: Result | None = await converse(req, self.ctx)
        return None if result is None else render_text(result)


@pytest.fixture
def loopback() -> Iterator[list[LoopbackAdapter]]:
    made: list[LoopbackAdapter] = []

    def create(ctx: AppContext) -> PlatformAdapter:
        made.append(LoopbackAdapter(ctx))
        return made[-1]

    registry.register(Platform(name="loopback", check_settings=lambda settings: None,
                               create=create, configured=lambda settings: False))
    yield made
    registry.unregister("loopback")


def test_unknown_platform_names_the_known_ones() -> None:
    with pytest.raises(SettingsError) as caught:
        registry.get("pager")
    assert "unknown platform 'pager'" in str(caught.value)
    assert "slack" in str(caught.value) and "discord" in str(caught.value)


def test_registered_platforms_are_listed(loopback: list[LoopbackAdapter]) -> None:
    assert {"slack", "discord", "loopback"} <= set(registry.names())
    assert registry.get("loopback").name == "loopback"


async def test_an_in_test_platform_serves_questions_follow_ups_and_briefings(
        loopback: list[LoopbackAdapter], tmp_path: Path, unused_tcp_port: int) -> None:
    settings = Settings(seeds_dir=SEEDS, data_dir=tmp_path, host="127.0.0.1",
                        port=unused_tcp_port, database_url=None)
    # a subscription made an hour ago for a minute ago: the scheduler's first tick posts it
    due = datetime.now(UTC) - timedelta(minutes=1)
    store = await open_store(settings, clock=lambda: due - timedelta(hours=1))
    await store.upsert_subscription("loopback", "room-1", None, due.hour, due.minute, "UTC",
                                    "u1")
    await store.close()

    ctx = await build_context(settings)
    adapters = make_adapters(ctx, ["loopback"])  # found by name in the registry
    assert adapters == loopback
    [adapter] = loopback
    stop = asyncio.Event()
    server = asyncio.create_task(serve_until(ctx, adapters, stop))
    try:
        await asyncio.wait_for(adapter.started.wait(), TIMEOUT)

        channel, text = await asyncio.wait_for(adapter.posted.get(), TIMEOUT)
        assert channel == "room-1" and text.strip()
        assert ctx.platforms == {"loopback": adapter}

        people = ctx.index.current.people_names()
        assert people, "the shipped seeds name people"
        card = await adapter.command("ask", f"who is {people[0]}")
        assert people[0].split()[-1] in card and "[1]" in card

        first = await adapter.message(f"who is {people[0]}", "m1", thread="t1")
        follow = await adapter.message("what did he say?", "m2", thread="t1")
        assert first is not None and follow is not None
        assert people[0] in follow  # "he" read as the person of the thread
        assert await adapter.message("what did he say?", "m2", thread="t1") is None  # redelivery

        status = await adapter.command("brief", "status")
        assert "room-1" in status or "UTC" in status
    finally:
        stop.set()
        await asyncio.wait_for(server, TIMEOUT)
    assert adapter.stopped


def test_serve_says_which_platforms_to_choose(tmp_path: Path) -> None:
    """Without a flag or BRIEFBOT_PLATFORMS, and with an unknown name: one line each."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "BRIEFBOT_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    for args, expected in ((["serve"], "briefbot: serve: choose --slack, --discord or both"),
                           (["serve", "--platform", "pager"],
                            "briefbot: unknown platform 'pager'; known: discord, slack")):
        done = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=60,
                              check=False)
        assert done.returncode != 0
        assert done.stderr.strip().splitlines() == [expected + (
            " (or set BRIEFBOT_PLATFORMS)" if args == ["serve"] else "")]
