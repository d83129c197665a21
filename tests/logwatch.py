"""Every log record, awaitable: how a test knows something happened in the bot that leaves
no trace on the wire (a replica letting a message go, a context kept for replies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

WITHIN = 5.0


class LogWatch(logging.Handler):
    """Every log record, awaitable."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._changed.set()  # records come from the event loop's thread

    def matching(self, predicate: Callable[[logging.LogRecord], bool]) -> list[logging.LogRecord]:
        return [r for r in self.records if predicate(r)]

    async def wait_for(self, predicate: Callable[[logging.LogRecord], bool],
                       within: float = WITHIN) -> list[logging.LogRecord]:
        async def until() -> list[logging.LogRecord]:
            while True:
                self._changed.clear()
                if found := self.matching(predicate):
                    return found
                await self._changed.wait()

        return await asyncio.wait_for(until(), within)

    async def lost(self, interaction: dict[str, Any]) -> None:
        """Wait until a replica has let the interaction go to another one."""
        await self.wait_for(lambda r: r.name == "briefbot.discord"
                            and "another replica" in r.getMessage()
                            and interaction["id"] in r.getMessage())

    async def kept_for_replies(self, message: dict[str, Any]) -> None:
        """Wait until the bot kept the conversation under its answer `message`. It does so
        right after Discord accepted the post; a person replies seconds later, a test at
        once, so it waits for what a person never would."""
        await self.wait_for(lambda r: r.name == "briefbot.discord"
                            and "kept for replies" in r.getMessage()
                            and message["id"] in r.getMessage())

    def noise(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records
                if r.levelno >= logging.WARNING]


@contextmanager
def watching(logger: str = "briefbot.discord") -> Iterator[LogWatch]:
    """A LogWatch on the root logger, with `logger` at DEBUG meanwhile."""
    handler, root, ours = LogWatch(), logging.getLogger(), logging.getLogger(logger)
    level = ours.level
    ours.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        ours.setLevel(level)
