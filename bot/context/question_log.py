"""Questions asked, written to the store in batches, off the request path.

Awaiting an insert inside every `/ask` cost more than answering it (about 1 ms on SQLite, see
the Slack benchmark), and so did a transaction for every few questions. So a command only
appends its question here and returns; one writer task waits a moment (WRITE_WINDOW_S, or
until BATCH_ROWS are waiting) and stores everything pending in a single transaction. A crash
loses at most that moment's questions; /gaps and shutdown write the queue first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.records import AskedQuestion
    from bot.store.store import Store

log = logging.getLogger("briefbot.questions")

WRITE_WINDOW_S = 0.25
"""How long a question waits for others to share its transaction."""
BATCH_ROWS = 1000
"""A batch this big is written at once, without waiting for the window to end."""
MAX_PENDING = 50_000
"""Questions kept while the store is unreachable; beyond this the oldest are dropped."""


class QuestionLog:
    """Pending questions and the one task that writes them."""

    def __init__(self, store: Store, *, window_s: float = WRITE_WINDOW_S,
                 batch_rows: int = BATCH_ROWS, max_pending: int = MAX_PENDING) -> None:
        self.store = store
        self.window_s = window_s
        self.batch_rows = batch_rows
        self.max_pending = max_pending
        self._due = asyncio.Event()  # set when a batch is full or the log is closing
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
        if len(self._pending) >= self.batch_rows:
            self._due.set()
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        """Wait for the window (or a full batch), then write everything pending."""
        try:
            if self.window_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), self.window_s)
            self._due.clear()
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
        self._due.set()  # a writer waiting for its window writes now
        if self._writer is not None:
            await asyncio.wait({self._writer})
        if not await self.flush() and self._pending:
            log.error("stopping with questions not stored", extra={"lost": len(self._pending)})
