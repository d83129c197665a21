"""The same store tests against SQLite and a real PostgreSQL (started by tests/pg.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.settings import Settings
from bot.store import Store, open_store, open_store_url
from bot.store import tables as t
from bot.store.deliveries import DEFAULT_LEASE
from bot.store.migrations import head
from bot.store.records import AskedQuestion, Known
from tests.clock import FakeClock
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
DAY = date(2024, 3, 4)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    s = await open_store_url(store_url, clock=clock)
    yield s
    await s.close()


async def test_claim_once_is_true_once(store: Store) -> None:
    assert await store.claim_once("share:slack:C1:a1")
    assert not await store.claim_once("share:slack:C1:a1")
    assert await store.claim_once("share:slack:C2:a1")


async def test_concurrent_claim_once_has_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_once("k") for _ in range(20)))
    assert results.count(True) == 1


async def test_subscription_crud(store: Store, clock: FakeClock) -> None:
    first = await store.upsert_subscription("slack", "C1", "T1", 8, 30, "Europe/Berlin", "U1")
    assert (first.hour, first.minute, first.zone, first.created_at) == (8, 30, "Europe/Berlin", T0)
    clock.advance(hours=1)
    second = await store.upsert_subscription("slack", "C1", "T1", 9, 5, "UTC", "U2")
    assert (second.hour, second.minute, second.zone, second.created_by) == (9, 5, "UTC", "U2")
    assert second.created_at == T0 and second.updated_at == T0 + timedelta(hours=1)
    await store.upsert_subscription("discord", "C1", "G1", 7, 0, "Asia/Kolkata", "42")

    assert await store.get_subscription("slack", "C1") == second
    assert await store.get_subscription("slack", "nope") is None
    assert [(s.platform, s.channel_id) for s in await store.list_subscriptions()] == [
        ("discord", "C1"), ("slack", "C1")
    ]
    assert await store.delete_subscription("slack", "C1")
    assert not await store.delete_subscription("slack", "C1")
    assert [s.platform for s in await store.list_subscriptions()] == ["discord"]


async def test_delivery_claimed_once_and_recorded(store: Store, clock: FakeClock) -> None:
    assert await store.claim_delivery("slack", "C1", DAY, worker="a")
    assert not await store.claim_delivery("slack", "C1", DAY, worker="b")
    assert await store.claim_delivery("slack", "C1", DAY + timedelta(days=1), worker="b")
    assert await store.delivery_status("slack", "C1", DAY) == "claimed"
    assert await store.last_delivery("slack", "C1") is None

    clock.advance(seconds=5)
    known = Known(frozenset({"d2", "d1"}), frozenset({"Kim Jong Un"}))
    await store.record_delivery("slack", "C1", DAY, "sent", index_version=3, known=known)
    assert await store.last_delivery("slack", "C1") == (DAY, T0 + timedelta(seconds=5), 3)
    assert await store.previous_briefing("slack", "C1") == (
        (DAY, T0 + timedelta(seconds=5), 3), known)
    # A sent day is never claimed again, however old the claim.
    later = T0 + timedelta(hours=5)
    assert not await store.claim_delivery("slack", "C1", DAY, worker="c", now=later)


async def test_stale_claim_is_taken_over_once(store: Store) -> None:
    """A worker that died between claim and send: its day is re-claimable after the lease."""
    assert await store.claim_delivery("slack", "C1", DAY, worker="dead", now=T0)
    within = T0 + DEFAULT_LEASE - timedelta(seconds=1)
    assert not await store.claim_delivery("slack", "C1", DAY, worker="b", now=within)
    after = T0 + DEFAULT_LEASE + timedelta(seconds=1)
    racers = await asyncio.gather(
        *(store.claim_delivery("slack", "C1", DAY, worker=f"w{i}", now=after) for i in range(10))
    )
    assert racers.count(True) == 1
    # The new owner renews its lease; the dead worker cannot.
    winner = f"w{racers.index(True)}"
    assert not await store.renew_claim("slack", "C1", DAY, worker="dead", now=after)
    assert await store.renew_claim("slack", "C1", DAY, worker=winner, now=after + DEFAULT_LEASE)
    nearly = after + 2 * DEFAULT_LEASE - timedelta(seconds=1)
    assert not await store.claim_delivery("slack", "C1", DAY, worker="c", now=nearly)


async def test_a_claim_taken_over_cannot_be_renewed_or_finished_by_its_old_token(
        store: Store) -> None:
    """The fencing token: after a takeover the first claim (even by the same worker id) can
    neither extend the lease nor record the day; the new claim can."""
    first = await store.claim_delivery_token("slack", "C1", DAY, worker="w", now=T0)
    assert first == 1
    assert await store.renew_claim("slack", "C1", DAY, worker="w", token=first, now=T0)
    after = T0 + DEFAULT_LEASE + timedelta(seconds=1)
    second = await store.claim_delivery_token("slack", "C1", DAY, worker="w", now=after)
    assert second == 2
    assert not await store.renew_claim("slack", "C1", DAY, worker="w", token=first, now=after)
    assert not await store.record_delivery("slack", "C1", DAY, "failed", "late", worker="w",
                                           token=first)
    assert await store.delivery_status("slack", "C1", DAY) == "claimed"
    assert await store.record_delivery("slack", "C1", DAY, "sent", index_version=4, worker="w",
                                       token=second)
    assert await store.delivery_status("slack", "C1", DAY) == "sent"
    assert not await store.renew_claim("slack", "C1", DAY, worker="w", token=second, now=after)


async def test_failed_day_is_not_claimed_again(store: Store) -> None:
    assert await store.claim_delivery("discord", "9", DAY)
    await store.record_delivery("discord", "9", DAY, "failed", "Missing Access")
    assert await store.delivery_status("discord", "9", DAY) == "failed"
    assert not await store.claim_delivery("discord", "9", DAY, now=T0 + timedelta(hours=1))
    assert await store.last_delivery("discord", "9") is None


async def test_last_delivery_is_the_latest_sent(store: Store) -> None:
    for offset, status in ((0, "sent"), (1, "sent"), (2, "failed")):
        day = DAY + timedelta(days=offset)
        await store.claim_delivery("slack", "C1", day)
        await store.record_delivery("slack", "C1", day, status, index_version=offset)  # type: ignore[arg-type]
    last = await store.last_delivery("slack", "C1")
    assert last is not None and last.local_date == DAY + timedelta(days=1)
    assert last.index_version == 1


async def record_question(store: Store, platform: str, question: str, intent: str,
                          abstained: bool, answer_id: str, citations: str | None) -> None:
    """One question, asked now on the store's clock (the question log writes batches)."""
    await store.record_questions([AskedQuestion(platform, question, intent, abstained,
                                                answer_id, citations, store.clock())])


