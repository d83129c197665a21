"""The question log: questions reach the store in batches, off the request path, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from bot.context import AppContext
from bot.context.question_log import QuestionLog
from bot.models import Answer
from bot.store import Store
from bot.store import tables as t
from bot.store.records import AskedQuestion
from handlers import CommandRequest, dispatch

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def asked(n: int) -> AskedQuestion:
    return AskedQuestion("slack", f"question {n}?", "topic", True, f"a{n}", None, T0)


async def stored(store: Store) -> list[str]:
    q = t.questions.c
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(q.question).order_by(q.id))
    return [row[0] for row in rows]


class GatedStore:
    """A real store whose writes wait for a gate (or fail while `failing`), to see what the
    log does meanwhile."""

    def __init__(self, store: Store) -> None:
        self.store, self.clock = store, store.clock
        self.gate = asyncio.Event()
        self.failing = False
        self.batches: list[int] = []
        self.wrote = asyncio.Event()

    async def record_questions(self, batch: Sequence[AskedQuestion]) -> None:
        await asyncio.wait_for(self.gate.wait(), 5)
        if self.failing:
            raise ConnectionError("database went away")
        self.batches.append(len(batch))
        await self.store.record_questions(batch)
        self.wrote.set()


async def test_questions_wait_for_the_window_and_share_one_transaction(store: Store) -> None:
    gated = GatedStore(store)
    gated.gate.set()
    log = QuestionLog(gated, window_s=60)  # never reached: close() ends the window
    for n in range(3):
        log.add(asked(n))
    for _ in range(5):
        await asyncio.sleep(0)
    assert gated.batches == [] and await stored(store) == []
    await asyncio.wait_for(log.close(), 5)
    assert gated.batches == [3]
    assert await stored(store) == ["question 0?", "question 1?", "question 2?"]


async def test_a_full_batch_is_written_without_waiting_for_the_window(store: Store) -> None:
    gated = GatedStore(store)
    gated.gate.set()
    log = QuestionLog(gated, window_s=60, batch_rows=5)
    for n in range(5):
        log.add(asked(n))
    await asyncio.wait_for(gated.wrote.wait(), 5)
    assert gated.batches == [5] and log.pending == 0
    await log.close()


async def test_questions_arriving_during_a_write_form_the_next_batch(store: Store) -> None:
    gated = GatedStore(store)
    log = QuestionLog(gated, window_s=0)
    log.add(asked(0))
    await asyncio.sleep(0)  # the writer takes question 0 and waits at the gate
    for n in range(1, 51):
        log.add(asked(n))
    gated.gate.set()
    await asyncio.wait_for(log.close(), 5)
    assert gated.batches == [1, 50]
    assert await stored(store) == [f"question {n}?" for n in range(51)]


async def test_a_failed_write_keeps_the_questions_in_order(store: Store) -> None:
    gated = GatedStore(store)
    gated.gate.set()
    gated.failing = True
    log = QuestionLog(gated, window_s=0)
    for n in range(3):
        log.add(asked(n))
    assert await log.flush() is False
    assert log.pending == 3 and await stored(store) == []
    gated.failing = False
    log.add(asked(3))
    await asyncio.wait_for(log.close(), 5)
    assert await stored(store) == [f"question {n}?" for n in range(4)]


async def test_a_full_log_drops_the_oldest(store: Store) -> None:
    gated = GatedStore(store)
    log = QuestionLog(gated, window_s=0, max_pending=3)
    log.add(asked(0))
    await asyncio.sleep(0)  # question 0 is being written
    for n in range(1, 6):
        log.add(asked(n))
    gated.gate.set()
    await asyncio.wait_for(log.close(), 5)
    assert log.dropped == 2
    assert await stored(store) == ["question 0?", "question 3?", "question 4?", "question 5?"]


async def test_ask_answers_while_the_store_is_still_writing(ctx: AppContext,
                                                            store: Store) -> None:
    gated = GatedStore(store)
    ctx.store = gated
    result = await asyncio.wait_for(
        dispatch(CommandRequest(command="ask", text="who is Tertitskiy", platform="slack"), ctx),
        5)
    assert isinstance(result, Answer) and not result.abstained
    log = ctx.question_log
    assert log is not None and await stored(store) == []  # answered before it was stored
    gated.gate.set()
    await asyncio.wait_for(log.close(), 5)
    assert await stored(store) == ["who is Tertitskiy"]


async def test_gaps_sees_a_question_asked_just_before(ctx: AppContext, store: Store) -> None:
    ctx.store = store
    ctx.settings = ctx.settings.model_copy(update={"admins": ["slack:UADMIN"]})
    await dispatch(CommandRequest(command="ask", text="What is the price of tea on Mars?",
                                  platform="slack"), ctx)
    report = await dispatch(CommandRequest(command="gaps", text="", platform="slack",
                                           user_id="UADMIN"), ctx)
    assert "price of tea on mars" in " ".join(report.lines)  # type: ignore[union-attr]
