"""Reload a running server from its own host, and keep replicas on the same index version.

- POST /admin/reload on the shared aiohttp app, accepted only from a loopback peer that no
  proxy forwarded and carrying the admin token: `briefbot reload` posts there. The server
  writes a fresh token at start to BRIEFBOT_DATA_DIR/admin.token, readable only by its own
  user, so other local users cannot reload. SIGHUP does the same.
- IndexVersionPoller: every few seconds compares the store's index version with ours and,
  when another replica reloaded, rebuilds from the same seeds. It also purges questions and
  votes older than 90 days, at start and once a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import secrets
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.context import AppContext
from bot.engine.reload import reload_index
from bot.errors import SeedError
from bot.models import Notice, Result
from bot.observability import register_secret
from bot.private_files import write_private_text
from bot.render.text import render_text
from handlers.requests import CommandRequest

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("briefbot.admin")

RELOAD_PATH = "/admin/reload"
POLL_INTERVAL_S = 5.0
PURGE_EVERY = timedelta(days=1)
RETENTION_DAYS = 90
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


TOKEN_FILE = "admin.token"


def token_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / TOKEN_FILE


def write_admin_token(settings: Settings) -> str | None:
    """A fresh token in a file only this user can read; None (logged) if it cannot be written."""
    token = secrets.token_urlsafe(32)
    path = token_path(settings)
    try:
        # a new 0600 file renamed over the old one: a stale token left by a killed server
        # (whoever made it, whatever its mode) is replaced, and the file is never half-written
        write_private_text(path, token)
    except OSError as exc:
        log.warning("cannot write the admin token; `briefbot reload` will be refused (use "
                    "SIGHUP or /reload in chat): %s", exc, extra={"path": str(path)})
        return None
    register_secret(token)
    return token


def remove_admin_token(settings: Settings, token: str | None) -> None:
    """Remove our token file at shutdown (not one a newer server wrote since)."""
    path = token_path(settings)
    with contextlib.suppress(OSError):
        if token is not None and path.read_text().strip() == token:
            path.unlink()


def is_local(request: web.Request) -> bool:
    """A loopback peer, and not a reverse proxy on this host relaying someone else."""
    if any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


async def local_reload(ctx: AppContext, via: str) -> Result:
    """The reload handler as the command line calls it (the host's operator is an admin)."""
    from handlers.registry import dispatch

    return await dispatch(CommandRequest(command="reload", platform="cli", user_id=via), ctx)


def add_admin_routes(app: web.Application, ctx: AppContext) -> None:
    token = write_admin_token(ctx.settings)
    ctx.background.admin_token = token

    async def reload(request: web.Request) -> web.Response:
        if not is_local(request):
            log.warning("refused %s from %s", RELOAD_PATH, request.remote)
            return web.json_response({"ok": False, "text": "Only from this host."}, status=403)
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token is None or not hmac.compare_digest(offered.encode(), token.encode()):
            log.warning("refused %s: wrong or missing admin token", RELOAD_PATH)
            return web.json_response(
                {"ok": False, "text": f"Wrong or missing admin token. Run `briefbot reload` on "
                                      f"this host as the user that runs the server (it reads "
                                      f"{token_path(ctx.settings)})."}, status=401)
        result = await local_reload(ctx, "http")
        ok = isinstance(result, Notice)
        return web.json_response({"ok": ok, "text": render_text(result),
                                  "data": result.data if ok else {}},  # type: ignore[union-attr]
                                 status=200 if ok else 422)

    async def forget_token(_: web.Application) -> None:
        remove_admin_token(ctx.settings, token)

    app.router.add_post(RELOAD_PATH, reload)
    app.on_cleanup.append(forget_token)


def install_sighup(ctx: AppContext) -> bool:
    """SIGHUP reloads the seeds (where the platform has it); the report goes to the log."""
    if not hasattr(signal, "SIGHUP"):
        return False
    tasks = ctx.background.sighup_tasks

    async def run() -> None:
        result = await local_reload(ctx, "sighup")
        log.info("SIGHUP reload: %s", render_text(result).replace("\n", " | "))

    def on_hup() -> None:
        task = asyncio.get_running_loop().create_task(run())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hup)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


class IndexVersionPoller:
    """Follows the store's index version so every replica serves the same seeds."""

    def __init__(self, ctx: AppContext, *, interval_s: float = POLL_INTERVAL_S) -> None:
        self.ctx = ctx
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._failed: int | None = None  # a version whose seeds did not build here
        self._purged_at: datetime | None = None

    def start(self) -> IndexVersionPoller:
        self._task = asyncio.create_task(self._run(), name="index-version-poller")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=5)
            self._task = None

    async def adopt(self) -> None:
        """Take the store's version as ours (for a context built without it; `serve`'s
        build_context reads it before building the index, so the poller never has to, and
        /healthz never shows a number that later goes backwards)."""
        self.ctx.index.version = await self.ctx.store.get_index_version()

    async def check_once(self) -> bool:
        """Reload when another replica recorded a newer version; True when we reloaded."""
        store, holder = self.ctx.store, self.ctx.index
        latest = await store.get_index_version()
        if latest <= holder.version or latest == self._failed:
            return False
        try:
            report = await reload_index(holder, self.ctx.settings, version=latest)
        except SeedError as exc:
            self._failed = latest
            log.error("replica reload to version %s failed; still serving version %s: %s",
                      latest, holder.version, exc.message)
            return False
        log.info("followed a reload by another replica",
                 extra={"version": report.version, "seconds": report.seconds,
                        "added": len(report.added), "changed": len(report.changed),
                        "removed": len(report.removed)})
        return True

    async def purge_if_due(self) -> None:
        now = self.ctx.clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        questions = self.ctx.question_log
        if questions is not None:  # what is still queued was asked before now: purge it too
            await questions.flush()
        removed = await self.ctx.store.purge_older_than(RETENTION_DAYS)
        if removed:
            log.info("purged %d questions, votes and keys older than %d days", removed,
                     RETENTION_DAYS)

    async def _run(self) -> None:
        while True:
            for step in (self.purge_if_due, self.check_once):
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the store may be briefly away; try again next tick
                    log.exception("index version poller step failed")
            await asyncio.sleep(self.interval_s)


def start_admin(ctx: AppContext, *, interval_s: float = POLL_INTERVAL_S) -> None:
    """SIGHUP and, with a store, the version poller (stopped by stop_admin)."""
    install_sighup(ctx)
    if ctx.store is not None:
        ctx.background.index_poller = IndexVersionPoller(ctx, interval_s=interval_s).start()


async def stop_admin(ctx: AppContext) -> None:
    poller, ctx.background.index_poller = ctx.background.index_poller, None
    if poller is not None:
        await poller.stop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