async def test_votes_upsert_and_gaps(store: Store, clock: FakeClock) -> None:
    await record_question(store, "slack", "Who is Kim?", "who", False, "a1", "[]")
    await record_question(store, "slack", "What about  Mars?", "topic", True, "a2", None)
    clock.advance(minutes=1)
    await record_question(store, "discord", "what about mars", "topic", True, "a3", None)
    clock.advance(minutes=1)
    await store.record_vote("a1", "slack", "u1", -1, "Who is Kim?", "who", "[]")
    await store.record_vote("a1", "slack", "u2", 1, "Who is Kim?", "who", "[]")
    assert await store.votes_for("a1") == {1: 1, -1: 1}
    clock.advance(minutes=1)
    await store.record_vote("a1", "slack", "u2", -1, "Who is Kim?", "who", "[]")  # changed
    assert await store.votes_for("a1") == {1: 0, -1: 2}
    with pytest.raises(ValueError):
        await store.record_vote("a1", "slack", "u3", 2, "Who is Kim?", "who", "[]")

    gaps = await store.gaps()
    assert [(g.question, g.count, g.reasons) for g in gaps] == [
        ("who is kim", 2, ("downvoted",)),
        ("what about mars", 2, ("abstained",)),
    ]
    assert gaps[0].last_seen == T0 + timedelta(minutes=3)
    assert gaps[1].last_seen == T0 + timedelta(minutes=1)
    assert len(await store.gaps(limit=1)) == 1


async def test_purge_older_than(store: Store, clock: FakeClock) -> None:
    await record_question(store, "slack", "old?", "topic", True, "a1", None)
    await store.record_vote("a1", "slack", "u1", -1, "old?", "topic", None)
    await store.claim_once("old-key")
    clock.advance(days=89)
    await record_question(store, "slack", "new?", "topic", True, "a2", None)
    clock.advance(days=2)
    assert await store.purge_older_than(90) == 3
    assert [g.question for g in await store.gaps()] == ["new"]
    assert await store.claim_once("old-key")


async def test_interaction_claims_are_purged_after_a_day(store: Store, clock: FakeClock) -> None:
    await store.claim_once("interaction:discord:1")
    await store.claim_once("share:discord:C1:a1")
    clock.advance(hours=23)
    assert await store.purge_older_than(90) == 0
    clock.advance(hours=2)
    assert await store.purge_older_than(90) == 1
    assert await store.claim_once("interaction:discord:1")  # gone: claimable again
    assert not await store.claim_once("share:discord:C1:a1")  # Share keys stay 90 days


