"""Graceful shutdown: SIGTERM → refuse new commands, finish those in flight, then close.

Runs the real `serve_until` (aiohttp on 127.0.0.1, the real store on SQLite) with a
platform-shaped adapter whose HTTP route dispatches commands, and a slow handler in the
table that the test releases when it chooses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import serve_until
from bot.context.intake import SHUTTING_DOWN, Intake, ShuttingDownError
from bot.engine.holder import IndexHolder
from bot.models import Briefing, Notice, Result
from bot.platform import AdapterDefaults
from bot.settings import Settings, SettingsError
from bot.signals import install_signal_handlers
from bot.store import open_store
from handlers import AppContext, CommandRequest, dispatch
from handlers.registry import HANDLERS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SlowCommand:
    """A handler that stays in flight until the test releases it."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, req: CommandRequest, ctx: AppContext) -> Result:
        self.started.set()
        await self.release.wait()
        self.events.append("slow command finished")
        return Notice(text="slow answer")


class HttpAdapter(AdapterDefaults):
    """Platform-shaped adapter: POST /test/command dispatches like Slack's HTTP mode."""

    name = "test"

    def __init__(self, ctx: AppContext, events: list[str]) -> None:
        self.ctx = ctx
        self.events = events
        self.started = asyncio.Event()

    def attach_routes(self, app: web.Application) -> None:
        app.router.add_post("/test/command", self.command)

    async def command(self, request: web.Request) -> web.Response:
        body = await request.json()
        req = CommandRequest(command=body["command"], platform="slack")
        result = await dispatch(req, self.ctx)
        return web.json_response(result.model_dump(mode="json"))

    async def start(self) -> None:
        self.started.set()

    async def stop(self) -> None:
        self.events.append("adapter stopped")

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        return None


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
def slow(events: list[str]) -> Iterator[SlowCommand]:
    handler = SlowCommand(events)
    HANDLERS["slow"] = handler
    try:
        yield handler
    finally:
        HANDLERS.pop("slow", None)
        handler.release.set()


@pytest.fixture
async def app_ctx(tmp_path: Path) -> AppContext:
    settings = Settings(seeds_dir=tmp_path, data_dir=tmp_path, host="127.0.0.1",
                        port=_free_port(), _env_file=None)
    store = await open_store(settings)
    return AppContext(settings=settings, index=IndexHolder(version=1), store=store)


async def test_sigterm_finishes_in_flight_and_refuses_new(app_ctx, slow, events):
    adapter = HttpAdapter(app_ctx, events)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    server = asyncio.create_task(serve_until(app_ctx, [adapter], stop))
    base = f"http://127.0.0.1:{app_ctx.settings.port}"
    await asyncio.wait_for(adapter.started.wait(), 5)
    await app_ctx.store.list_subscriptions()  # the store has a pooled connection now
    assert app_ctx.store.engine.pool.checkedin() >= 1

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def command(name: str) -> dict[str, object]:
            async with http.post(f"{base}/test/command", json={"command": name}) as response:
                return await response.json()

        in_flight = asyncio.create_task(command("slow"))
        await asyncio.wait_for(slow.started.wait(), 5)

        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(app_ctx.intake.closed.wait(), 5)

        refused = await command("help")
        assert refused["kind"] == "error" and refused["message"] == SHUTTING_DOWN
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "stopping"
        assert not in_flight.done() and "adapter stopped" not in events

        slow.release.set()
        answered = await asyncio.wait_for(in_flight, 5)
        assert answered == {**answered, "kind": "notice", "text": "slow answer"}
        assert await asyncio.wait_for(server, 5) == 0

        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{base}/healthz")

    assert events == ["slow command finished", "adapter stopped"]
    assert app_ctx.store.engine.pool.checkedin() == 0  # disposed by Store.close


async def test_stuck_command_does_not_block_shutdown_past_grace(app_ctx, slow, events, caplog):
    adapter = HttpAdapter(app_ctx, events)
    stop = asyncio.Event()
    server = asyncio.create_task(serve_until(app_ctx, [adapter], stop, grace_s=0.2))
    await asyncio.wait_for(adapter.started.wait(), 5)
    stuck = asyncio.create_task(dispatch(CommandRequest(command="slow"), app_ctx))
    await asyncio.wait_for(slow.started.wait(), 5)

    with caplog.at_level(logging.WARNING, logger="briefbot.app"):
        stop.set()
        assert await asyncio.wait_for(server, 5) == 0

    assert events == ["adapter stopped"] and not stuck.done()
    assert any(r.getMessage() == "stopping with commands still running"
               and r.__dict__["in_flight"] == 1 for r in caplog.records)
    slow.release.set()
    await asyncio.wait_for(stuck, 5)


async def test_intake_drains_immediately_when_idle():
    intake = Intake()
    assert await asyncio.wait_for(intake.drain(10), 1) == 0
    with intake.admit():
        assert intake.in_flight == 1
    intake.close()
    assert not intake.accepting and intake.in_flight == 0


async def test_intake_drain_waits_for_the_commands_in_flight():
    """Two commands in flight: drain returns once both are done, or after the grace with
    how many still run; once closed, admit refuses and nothing is counted."""
    intake = Intake()
    gates = [asyncio.Event(), asyncio.Event()]

    async def command(gate: asyncio.Event) -> None:
        with intake.admit():
            await gate.wait()

    tasks = [asyncio.create_task(command(g)) for g in gates]
    await asyncio.sleep(0)
    assert intake.in_flight == 2
    intake.close()
    with pytest.raises(ShuttingDownError):
        intake.admit()
    assert await intake.drain(0.05) == 2
    gates[0].set()
    draining = asyncio.create_task(intake.drain(10))
    await asyncio.sleep(0.01)
    assert not draining.done() and intake.in_flight == 1
    gates[1].set()
    assert await asyncio.wait_for(draining, 1) == 0
    await asyncio.gather(*tasks)


async def test_port_in_use_is_one_line_and_still_closes(app_ctx, events):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", app_ctx.settings.port))
        taken.listen()
        with pytest.raises(SettingsError, match=r"cannot listen on 127\.0\.0\.1:"):
            await serve_until(app_ctx, [HttpAdapter(app_ctx, events)], asyncio.Event())
    assert events == ["adapter stopped"]
    assert app_ctx.store.engine.pool.checkedin() == 0
