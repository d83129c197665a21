"""Wire the running server: index, store, HTTP routes, adapters, scheduler, shutdown."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.admin import add_admin_routes, start_admin, stop_admin
from bot.engine.holder import IndexHolder
from bot.observability import (
    install_command_metrics,
    metrics_handler,
    register_settings_secrets,
    setup_logging,
)
from bot.scheduler import start_scheduler
from bot.serve import PlatformAdapter, install_signal_handlers
from bot.settings import Settings, SettingsError
from handlers.context import AppContext
from handlers.intake import intake_of
from handlers.question_log import question_log_of

log = logging.getLogger("briefbot.app")

SHUTDOWN_GRACE_S = 10.0  # how long SIGTERM waits for commands in flight
ADAPTER_STOP_S = 5.0  # how long one adapter may take to close its connection


async def build_context(settings: Settings) -> AppContext:
    """Load the index off the event loop and open the store."""
    from bot.engine.index import build_index
    from bot.store import open_store

    index = await asyncio.to_thread(build_index, settings.seeds_dir)
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
        if not intake_of(ctx).accepting:  # draining: let the load balancer move on
            return web.json_response({"status": "stopping"}, status=503)
        if ctx.index.loaded:
            return web.json_response({"status": "ok", "index_version": ctx.index.version})
        return web.json_response({"status": "loading"}, status=503)

    app.router.add_get("/healthz", healthz)
    install_command_metrics()
    app.router.add_get("/metrics", metrics_handler(ctx))
    add_admin_routes(app, ctx)  # POST /admin/reload, loopback only (`briefbot reload`)
    for adapter in adapters:
        adapter.attach_routes(app)
    return app


async def run_app(settings: Settings, *, slack: bool, discord: bool) -> int:
    setup_logging(settings.log_level, settings.log_json)
    register_settings_secrets(settings)
    if discord:  # a missing or malformed token stops start-up before the index loads
        from bot.adapters.discord import discord_token

        discord_token(settings)
    if slack:  # likewise for SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET / SLACK_APP_TOKEN
        from bot.adapters.slack import slack_settings

        slack_settings(settings)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    ctx = await build_context(settings)
    adapters = make_adapters(ctx, slack=slack, discord=discord)
    return await serve_until(ctx, adapters, stop)


async def serve_until(
    ctx: AppContext,
    adapters: list[PlatformAdapter],
    stop: asyncio.Event,
    *,
    grace_s: float = SHUTDOWN_GRACE_S,
) -> int:
    """Serve HTTP and the adapters until `stop` is set (SIGTERM), then shut down gracefully."""
    settings = ctx.settings
    runner = web.AppRunner(make_web_app(ctx, adapters), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:  # port taken, address not on this host: one line, not a trace
            raise SettingsError(f"BRIEFBOT_HOST/BRIEFBOT_PORT: cannot listen on "
                                f"{settings.host}:{settings.port}: {exc.strerror or exc}") from None
        log.info("listening on %s:%s", settings.host, settings.port)
        for adapter in adapters:
            await adapter.start()
        start_scheduler(ctx, adapters)
        start_admin(ctx)  # SIGHUP reload, follow other replicas' reloads, 90-day purge
        await stop.wait()
    finally:
        await shutdown(ctx, adapters, runner, grace_s=grace_s)
    return 0


async def shutdown(
    ctx: AppContext,
    adapters: list[PlatformAdapter],
    runner: web.BaseRunner | None,
    *,
    grace_s: float = SHUTDOWN_GRACE_S,
) -> None:
    """Refuse new commands, let those in flight finish (up to `grace_s`), then close.

    The briefing scheduler (if one runs) gets the same grace. Adapters stop after the drain
    so answers in flight can still be delivered; the store closes last because the adapters,
    handlers and scheduler may write to it until then.
    """
    intake = intake_of(ctx)
    intake.close()
    await stop_admin(ctx)
    log.info("shutting down", extra={"in_flight": intake.in_flight})
    # The scheduler's delivery in progress gets the same grace, in parallel, before adapters.
    scheduler = ctx.extras.pop("scheduler", None)
    stopping = [scheduler.stop(grace_s)] if scheduler is not None else []
    still_running, *_ = await asyncio.gather(intake.drain(grace_s), *stopping)
    if still_running:
        log.warning("stopping with commands still running",
                    extra={"in_flight": still_running, "grace_s": grace_s})
    for adapter in adapters:
        try:
            await asyncio.wait_for(adapter.stop(), ADAPTER_STOP_S)
        except Exception:
            log.exception("adapter did not stop cleanly", extra={"adapter": adapter.name})
    if runner is not None:
        await runner.cleanup()
    questions = question_log_of(ctx)
    if questions is not None:  # questions asked up to now reach the store before it closes
        try:
            await questions.close()
        except Exception:
            log.exception("question log did not close cleanly")
    if ctx.store is not None:
        try:
            await ctx.store.close()
        except Exception:
            log.exception("store did not close cleanly")
    log.info("stopped")
