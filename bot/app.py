"""Wire the running server: index, store, HTTP routes, adapters, scheduler, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import web

from bot import adapters as platforms
from bot.admin import add_admin_routes, start_admin, stop_admin
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.feed_poller import start_feeds, stop_feeds
from bot.ingest.mirror import SeedMirror, SeedSyncError
from bot.observability import (
    install_command_metrics,
    metrics_handler,
    register_settings_secrets,
    setup_logging,
    stop_logging,
)
from bot.platform import PlatformAdapter
from bot.scheduler import start_scheduler
from bot.settings import Settings, SettingsError
from bot.signals import HardStop, install_signal_handlers
from bot.store.store import Store
from handlers.registry import add_after_hook

log = logging.getLogger("briefbot.app")

SHUTDOWN_GRACE_S = 10.0  # how long SIGTERM waits for commands in flight
ADAPTER_STOP_S = 5.0  # how long the adapters may take to close their connections
HARD_STOP_S = 15.0  # after SIGTERM/SIGINT the process is gone within this, whatever is stuck
STORE_OPEN_S = 30.0  # a store that does not answer by then stops start-up

T = TypeVar("T")


async def open_store_or_explain(settings: Settings) -> Store:
    """The store, or SettingsError: one line naming the variable, as `briefbot doctor` says
    (an unknown driver in DATABASE_URL, a database that does not answer, a data folder that
    cannot be written)."""
    from bot.doctor import store_problem
    from bot.store import open_store

    try:
        async with asyncio.timeout(STORE_OPEN_S):
            return await open_store(settings)
    except Exception as exc:
        raise SettingsError(store_problem(settings, exc)) from None


async def build_context(settings: Settings) -> AppContext:
    """Open the store, take its index version, bring the seeds folder in step with the
    store's articles, then load the index off the event loop.

    The version is read before the seeds, and set once: /healthz never shows another number
    first (the version poller moves it only forward, after a reload somewhere). Reading it
    first means a reload that lands while we build makes the poller rebuild, never the
    reverse (a new version number on old seeds).
    """
    from bot.engine.index import build_index

    store = await open_store_or_explain(settings)
    mirror = SeedMirror(settings.seeds_dir)
    try:
        version = await store.get_index_version()
        await catch_up(mirror, store)
        index = await asyncio.to_thread(build_index, settings.seeds_dir, settings.cache_dir)
    except BaseException:
        await store.close()
        raise
    ctx = AppContext(settings=settings, index=IndexHolder(index, version=version), store=store)
    ctx.seed_mirror = mirror
    return ctx


async def catch_up(mirror: SeedMirror, store: Store) -> None:
    """Write the store's added articles into the seeds folder before the first build (a
    replica started with an empty folder serves them all). A folder that cannot be written
    is logged, and the version poller keeps trying; the replica serves what it has."""
    try:
        await mirror.sync(store.articles)  # logs what it wrote and deleted
    except SeedSyncError as exc:
        mirror.behind = True
        log.error("the seeds folder cannot take the store's articles yet: %s", exc.message)


def make_adapters(ctx: AppContext, names: list[str]) -> list[PlatformAdapter]:
    """The adapters of the platforms called `names`, from the registry."""
    return [platforms.get(name).create(ctx) for name in names]


def make_web_app(ctx: AppContext, adapters: list[PlatformAdapter]) -> web.Application:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        if not ctx.intake.accepting:  # draining: let the load balancer move on
            return web.json_response({"status": "stopping"}, status=503)
        if not ctx.index.loaded:
            return web.json_response({"status": "loading"}, status=503)
        states = {a.name: "connected" if a.connected else "connecting" for a in adapters}
        down = [name for name, state in states.items() if state != "connected"]
        body = {"status": "connecting" if down else "ok", "index_version": ctx.index.version,
                "platforms": states}
        if down:  # e.g. Slack unreachable or still connecting: say which
            return web.json_response({**body, "not_connected": down}, status=503)
        return web.json_response(body)

    app.router.add_get("/healthz", healthz)
    install_command_metrics(add_after_hook)
    app.router.add_get("/metrics", metrics_handler(ctx))
    add_admin_routes(app, ctx)  # POST /admin/reload, loopback only (`briefbot reload`)
    for adapter in adapters:
        adapter.attach_routes(app)
    return app


async def run_app(settings: Settings, names: list[str]) -> int:
    """Serve the platforms called `names` until SIGTERM/SIGINT."""
    setup_logging(settings.log_level, settings.log_json, queued=True)  # off the request path
    try:
        return await _run_app(settings, names)
    finally:
        stop_logging()  # write the queued lines; later ones are written directly


async def _run_app(settings: Settings, names: list[str]) -> int:
    register_settings_secrets(settings)
    for name in names:  # a missing or malformed token stops start-up before the index loads
        platforms.get(name).check_settings(settings)
    stop = asyncio.Event()
    hard_stop = HardStop(HARD_STOP_S)
    install_signal_handlers(stop, on_signal=hard_stop.arm)
    try:
        ctx = await until_stopped(build_context(settings), stop)
        if ctx is None:
            log.info("stopped during start-up")
            return 0
        adapters = make_adapters(ctx, names)
        # the index and the libraries live as long as the process: keep them out of the
        # collector's full passes, which otherwise walk them all every few thousand requests
        gc.collect()
        gc.freeze()
        return await serve_until(ctx, adapters, stop)
    finally:
        hard_stop.cancel()


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None (work cancelled) if `stop` is set first."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return None
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()


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
        start_admin(ctx)  # SIGHUP reload, follow other replicas' reloads, 90-day purge
        start_feeds(ctx)  # only when seeds/feeds.yaml exists (bot/feed_poller.py)
        await run_adapters(ctx, adapters, stop)
    finally:
        await shutdown(ctx, adapters, runner, grace_s=grace_s)
    return 0


async def run_adapters(ctx: AppContext, adapters: list[PlatformAdapter],
                       stop: asyncio.Event) -> None:
    """Start the adapters, then the scheduler, and serve until `stop` is set.

    `stop` wins at any point, also while an adapter is still connecting (a Slack that does
    not answer). An adapter that fails to start, or reports that it can never work (its
    token refused after start-up), ends serving with that error: `serve` prints one line.
    """

    async def start_all() -> None:
        for adapter in adapters:
            await adapter.start()
        start_scheduler(ctx, adapters)

    starting = asyncio.create_task(start_all(), name="start-adapters")
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    failures = {asyncio.create_task(adapter.wait_failed(), name=f"{adapter.name}-failed")
                for adapter in adapters}
    waiting = {starting, stopping, *failures}
    try:
        while not stopping.done():
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in done & failures:
                raise task.result()
            if starting in done:
                starting.result()  # a start-up failure (a refused token) is raised here
    finally:
        for task in (starting, stopping, *failures):
            task.cancel()
        await asyncio.gather(starting, stopping, *failures, return_exceptions=True)


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
    intake = ctx.intake
    intake.close()
    await stop_admin(ctx)
    log.info("shutting down", extra={"in_flight": intake.in_flight})
    # The scheduler's delivery in progress gets the same grace, in parallel, before adapters.
    scheduler, ctx.background.scheduler = ctx.background.scheduler, None
    stopping = [scheduler.stop(grace_s)] if scheduler is not None else []
    stopping.append(stop_feeds(ctx))  # a feed item being added: a few seconds, then cancelled
    still_running, *_ = await asyncio.gather(intake.drain(grace_s), *stopping)
    if still_running:
        log.warning("stopping with commands still running",
                    extra={"in_flight": still_running, "grace_s": grace_s})
    if adapters:  # together, so the time shutdown takes does not grow with their number
        stopped = await asyncio.gather(
            *(asyncio.wait_for(adapter.stop(), ADAPTER_STOP_S) for adapter in adapters),
            return_exceptions=True)
        for adapter, outcome in zip(adapters, stopped, strict=True):
            if isinstance(outcome, BaseException):
                log.error("adapter did not stop cleanly", exc_info=outcome,
                          extra={"adapter": adapter.name})
    if runner is not None:
        await runner.cleanup()
    questions = ctx.question_log
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
