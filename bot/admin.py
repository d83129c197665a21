"""Reload a running server from its own host, and keep replicas on the same index version.

- POST /admin/reload on the shared aiohttp app, accepted only from a loopback peer that no
  proxy forwarded and carrying the admin token: `briefbot reload` posts there. The server
  writes a fresh token at start to BRIEFBOT_DATA_DIR/admin.token, readable only by its own
  user, so other local users cannot reload. SIGHUP does the same.
- IndexVersionPoller: every few seconds compares the store's index version with ours and,
  when another replica reloaded, writes the store's added articles into our seeds folder
  and rebuilds. It also purges questions and votes older than 90 days, at start and once a
  day.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import re
import secrets
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.context import AppContext
from bot.engine.reload import reload_index
from bot.errors import SeedError
from bot.ingest.mirror import SeedSyncError
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


async def local_reload(ctx: AppContext, via: str, *, publish: list[str] | None = None) -> Result:
    """The reload handler as the command line calls it (the host's operator is an admin);
    `publish`: seed files `briefbot add` just wrote, recorded in the store with the reload."""
    from handlers.registry import dispatch
    from handlers.reload import PUBLISH_OPTION

    options = {PUBLISH_OPTION: "\n".join(publish)} if publish else {}
    return await dispatch(CommandRequest(command="reload", platform="cli", user_id=via,
                                         options=options), ctx)


_USER = re.compile(r"[\w.@-]{1,64}")


async def reload_body(request: web.Request) -> tuple[list[str], str] | str:
    """An authenticated reload's optional JSON body `{"publish": ["name.md"], "user":
    "alice"}`: the files to record and who asked; a string saying what is wrong with it."""
    if not request.can_read_body:
        return [], "http"
    try:
        body = await request.json()
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict) or set(body) - {"publish", "user"}:
        return "the body must be an object with `publish` and `user` only"
    publish, user = body.get("publish", []), body.get("user", "http")
    if not isinstance(publish, list) or not all(isinstance(n, str) for n in publish):
        return "`publish` must be a list of file names"
    if not isinstance(user, str) or not _USER.fullmatch(user):
        return "`user` must be a user name"
    return publish, user


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
        parsed = await reload_body(request)
        if isinstance(parsed, str):
            return web.json_response({"ok": False, "text": f"Bad request: {parsed}."},
                                     status=400)
        publish, user = parsed
        result = await local_reload(ctx, user, publish=publish)
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
        self._sync_error: str | None = None  # the last one logged, so it is logged once
        self._purged_at: datetime | None = None
        self._wake = asyncio.Event()

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
        """Reload when another replica recorded a newer version (or recorded articles while
        this one built a reload of its own); True when we reloaded. The seeds folder first
        takes the store's articles (bot/ingest/mirror.py), so it holds what that version
        went live with."""
        store, holder, mirror = self.ctx.store, self.ctx.index, self.ctx.seed_mirror
        latest = await store.get_index_version()
        if latest == self._failed or (latest <= holder.version and not mirror.behind):
            return False
        mirror.behind = False  # a reload of our own may set it again while we build
        try:
            await mirror.sync(store.articles)
        except SeedSyncError as exc:
            mirror.behind = True  # try again next tick, whether or not the version moves
            level = logging.DEBUG if exc.message == self._sync_error else logging.ERROR
            self._sync_error = exc.message
            log.log(level, "replica cannot follow version %s yet; still serving version %s: "
                    "%s", latest, holder.version, exc.message)
            return False
        self._sync_error = None
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

    def wake(self) -> None:
        """Check now instead of at the end of the interval (tests; a local change)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            for step in (self.purge_if_due, self.check_once):
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the store may be briefly away; try again next tick
                    log.exception("index version poller step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)


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
