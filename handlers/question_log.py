"""Questions asked, written to the store in batches, off the request path.

Awaiting an insert inside every `/ask` cost more than answering it (about 1 ms on SQLite, see
the Slack benchmark). So a command only appends its question here and returns; one writer
task stores whatever is pending in a single transaction, and questions that arrive while it
writes form the next batch. Batches grow with the load without any timer, and a quiet bot
still writes each question within milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.context import AppContext

log = logging.getLogger("briefbot.questions")

MAX_PENDING = 50_000
"""Questions kept while the store is unreachable; beyond this the oldest are dropped."""


@dataclass(frozen=True)
class AskedQuestion:
    """One question as typed, with what became of it; never who asked it."""

    platform: str
    question: str
    intent: str
    abstained: bool
    answer_id: str | None
    citations_json: str | None
    asked_at: datetime


class QuestionLog:
    """Pending questions and the one task that writes them."""

    def __init__(self, store: Any, *, max_pending: int = MAX_PENDING) -> None:
        self.store = store
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: list[AskedQuestion] = []
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, asked: AskedQuestion) -> None:
        """Queue one question; never blocks and never raises into the command."""
        if len(self._pending) >= self.max_pending:
            del self._pending[0]
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("question log full; dropping the oldest questions",
                            extra={"dropped": self.dropped, "pending": len(self._pending)})
        self._pending.append(asked)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    async def _write_pending(self) -> None:
        try:
            await self.flush()
        finally:
            self._writer = None

    async def flush(self) -> bool:
        """Write everything pending now; False (and the questions kept) if the store failed.

        Callers that read questions back (/gaps, a vote that carries only the answer id,
        the purge, shutdown) flush first, so they see every question asked before them.
        """
        async with self._lock:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self.store.record_questions(batch)
                except Exception:
                    self._pending[:0] = batch  # keep them, in order, for the next attempt
                    if not self._failing:
                        log.exception("could not store the questions asked; will retry",
                                      extra={"pending": len(self._pending)})
                    self._failing = True
                    return False
                if self._failing:
                    log.info("storing questions again", extra={"batch": len(batch)})
                    self._failing = False
            return True

    async def close(self) -> None:
        """Write what is pending (shutdown: before the store closes)."""
        if self._writer is not None:
            await asyncio.wait({self._writer})
        if not await self.flush() and self._pending:
            log.error("stopping with questions not stored", extra={"lost": len(self._pending)})


def question_log_of(ctx: AppContext) -> QuestionLog | None:
    """The context's question log (made on first use), or None when there is no store."""
    if ctx.store is None:
        return None
    current = ctx.extras.get("question_log")
    if current is None or current.store is not ctx.store:
        current = ctx.extras["question_log"] = QuestionLog(ctx.store)
    return current
