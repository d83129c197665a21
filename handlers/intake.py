"""Admission for graceful shutdown: refuse new commands, wait for the ones in flight.

`dispatch` admits every command through the context's `Intake`; on SIGTERM the app closes
it (new commands get a sentence instead of silence) and drains it before closing the
platform connections and the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from handlers.context import AppContext

SHUTTING_DOWN = "briefbot is restarting and is not taking new commands right now."


class ShuttingDownError(UserFacingError):
    """A command arrived after shutdown began."""

    def __init__(self) -> None:
        super().__init__(SHUTTING_DOWN, hint="Try again in a minute.")


class Intake:
    """Counts commands in flight and stops admitting new ones once closed."""

    def __init__(self) -> None:
        self.accepting = True
        self.closed = asyncio.Event()  # set once shutdown begins; background loops may wait on it
        self._in_flight: set[asyncio.Future[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def close(self) -> None:
        """From now on `admit` raises ShuttingDownError."""
        self.accepting = False
        self.closed.set()

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Track one command for the duration of the block."""
        if not self.accepting:
            raise ShuttingDownError()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight.add(done)
        try:
            yield
        finally:
            self._in_flight.discard(done)
            done.set_result(None)

    async def drain(self, grace_s: float) -> int:
        """Wait up to `grace_s` seconds for commands in flight; return how many still run."""
        pending = set(self._in_flight)
        if not pending:
            return 0
        _, still_running = await asyncio.wait(pending, timeout=grace_s)
        return len(still_running)


def intake_of(ctx: AppContext) -> Intake:
    """The context's intake."""
    return ctx.intake
