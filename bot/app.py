"""Wire the running server: index, store, HTTP routes, adapters, scheduler, shutdown."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.engine.holder import IndexHolder
from bot.serve import PlatformAdapter, install_signal_handlers
from bot.settings import Settings
from handlers.context import AppContext

log = logging.getLogger("briefbot.app")


async def build_context(settings: Settings) -> AppContext:
    """Load the index off the event loop and open the store."""
    from bot.engine.index import build_index
    from bot.store import open_store

    index = await asyncio.to_thread(build_index, settings.seeds_dir, semantic=settings.semantic)
    store = await open_store(settings)
    return AppContext(settings=settings, index=IndexHolder(index, version=1), store=store)


def make_adapters(ctx: AppContext, *, slack: bool, discord: bool) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    if slack:
        from bot.adapters.slack import SlackAdapter

        adapters.append(SlackAdapter.from_settings(ctx))
    if discord:
        from bot.adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter.from_settings(ctx))
    return adapters


def make_web_app(ctx: AppContext, adapters: list[PlatformAdapter]) -> web.Application:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        if ctx.index.loaded:
            return web.json_response({"status": "ok", "index_version": ctx.index.version})
        return web.json_response({"status": "loading"}, status=503)

    app.router.add_get("/healthz", healthz)
    for adapter in adapters:
        adapter.attach_routes(app)
    return app


async def run_app(settings: Settings, *, slack: bool, discord: bool) -> int:
    stop = asyncio.Event()
    install_signal_handlers(stop)
    ctx = await build_context(settings)
    adapters = make_adapters(ctx, slack=slack, discord=discord)
    runner = web.AppRunner(make_web_app(ctx, adapters))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("listening on %s:%s", settings.host, settings.port)
    try:
        for adapter in adapters:
            await adapter.start()
        await stop.wait()
    finally:
        for adapter in adapters:
            await adapter.stop()
        await runner.cleanup()
        if ctx.store is not None:
            await ctx.store.close()
    return 0