async def test_index_versions_seen_by_another_replica(store_url: str, store: Store) -> None:
    assert await store.get_index_version() == 0
    assert await store.bump_index_version("reload: +1 doc") == 1
    assert await store.bump_index_version(None) == 2
    other = await open_store_url(store_url)
    try:
        assert await other.get_index_version() == 2
    finally:
        await other.close()


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once(pg_server: PgServer) -> None:
    """The advisory lock: one replica migrates, the others find the schema current."""
    url = await pg_server.create_database()
    stores = await asyncio.gather(*(open_store_url(url) for _ in range(4)))
    try:
        migrated = [s for s in stores if s.migration and s.migration.applied]
        assert len(migrated) == 1 and migrated[0].migration.before is None
        for s in stores:
            assert s.migration is not None and s.migration.after == head()
            async with s.engine.connect() as conn:
                version = (await conn.execute(text("SELECT version_num FROM alembic_version"))
                           ).scalar()
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert version == head() and set(t.metadata.tables) <= tables
            assert await s.bump_index_version() > 0  # each replica can use the schema
    finally:
        for s in stores:
            await s.close()


async def test_open_store_default_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nested" / "data", _env_file=None)
    store = await open_store(settings)
    try:
        assert (tmp_path / "nested" / "data" / "briefbot.db").exists()
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await store.close()


_WRITER = textwrap.dedent("""
    import asyncio, sys
    from bot.store import open_store_url
    from bot.store import tables as t
    from datetime import UTC, datetime

    async def main(url: str) -> None:
        store = await open_store_url(url)
        for i in range(50):
            await store.upsert_subscription("slack", f"C{i}", "T", 8, 30, "UTC", "U")
        print("committed", flush=True)
        now = datetime.now(UTC)
        batch = 0
        while True:  # big transactions, so the kill lands in the middle of one
            async with store.engine.begin() as conn:
                await conn.execute(t.subscriptions.insert(), [
                    dict(platform="discord", channel_id=f"B{batch}-{j}", workspace_id="G",
                         hour=9, minute=0, zone="UTC", created_by="U", created_at=now,
                         updated_at=now) for j in range(500)])
            batch += 1
            if batch == 3:
                print("writing", flush=True)

    asyncio.run(main(sys.argv[1]))
""")


@pytest.mark.timeout(30)
def test_killed_mid_write_loses_no_committed_subscription(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url], stdout=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "committed"
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    async def check() -> None:
        store = await open_store_url(url)
        try:
            subs = await store.list_subscriptions()
            slack = {s.channel_id for s in subs if s.platform == "slack"}
            assert slack == {f"C{i}" for i in range(50)}
            discord = [s for s in subs if s.platform == "discord"]
            assert len(discord) >= 3 * 500 and len(discord) % 500 == 0  # whole batches only
            async with store.engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
        finally:
            await store.close()

    asyncio.run(check())


async def test_record_questions_binds_as_the_core_insert(store: Store) -> None:
    """The batched write goes to the driver as plain tuples: every column must land exactly as
    SQLAlchemy's own insert writes it (times in any zone, with and without microseconds)."""
    from datetime import timezone

    from sqlalchemy import Text, cast

    from bot.store.questions import _QuestionInsert

    assert _QuestionInsert.for_dialect(store.engine.dialect).sql is not None  # the fast path
    times = [datetime(2024, 3, 4, 8, 30, 5, 123456, tzinfo=UTC),
             datetime(2024, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=2))),
             datetime(2024, 3, 4, 8, 30, 0, 7, tzinfo=timezone(timedelta(hours=-5)))]
    asked = [AskedQuestion("slack", f"Who is  Kim {i}?", "who", i == 1, f"a{i}",
                           None if i == 2 else "[1]", when) for i, when in enumerate(times)]
    await store.record_questions(asked)
    async with store.engine.begin() as conn:
        await conn.execute(t.questions.insert(), [
            {"platform": q.platform, "question": q.question, "normalized": f"who is kim {i}",
             "intent": q.intent, "abstained": q.abstained, "answer_id": q.answer_id,
             "citations_json": q.citations_json, "created_at": q.asked_at}
            for i, q in enumerate(asked)])
        c = t.questions.c
        stored = (await conn.execute(
            t.questions.select().with_only_columns(
                c.platform, c.question, c.normalized, c.intent, c.abstained, c.answer_id,
                c.citations_json, c.created_at, cast(c.created_at, Text).label("as_text"))
            .order_by(c.id))).all()
    assert stored[:3] == stored[3:]
    assert [row.created_at for row in stored[:3]] == [when.astimezone(UTC) for when in times]
    assert [row.abstained for row in stored[:3]] == [False, True, False]
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.record_questions([AskedQuestion("slack", "q", "who", False, None, None,
                                                    datetime(2024, 3, 4, 8, 30))])
