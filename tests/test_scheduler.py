"""The scheduler, driven by `tick(now)` with an injected clock, against SQLite and PostgreSQL.

The platform boundary is a recording adapter (post_briefing appends to a list); everything
else — schedule, store, claims, briefing — is the real code.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.context import AppContext
from bot.models import Briefing
from bot.platform import AdapterDefaults, DeliveryError
from bot.scheduler import Scheduler
from bot.store import Store, open_store_url
from bot.store.deliveries import DEFAULT_LEASE
from tests.clock import FakeClock

T0 = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)  # a Monday, 08:30 UTC
DAY = date(2024, 3, 4)


class RecordingAdapter(AdapterDefaults):
    """Stands in for Slack/Discord at the platform boundary."""

    def __init__(self, name: str = "slack", failures: list[Exception] | None = None) -> None:
        self.name = name
        self.posts: list[tuple[str, Briefing]] = []
        self.failures = list(failures or [])

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append((channel_id, briefing))


class Sleeps:
    """Injected backoff sleep: records delays, advances the fake clock, never waits."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.clock.advance(seconds=delay)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 - timedelta(days=1))


@pytest.fixture
async def replicas(
    store_url: str, ctx: AppContext, clock: FakeClock
) -> AsyncIterator[list[AppContext]]:
    """Contexts as separate processes would have them: one store (engine, pool) each."""
    stores: list[Store] = []

    async def make() -> AppContext:
        stores.append(await open_store_url(store_url, clock=clock))
        return dataclasses.replace(ctx, store=stores[-1], clock=clock)

    contexts = [await make(), await make()]
    yield contexts
    for store in stores:
        await store.close()


async def subscribe(ctx: AppContext, channel: str, hh: int, mm: int, zone: str = "UTC",
                    platform: str = "slack") -> None:
    await ctx.store.upsert_subscription(platform, channel, "T1", hh, mm, zone, "U1")


async def test_posts_at_the_minute_once(replicas: list[AppContext]) -> None:
    ctx = replicas[0]
    await subscribe(ctx, "C1", 8, 30)
    adapter = RecordingAdapter()
    scheduler = Scheduler(ctx, {"slack": adapter})
    assert await scheduler.tick(T0 - timedelta(minutes=1)) == []
    [outcome] = await scheduler.tick(T0)
    assert (outcome.channel_id, outcome.local_date, outcome.status) == ("C1", DAY, "sent")
    assert await scheduler.tick(T0 + timedelta(minutes=1)) == []
    assert await Scheduler(ctx, {"slack": adapter}).tick(T0 + timedelta(minutes=2)) == []
    assert [(channel, b.kind) for channel, b in adapter.posts] == [("C1", "briefing")]
    last = await ctx.store.last_delivery("slack", "C1")
    assert last is not None and last.local_date == DAY and last.index_version == ctx.index.version
    previous = await ctx.store.previous_briefing("slack", "C1")
    assert previous is not None and previous[1] is not None
    assert previous[1].docs and previous[1].people
    # The next day posts again.
    [outcome] = await scheduler.tick(T0 + timedelta(days=1))
    assert outcome.local_date == DAY + timedelta(days=1) and len(adapter.posts) == 2


async def test_two_schedulers_race_on_200_subscriptions(replicas: list[AppContext]) -> None:
    """Two replicas, 200 channels due the same minute in four zones: each posted exactly once."""
    same_instant = [("UTC", 8, 30), ("Europe/Berlin", 9, 30), ("Asia/Kolkata", 14, 0),
                    ("America/New_York", 3, 30)]
    await asyncio.gather(*(
        subscribe(replicas[i % 2], f"C{i:03d}", *same_instant[i % 4][1:], same_instant[i % 4][0],
                  platform="slack" if i % 2 else "discord")
        for i in range(200)
    ))
    posted: list[RecordingAdapter] = []
    schedulers = []
    for ctx in replicas:
        adapters = {"slack": RecordingAdapter("slack"), "discord": RecordingAdapter("discord")}
        posted.extend(adapters.values())
        schedulers.append(Scheduler(ctx, adapters))

    for minute in range(3):  # the due minute, then two more ticks that must post nothing
        await asyncio.gather(*(s.tick(T0 + timedelta(minutes=minute)) for s in schedulers))

    channels = [channel for adapter in posted for channel, _ in adapter.posts]
    assert len(channels) == 200
    assert sorted(channels) == [f"C{i:03d}" for i in range(200)]


