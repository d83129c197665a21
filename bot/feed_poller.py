"""The feed poller: fetches the feeds of `seeds/feeds.yaml` and adds their new items.

Every `BRIEFBOT_FEED_INTERVAL_MINUTES` (30) each feed is fetched through the same guarded fetch
as `briefbot add` (RSS/Atom/XML content types), with the `ETag` / `Last-Modified` of its last
200 sent back as `If-None-Match` / `If-Modified-Since`; those validators and the time of the
last poll live in the store, so a restart or another replica picks up where this one was. Each
item (keyed by its guid, else its normalised link) is claimed in the store with ONE statement
(INSERT … ON CONFLICT DO NOTHING RETURNING) before its page is fetched: only the replica that
got the row back adds it (`add_url`, as `briefbot add`), so an item is added once however many
replicas poll. After a poll that wrote a file the seeds are reloaded once, as `/reload` does:
the store records the new files with its new index version, and the other replicas write
them into their own seeds folders and follow. An item that cannot be
added (no article on the page, a refused address) is remembered as failed and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.background import stop_gracefully
from bot.errors import SeedError
from bot.ingest.feeds import FeedItem, FeedSpec, feeds_path, load_feeds, parse_items
from bot.ingest.fetch import FEED_ACCEPT, FEED_TYPES, FetchRefused, fetch_page

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger("briefbot.feeds")

MAX_ITEMS_PER_POLL = 20  # per feed: a new feed's backlog arrives over a few polls
CHECK_EVERY_S = 60.0  # how often the loop asks whether a feed is due


@dataclass
class FeedResult:
    """What one poll did to one feed."""

    url: str
    status: str  # "200", "304", "error", "skipped" (not due)
    items: int = 0
    matching: int = 0
    added: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class PollReport:
    feeds: list[FeedResult] = field(default_factory=list)
    reloaded: bool = False
    reload_error: str | None = None
    error: str | None = None  # feeds.yaml itself

    @property
    def added(self) -> list[str]:
        return [path for result in self.feeds for path in result.added]


class FeedPoller:
    """Polls the feeds of `ctx.settings.seeds_dir/feeds.yaml` against `ctx.store`."""

    def __init__(self, ctx: AppContext, *, clock: Callable[[], datetime] | None = None,
                 interval: timedelta | None = None, check_every_s: float = CHECK_EVERY_S,
                 worker_id: str | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or ctx.clock
        minutes = ctx.settings.feed_interval_minutes
        self.interval = interval or timedelta(minutes=minutes)
        self.check_every_s = check_every_s
        self.worker_id = worker_id or (ctx.store.worker_id if ctx.store is not None else None)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def seeds_dir(self) -> Path:
        return Path(self.ctx.settings.seeds_dir)

    async def tick(self, now: datetime | None = None) -> PollReport:
        """Poll every feed that is due at `now` (never polled, or last polled — by any
        replica — an interval ago or more); reload once if anything was added."""
        now = now or self.clock()
        try:
            specs = await asyncio.to_thread(load_feeds, self.seeds_dir)
        except SeedError as exc:
            log.error("feeds not polled: %s", exc.message)
            return PollReport(error=exc.message)
        states = await self.ctx.store.feed_states()
        report = PollReport()
        for spec in specs:
            state = states.get(spec.url)
            if state is not None and state.polled_at is not None and (
                    now - state.polled_at < self.interval):
                report.feeds.append(FeedResult(spec.url, "skipped"))
                continue
            try:
                result = await self._poll_feed(spec, state, now)
            except Exception as exc:  # one broken feed does not stop the others
                log.exception("feed poll failed", extra={"feed": spec.url})
                result = FeedResult(spec.url, "error", error=f"{type(exc).__name__}: {exc}")
                with contextlib.suppress(Exception):
                    await self.ctx.store.record_feed_poll(spec.url, polled_at=now,
                                                          status="error", error=result.error)
            report.feeds.append(result)
        if report.added:
            await self._reload(report)
        return report

    async def _poll_feed(self, spec: FeedSpec, state: Any, now: datetime) -> FeedResult:
        store = self.ctx.store
        conditional: dict[str, str] = {}
        if state is not None and state.etag:
            conditional["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            conditional["If-Modified-Since"] = state.last_modified
        try:
            page = await fetch_page(spec.url, allow_hosts=self.ctx.settings.fetch_allow_hosts,
                                    types=FEED_TYPES, accept=FEED_ACCEPT,
                                    conditional=conditional)
            items = [] if page.not_modified else await asyncio.to_thread(
                parse_items, page.text, page.final_url)
        except FetchRefused as exc:
            log.warning("feed not fetched: %s", exc.message, extra={"feed": spec.url})
            await store.record_feed_poll(spec.url, polled_at=now, status="error",
                                         error=exc.message)
            return FeedResult(spec.url, "error", error=exc.message)
        if page.not_modified:
            await store.record_feed_poll(spec.url, polled_at=now, status="304")
            return FeedResult(spec.url, "304")
        result = FeedResult(spec.url, "200", items=len(items))
        wanted = [item for item in items if spec.matches(item.text)]
        result.matching = len(wanted)
        known = await store.known_feed_items([item.key for item in wanted])
        for item in [i for i in wanted if i.key not in known][:MAX_ITEMS_PER_POLL]:
            if not await store.claim_feed_item(item.key, feed_url=spec.url, url=item.url,
                                               title=item.title or None,
                                               worker=self.worker_id):
                continue  # another replica has it
            await self._add(spec, item, result)
        await store.record_feed_poll(spec.url, polled_at=now, status="200",
                                     etag=page.etag, last_modified=page.last_modified)
        return result

    async def _add(self, spec: FeedSpec, item: FeedItem, result: FeedResult) -> None:
        from bot.ingest.add import add_url, people_in

        where = {"feed": spec.url, "item": item.url}
        try:
            added = await add_url(item.url, self.seeds_dir,
                                  allow_hosts=self.ctx.settings.fetch_allow_hosts,
                                  clock=self.clock, inspect=people_in)
        except (FetchRefused, SeedError) as exc:
            message = exc.message
        except Exception as exc:  # the item is remembered as failed; the poll goes on
            log.exception("feed item could not be added", extra=where)
            message = f"{type(exc).__name__}: {exc}"
        else:
            await self.ctx.store.finish_feed_item(item.key, "added", path=added.path.name)
            log.info("feed item added", extra={**where, "path": added.path.name})
            result.added.append(added.path.name)
            return
        log.warning("feed item not added: %s", message, extra=where)
        await self.ctx.store.finish_feed_item(item.key, "failed", error=message)
        result.failed.append(item.url)

    async def _reload(self, report: PollReport) -> None:
        from bot.ingest.mirror import change_from_file
        from bot.models import UserError
        from handlers.reload import reload_seeds
        from handlers.requests import CommandRequest

        request = CommandRequest(command="reload", platform="cli", user_id="feeds")
        written = []
        for name in report.added:
            try:
                written.append(change_from_file(self.seeds_dir / name, by="feeds"))
            except (OSError, UnicodeDecodeError) as exc:  # gone already: nothing to record
                log.warning("feed item %s cannot be recorded: %s", name, exc)
        reloaded = await reload_seeds(request, self.ctx, written)  # recorded for every replica
        if isinstance(reloaded, UserError):
            report.reload_error = reloaded.message
            log.error("feed items written, but the reload failed: %s", reloaded.message)
        else:
            report.reloaded = True

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Tick every `check_every_s` until `stop()` (each feed is fetched when it is due)."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("feed poll failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.check_every_s)

    def start(self) -> FeedPoller:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="feed-poller")
        return self

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let an item being added finish (up to `grace_s`), then cancel."""
        self._stopping.set()
        await stop_gracefully(self._task, grace_s)
        self._task = None


def start_feeds(ctx: AppContext) -> FeedPoller | None:
    """Start polling when seeds/feeds.yaml exists and there is a store (stop_feeds stops)."""
    if ctx.store is None or not feeds_path(ctx.settings.seeds_dir).exists():
        return None
    poller = FeedPoller(ctx).start()
    ctx.background.feed_poller = poller
    log.info("polling feeds", extra={"every_minutes": poller.interval.total_seconds() / 60})
    return poller


async def stop_feeds(ctx: AppContext, grace_s: float = 5.0) -> None:
    poller, ctx.background.feed_poller = ctx.background.feed_poller, None
    if poller is not None:
        await poller.stop(grace_s)
