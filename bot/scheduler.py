"""Posts each subscribed channel's daily briefing exactly once per local day.

Every minute (or on each `tick(now)` in tests) the scheduler finds the subscriptions that are
due (bot/schedule.py), claims (platform, channel, local date) in the store with one atomic
statement, composes the briefing, posts it through the platform's adapter and records the
delivery. Any number of schedulers (replicas) may share one PostgreSQL: only the claimant
posts. A claimant that dies between claim and send stops renewing its lease, and after
`lease` another scheduler (or the restarted one) takes the day over and posts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from bot.models import Briefing
from bot.observability import briefing_failed, briefing_sent
from bot.schedule import LATE_WINDOW, due_date
from bot.serve import DeliveryError, PlatformAdapter
from bot.store.store import DEFAULT_LEASE, Known, Subscription

if TYPE_CHECKING:
    from bot.engine.index import KnowledgeIndex
    from handlers.context import AppContext

log = logging.getLogger("briefbot.scheduler")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    platform: str
    channel_id: str
    local_date: date
    status: Literal["sent", "failed", "lost"]
    attempts: int


def known_by(index: KnowledgeIndex) -> Known:
    """What a briefing from `index` has shown: next time, anything else is new."""
    return Known(frozenset(d.id for d in index.documents), frozenset(index.people_names()))


class Scheduler:
    def __init__(
        self,
        ctx: AppContext,
        adapters: Mapping[str, PlatformAdapter],
        *,
        sleep: Sleep = asyncio.sleep,
        retries: int = 4,
        backoff_s: float = 2.0,
        lease: timedelta = DEFAULT_LEASE,
        late_window: timedelta = LATE_WINDOW,
        concurrency: int = 8,
        worker_id: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.adapters = dict(adapters)
        self.sleep = sleep
        self.retries = retries
        self.backoff_s = backoff_s
        self.lease = lease
        self.late_window = late_window
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self._slots = asyncio.Semaphore(concurrency)
        self._done: set[tuple[str, str, date]] = set()  # days known claimed: skip the store
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- one pass -----------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> list[Outcome]:
        """Deliver every briefing due at `now`; returns what this scheduler posted or failed."""
        now = now or self.ctx.clock()
        jobs = []
        for sub in await self.ctx.store.list_subscriptions():
            if sub.platform not in self.adapters:
                continue
            try:
                day = due_date(now, sub.daily, not_before=sub.updated_at,
                               late_window=self.late_window)
            except Exception:  # a zone tzdata no longer knows: skip it, keep the rest
                log.exception("bad subscription", extra={"platform": sub.platform,
                                                         "channel": sub.channel_id})
                continue
            if day is not None and (sub.platform, sub.channel_id, day) not in self._done:
                jobs.append(self._claim_and_deliver(sub, day, now))
        self._done = {key for key in self._done if key[2] >= now.date() - timedelta(days=2)}
        return [outcome for outcome in await asyncio.gather(*jobs) if outcome is not None]

    async def _claim_and_deliver(
        self, sub: Subscription, day: date, now: datetime
    ) -> Outcome | None:
        async with self._slots:
            claimed = await self.ctx.store.claim_delivery(
                sub.platform, sub.channel_id, day, worker=self.worker_id, now=now,
                lease=self.lease,
            )
            if not claimed:
                # Sent, failed or being sent elsewhere. A claim that goes stale is retaken by
                # the next tick only if we don't remember it, so remember just final ones.
                if await self.ctx.store.delivery_status(sub.platform, sub.channel_id, day) in (
                    "sent", "failed",
                ):
                    self._done.add((sub.platform, sub.channel_id, day))
                return None
            outcome = await self._deliver(sub, day)
            self._done.add((sub.platform, sub.channel_id, day))
            return outcome

    async def _compose(self, sub: Subscription) -> tuple[Briefing, int, Known]:
        """The briefing, with what is new since the channel's previous one."""
        previous = await self.ctx.store.previous_briefing(sub.platform, sub.channel_id)
        last, known = previous if previous else (None, None)
        index, version = self.ctx.index.current, self.ctx.index.version
        briefing = await asyncio.to_thread(
            index.briefing, since=last.sent_at if last else None,
            known_docs=set(known.docs) if known else None,
            known_people=set(known.people) if known else None,
        )
        return briefing, version, known_by(index)

    async def _deliver(self, sub: Subscription, day: date) -> Outcome:
        store, key = self.ctx.store, (sub.platform, sub.channel_id, day)
        where = {"platform": sub.platform, "channel": sub.channel_id, "local_date": str(day)}
        try:
            briefing, version, known = await self._compose(sub)
        except Exception as exc:
            log.exception("briefing could not be composed", extra=where)
            await store.record_delivery(*key, "failed", f"compose: {exc}")
            briefing_failed(sub.platform)
            return Outcome(*key, "failed", 0)
        attempt, error = 0, ""
        while attempt < self.retries:
            attempt += 1
            try:
                await self.adapters[sub.platform].post_briefing(sub.channel_id, briefing)
            except Exception as exc:
                permanent = isinstance(exc, DeliveryError) and exc.permanent
                error = str(exc) or type(exc).__name__
                if not isinstance(exc, DeliveryError):
                    log.exception("adapter raised a non-DeliveryError", extra=where)
                if permanent or attempt >= self.retries:
                    break
                delay = self.backoff_s * 2 ** (attempt - 1)
                log.warning("briefing post failed, retrying",
                            extra={**where, "attempt": attempt, "error": error,
                                   "retry_in_s": delay})
                await self.sleep(delay)
                if not await store.renew_claim(*key, worker=self.worker_id,
                                               now=self.ctx.clock()):
                    log.warning("another worker took over this briefing", extra=where)
                    return Outcome(*key, "lost", attempt)
                continue
            await store.record_delivery(*key, "sent", index_version=version,
                                        known=known, now=self.ctx.clock())
            log.info("briefing posted", extra={**where, "attempts": attempt})
            briefing_sent(sub.platform)
            return Outcome(*key, "sent", attempt)
        await store.record_delivery(*key, "failed", error, now=self.ctx.clock())
        briefing_failed(sub.platform)
        log.error("briefing failed; this day is skipped",
                  extra={**where, "attempts": attempt, "error": error})
        return Outcome(*key, "failed", attempt)

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Tick at the start of every minute until `stop()`."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; trying again next minute")
            now = self.ctx.clock()
            delay = 60 - now.second - now.microsecond / 1e6
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="briefing-scheduler")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let a delivery in progress finish (up to `grace_s`), then cancel.

        A cancelled delivery leaves its claim behind; after the lease another scheduler,
        or this one after a restart, takes it over, so the day is not lost.
        """
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None


def start_scheduler(ctx: AppContext, adapters: list[PlatformAdapter]) -> Scheduler | None:
    """Start posting briefings through `adapters` (by their platform name); needs a store.

    Also publishes the adapters as ctx.extras["adapters"] so `/brief subscribe` can ask one
    whether the bot may post in the channel.
    """
    by_platform = {adapter.name: adapter for adapter in adapters}
    ctx.extras["adapters"] = by_platform
    if ctx.store is None or not by_platform:
        return None
    scheduler = Scheduler(ctx, by_platform)
    scheduler.start()
    ctx.extras["scheduler"] = scheduler
    return scheduler