async def test_restart_between_claim_and_send(
    replicas: list[AppContext], clock: FakeClock
) -> None:
    """The worker dies after claiming; after the lease the restarted one posts it, once."""
    first, restarted = replicas
    await subscribe(first, "C1", 8, 30)
    entered, never = asyncio.Event(), asyncio.Event()

    class HangingAdapter(RecordingAdapter):
        async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
            entered.set()
            await never.wait()

    clock.now = T0
    dying = asyncio.create_task(Scheduler(first, {"slack": HangingAdapter()}).tick(T0))
    await asyncio.wait_for(entered.wait(), timeout=10)
    dying.cancel()  # killed between claim and send
    with pytest.raises(asyncio.CancelledError):
        await dying
    await first.store.close()
    assert await restarted.store.delivery_status("slack", "C1", DAY) == "claimed"

    adapter = RecordingAdapter()
    scheduler = Scheduler(restarted, {"slack": adapter})
    # Within the lease the claimant might still be alive: do not double.
    assert await scheduler.tick(T0 + timedelta(minutes=1)) == []
    assert adapter.posts == []
    # Past the lease the day is taken over and posted once.
    after = T0 + DEFAULT_LEASE + timedelta(minutes=1)
    clock.now = after
    [outcome] = await scheduler.tick(after)
    assert outcome.status == "sent"
    for minute in range(1, 4):
        assert await scheduler.tick(after + timedelta(minutes=minute)) == []
    assert [channel for channel, _ in adapter.posts] == ["C1"]


async def test_missed_by_less_than_six_hours_is_sent_late_once(
    replicas: list[AppContext],
) -> None:
    ctx = replicas[0]
    await subscribe(ctx, "late", 8, 30)   # 5 h 45 late at 14:15
    await subscribe(ctx, "stale", 8, 0)   # 6 h 15 late: skipped
    adapter = RecordingAdapter()
    scheduler = Scheduler(ctx, {"slack": adapter})
    back = T0 + timedelta(hours=5, minutes=45)
    assert [o.channel_id for o in await scheduler.tick(back)] == ["late"]
    assert await scheduler.tick(back + timedelta(minutes=1)) == []
    assert [channel for channel, _ in adapter.posts] == ["late"]
    assert await ctx.store.delivery_status("slack", "stale", DAY) is None


async def test_transient_errors_retry_with_backoff(
    replicas: list[AppContext], clock: FakeClock
) -> None:
    ctx = replicas[0]
    await subscribe(ctx, "C1", 8, 30)
    clock.now = T0
    sleeps = Sleeps(clock)
    adapter = RecordingAdapter(failures=[DeliveryError("rate limited"), DeliveryError("503")])
    [outcome] = await Scheduler(ctx, {"slack": adapter}, sleep=sleeps).tick(T0)
    assert (outcome.status, outcome.attempts) == ("sent", 3)
    assert sleeps.delays == [2.0, 4.0]
    assert len(adapter.posts) == 1


