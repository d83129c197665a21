"""Posts each subscribed channel's daily briefing exactly once per local day.

Every minute (or on each `tick(now)` in tests) the scheduler finds the subscriptions that are
due (bot/schedule.py), claims (platform, channel, local date) in the store with one atomic
statement, composes the briefing, posts it through the platform's adapter and records the
delivery. Any number of schedulers (replicas) may share one PostgreSQL: only the claimant
posts. The claimant holds its claim for as long as it works on the day: a heartbeat renews
the lease every `lease / 4` while it composes and sends (however long the platform takes),
every post attempt first checks with the store that the claim is still ours, and the result
is recorded only under that same claim (a fencing token). A claimant that dies stops
renewing, and after `lease` another scheduler (or the restarted one) takes the day over and
posts it; a claimant that cannot renew for a whole lease (or finds the day taken over)
abandons its post.
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

from bot.background import stop_gracefully
from bot.models import Briefing
from bot.observability import briefing_failed, briefing_sent
from bot.platform import DeliveryError, PlatformAdapter
from bot.schedule import LATE_WINDOW, due_date
from bot.store.deliveries import DEFAULT_LEASE
from bot.store.records import Known, Subscription

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.engine.index import KnowledgeIndex

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
        heartbeat_s: float | None = None,
        heartbeat_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.adapters = dict(adapters)
        self.sleep = sleep
        self.retries = retries
        self.backoff_s = backoff_s
        self.lease = lease
        self.late_window = late_window
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self.heartbeat_s = heartbeat_s or lease.total_seconds() / 4
        self.heartbeat_sleep = heartbeat_sleep
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
            key = (sub.platform, sub.channel_id, day)
            # The lease starts now, when the claim is made, not when the tick began (a tick
            # with many channels due reaches the last ones much later).
            token = await self.ctx.store.claim_delivery_token(
                *key, worker=self.worker_id, now=self.ctx.clock(), lease=self.lease,
            )
            if token is None:
                # Sent, failed or being sent elsewhere. A claim that goes stale is retaken by
                # the next tick only if we don't remember it, so remember just final ones.
                if await self.ctx.store.delivery_status(*key) in ("sent", "failed"):
                    self._done.add(key)
                return None
            outcome = await self._holding(sub, day, token)
            if outcome.status != "lost":
                self._done.add(key)
            return outcome

    async def _holding(self, sub: Subscription, day: date, token: int) -> Outcome:
        """Deliver while a heartbeat holds the claim; abandon the delivery if it is lost."""
        key = (sub.platform, sub.channel_id, day)
        deliver = asyncio.create_task(self._deliver(sub, day, token))
        heartbeat = asyncio.create_task(self._heartbeat(key, token))
        try:
            await asyncio.wait({deliver, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if deliver.done():
                return deliver.result()
            # The heartbeat ended: another worker has the day, or we could not renew for a
            # whole lease (so another may have). Sending on could post it twice.
            deliver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deliver
            return Outcome(*key, "lost", 0)
        finally:
            for task in (deliver, heartbeat):
                task.cancel()
            await asyncio.gather(deliver, heartbeat, return_exceptions=True)

    async def _heartbeat(self, key: tuple[str, str, date], token: int) -> None:
        """Renew the claim every `heartbeat_s`; return when it is lost."""
        where = {"platform": key[0], "channel": key[1], "local_date": str(key[2])}
        renewed = self.ctx.clock()
        while True:
            await self.heartbeat_sleep(self.heartbeat_s)
            now = self.ctx.clock()
            try:
                if await self.ctx.store.renew_claim(*key, worker=self.worker_id, token=token,
                                                    now=now):
                    renewed = now
                    continue
                log.warning("another worker took over this briefing; abandoning it",
                            extra=where)
                return
            except Exception as exc:
                if now - renewed >= self.lease:
                    log.error("could not renew the briefing claim for a whole lease; "
                              "abandoning it so it is not posted twice",
                              extra={**where, "error": str(exc)})
                    return
                log.warning("could not renew the briefing claim; trying again",
                            extra={**where, "error": str(exc)})

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

    async def _deliver(self, sub: Subscription, day: date, token: int) -> Outcome:
        store, key = self.ctx.store, (sub.platform, sub.channel_id, day)
        where = {"platform": sub.platform, "channel": sub.channel_id, "local_date": str(day)}
        mine = {"worker": self.worker_id, "token": token}
        try:
            briefing, version, known = await self._compose(sub)
        except Exception as exc:
            log.exception("briefing could not be composed", extra=where)
            await store.record_delivery(*key, "failed", f"compose: {exc}", **mine)
            briefing_failed(sub.platform)
            return Outcome(*key, "failed", 0)
        attempt, error = 0, ""
        while attempt < self.retries:
            attempt += 1
            # The fence: post only while the store still says this claim is ours.
            if not await store.renew_claim(*key, now=self.ctx.clock(), **mine):
                log.warning("another worker took over this briefing", extra=where)
                return Outcome(*key, "lost", attempt - 1)
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
                continue
            if not await store.record_delivery(*key, "sent", index_version=version,
                                               known=known, now=self.ctx.clock(), **mine):
                log.error("briefing posted, but another worker had taken the day over: it "
                          "may have been posted twice", extra={**where, "attempts": attempt})
            else:
                log.info("briefing posted", extra={**where, "attempts": attempt})
            briefing_sent(sub.platform)
            return Outcome(*key, "sent", attempt)
        await store.record_delivery(*key, "failed", error, now=self.ctx.clock(), **mine)
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
        await stop_gracefully(self._task, grace_s)
        self._task = None


def start_scheduler(ctx: AppContext, adapters: list[PlatformAdapter]) -> Scheduler | None:
    """Start posting briefings through `adapters` (by their platform name); needs a store.

    Also publishes the adapters as `ctx.platforms` so `/brief subscribe` can ask one
    whether the bot may post in the channel.
    """
    by_platform = {adapter.name: adapter for adapter in adapters}
    ctx.platforms = by_platform
    if ctx.store is None or not by_platform:
        return None
    scheduler = Scheduler(ctx, by_platform)
    scheduler.start()
    ctx.background.scheduler = scheduler
    return scheduler
