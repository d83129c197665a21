"""The questions asked, as typed (never who asked), written in batches by the question log."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

import bot.store.tables as t
from bot.store.base import StoreBase

if TYPE_CHECKING:
    from bot.store.records import AskedQuestion


@functools.lru_cache(maxsize=1024)  # pure, and the same questions come back batch after batch
def normalize_question(text: str) -> str:
    """Group key for /gaps: case, spacing and trailing punctuation don't make a new question."""
    return re.sub(r"\s+", " ", text).strip().strip("?!. ").lower()


_QUESTION_COLUMNS = ("platform", "question", "normalized", "intent", "abstained", "answer_id",
                     "citations_json", "created_at")


@dataclass(frozen=True)
class _QuestionInsert:
    """The questions INSERT compiled once for a dialect, with the bind processors it needs.

    `sql` is None when the compiled statement is not the plain positional INSERT expected
    (another paramstyle, or a text column that needs converting): then the ORM-free Core
    path with per-row dicts is used instead.
    """

    sql: str | None
    abstained: Callable[[Any], Any] | None
    created_at: Callable[[Any], Any]

    @classmethod
    def for_dialect(cls, dialect: Any) -> _QuestionInsert:
        columns = t.questions.c
        procs = {name: columns[name].type.dialect_impl(dialect).bind_processor(dialect)
                 for name in _QUESTION_COLUMNS}
        compiled = t.questions.insert().compile(dialect=dialect,
                                                column_keys=list(_QUESTION_COLUMNS),
                                                for_executemany=True)
        when = procs["created_at"]
        plain = (dialect.positional and tuple(compiled.positiontup or ()) == _QUESTION_COLUMNS
                 and when is not None
                 and all(procs[name] is None for name in _QUESTION_COLUMNS
                         if name not in ("abstained", "created_at")))
        if not plain or when is None:
            return cls(None, None, lambda value: value)
        # The column's processor (UTCDateTime, then the dialect's DateTime) takes ~6 µs on
        # SQLite; a shortcut is used only if it binds exactly what that processor does.
        samples = [datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
                   datetime(2026, 3, 1, 0, 0, 0, 0, tzinfo=UTC),
                   datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
                   datetime(2026, 3, 1, 14, 30, 0, 7, tzinfo=timezone(timedelta(hours=2)))]
        for fast in (_utc_text, _naive_utc):
            if all(fast(sample) == when(sample) and type(fast(sample)) is type(when(sample))
                   for sample in samples):
                when = fast
                break
        return cls(str(compiled), procs["abstained"], when)


def _naive_utc(value: datetime) -> datetime:
    """UTCDateTime's bind step: aware in, naive UTC out."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _utc_text(value: datetime) -> str:
    """UTCDateTime then SQLite's DateTime bind step: naive UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return _naive_utc(value).isoformat(" ", "microseconds")


class QuestionStore(StoreBase):
    """Questions for /gaps, and the question behind an answer id."""

    _question_plan: _QuestionInsert | None = None  # the INSERT compiled for this dialect

    async def record_questions(self, asked: Sequence[AskedQuestion]) -> None:
        """Store many questions in one transaction (the question log's batches)."""
        if not asked:
            return
        plan = self._question_plan
        if plan is None:
            plan = self._question_plan = _QuestionInsert.for_dialect(self.engine.dialect)
        if plan.sql is None:  # a dialect the plain-tuple path was not checked for
            rows = [{"platform": q.platform, "question": q.question,
                     "normalized": normalize_question(q.question), "intent": q.intent,
                     "abstained": q.abstained, "answer_id": q.answer_id,
                     "citations_json": q.citations_json, "created_at": q.asked_at}
                    for q in asked]
            async with self.engine.begin() as conn:
                await conn.execute(t.questions.insert(), rows)
            return
        # The driver's executemany on plain tuples, bound by the columns' own processors:
        # SQLAlchemy's per-row parameter building was most of this write's CPU.
        flag, when = plan.abstained, plan.created_at
        rows = [(q.platform, q.question, normalize_question(q.question), q.intent,
                 q.abstained if flag is None else flag(q.abstained), q.answer_id,
                 q.citations_json, when(q.asked_at))
                for q in asked]
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql(plan.sql, rows)

    async def question_for(self, answer_id: str) -> tuple[str, str, str | None] | None:
        """(question, intent, citations_json) recorded for an answer, for a bare vote button."""
        q = t.questions.c
        stmt = (select(q.question, q.intent, q.citations_json)
                .where(q.answer_id == answer_id).order_by(q.id.desc()).limit(1))
        row = await self._first(stmt)
        return None if row is None else (str(row[0]), str(row[1]), row[2])