async def test_permanent_or_exhausted_failure_marks_the_day_failed(
    replicas: list[AppContext], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = replicas[0]
    await subscribe(ctx, "gone", 8, 30)
    await subscribe(ctx, "flaky", 8, 30)
    clock.now = T0
    sleeps = Sleeps(clock)

    class Adapter(RecordingAdapter):
        async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
            if channel_id == "gone":
                raise DeliveryError("channel_not_found", permanent=True)
            raise DeliveryError("timeout")

    scheduler = Scheduler(ctx, {"slack": Adapter()}, sleep=sleeps, retries=3)
    outcomes = {o.channel_id: o for o in await scheduler.tick(T0)}
    assert (outcomes["gone"].status, outcomes["gone"].attempts) == ("failed", 1)
    assert (outcomes["flaky"].status, outcomes["flaky"].attempts) == ("failed", 3)
    assert sleeps.delays == [2.0, 4.0]
    for channel in ("gone", "flaky"):
        assert await ctx.store.delivery_status("slack", channel, DAY) == "failed"
    assert "briefing failed" in caplog.text
    # A failed day is not retried by later ticks or by another replica.
    assert await scheduler.tick(T0 + timedelta(minutes=5)) == []
    assert await Scheduler(replicas[1], {"slack": Adapter()}).tick(T0 + timedelta(hours=1)) == []


async def test_platforms_without_an_adapter_are_left_alone(replicas: list[AppContext]) -> None:
    ctx = replicas[0]
    await subscribe(ctx, "D1", 8, 30, platform="discord")
    assert await Scheduler(ctx, {"slack": RecordingAdapter()}).tick(T0) == []
    assert await ctx.store.delivery_status("discord", "D1", DAY) is None


async def test_run_loop_starts_and_stops(replicas: list[AppContext]) -> None:
    scheduler = Scheduler(replicas[0], {"slack": RecordingAdapter()})
    scheduler.start()
    await asyncio.wait_for(scheduler.stop(), timeout=10)


async def test_next_briefing_says_what_is_new_since_the_previous(
    tmp_path: Path, ctx: AppContext, clock: FakeClock
) -> None:
    """Day 1 as usual; day 2 unchanged → 'nothing new'; after a reload → the new article."""
    from bot.engine.index import build_index
    from tests.conftest import SEEDS

    store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", clock=clock)
    try:
        ctx = dataclasses.replace(ctx, store=store, clock=clock)
        await subscribe(ctx, "C1", 8, 30)
        clock.now = T0
        adapter = RecordingAdapter()
        scheduler = Scheduler(ctx, {"slack": adapter})
        for day in range(2):
            await scheduler.tick(clock.advance(days=1) if day else T0)
        first, second = (b for _, b in adapter.posts)
        assert not any("new" in s.heading.lower() for s in first.sections)
        assert second.sections[-1].lines == ["Nothing new since 04 Mar 2024."]

        seeds = tmp_path / "seeds"
        seeds.mkdir()
        for path in SEEDS.iterdir():
            (seeds / path.name).write_bytes(path.read_bytes())
        (seeds / "harbour.txt").write_text(
            "From: Ana Lee\n\nThe harbour reopens in May.\n\n"
            "The port authority said on Monday that the harbour will reopen in May after "
            "repairs. Dock workers welcomed the news.\n", encoding="utf-8")
        ctx.index.swap(await asyncio.to_thread(build_index, seeds))
        await scheduler.tick(clock.advance(days=1))
        news = adapter.posts[-1][1].sections[-1]
        assert news.heading == "New since 05 Mar 2024"
        assert any("harbour" in line.lower() for line in news.lines)
    finally:
        await store.close()


# --- holding the claim while the post runs (issue 12) ---------------------------------------

class Beats:
    """The heartbeat's sleep, driven by the test: `beat()` lets one sleep end and returns when
    the heartbeat is asleep again (so the renewal after it is done). Every wait is bounded."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._go = asyncio.Event()
        self._asleep = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self._go.clear()
        self._asleep.set()
        await self._go.wait()

    async def beat(self) -> None:
        await self.wake()
        await asyncio.wait_for(self._asleep.wait(), 10)

    async def wake(self) -> None:
        """Let the heartbeat's current sleep end, once it is asleep."""
        await asyncio.wait_for(self._asleep.wait(), 10)
        self._asleep.clear()
        self._go.set()


class SlowAdapter(RecordingAdapter):
    """A post that takes as long as the test wants: it lands when `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = asyncio.Event(), asyncio.Event()

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        self.entered.set()
        await asyncio.wait_for(self.release.wait(), 30)
        self.posts.append((channel_id, briefing))


async def test_a_post_slower_than_the_lease_is_posted_once(
    replicas: list[AppContext], clock: FakeClock
) -> None:
    """Replica A's post takes 4 minutes (twice the lease); B ticks every 30 s meanwhile and
    never takes the day over, because A's heartbeat keeps the claim."""
    first, second = replicas
    await subscribe(first, "C1", 8, 30)
    clock.now = T0
    slow, other, beats = SlowAdapter(), RecordingAdapter(), Beats()
    a = Scheduler(first, {"slack": slow}, heartbeat_sleep=beats)
    b = Scheduler(second, {"slack": other})
    sending = asyncio.create_task(a.tick(T0))
    try:
        await asyncio.wait_for(slow.entered.wait(), 10)
        for _ in range(8):
            clock.advance(seconds=30)
            await beats.beat()
            assert await b.tick(clock.now) == []
        assert clock.now - T0 > DEFAULT_LEASE
        slow.release.set()
        [outcome] = await asyncio.wait_for(sending, 10)
    finally:
        sending.cancel()
    assert outcome.status == "sent"
    assert await b.tick(clock.advance(minutes=5)) == []
    assert [channel for channel, _ in slow.posts] == ["C1"] and other.posts == []
    assert await first.store.delivery_status("slack", "C1", DAY) == "sent"
    assert beats.delays and all(d == DEFAULT_LEASE.total_seconds() / 4 for d in beats.delays)


async def test_the_lease_starts_when_the_claim_is_made_not_when_the_tick_began(
    replicas: list[AppContext], clock: FakeClock
) -> None:
    """A tick that began at 08:30 reaches this channel 3 minutes later (many channels due):
    its claim must not already look stale to the other replica."""
    first, second = replicas
    await subscribe(first, "C1", 8, 30)
    slow, other, beats = SlowAdapter(), RecordingAdapter(), Beats()
    clock.now = T0 + DEFAULT_LEASE + timedelta(minutes=1)
    sending = asyncio.create_task(
        Scheduler(first, {"slack": slow}, heartbeat_sleep=beats).tick(T0))
    try:
        await asyncio.wait_for(slow.entered.wait(), 10)
        clock.advance(seconds=10)  # no heartbeat yet
        assert await Scheduler(second, {"slack": other}).tick(clock.now) == []
        slow.release.set()
        [outcome] = await asyncio.wait_for(sending, 10)
    finally:
        sending.cancel()
    assert outcome.status == "sent" and len(slow.posts) == 1 and other.posts == []


async def test_a_claim_taken_over_meanwhile_abandons_the_post(
    replicas: list[AppContext], clock: FakeClock
) -> None:
    """If the claim is lost anyway (its heartbeat could not reach the store for a whole
    lease), the first replica does not post on: the day's owner does, once."""
    first, second = replicas
    await subscribe(first, "C1", 8, 30)
    clock.now = T0
    slow, other, beats = SlowAdapter(), RecordingAdapter(), Beats()
    sending = asyncio.create_task(
        Scheduler(first, {"slack": slow}, heartbeat_sleep=beats).tick(T0))
    try:
        await asyncio.wait_for(slow.entered.wait(), 10)
        clock.advance(minutes=3)  # the heartbeat was stalled past the lease
        [taken] = await Scheduler(second, {"slack": other}).tick(clock.now)
        assert taken.status == "sent"
        await beats.wake()  # A's heartbeat wakes, finds the day taken over, and abandons
        [outcome] = await asyncio.wait_for(sending, 10)
    finally:
        slow.release.set()
        sending.cancel()
    assert outcome.status == "lost"
    assert slow.posts == [] and [channel for channel, _ in other.posts] == ["C1"]
    assert await first.store.delivery_status("slack", "C1", DAY) == "sent"
