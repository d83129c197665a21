"""Admission for graceful shutdown: refuse new commands, wait for the ones in flight.

`dispatch` admits every command through the context's `Intake`; on SIGTERM the app closes
it (new commands get a sentence instead of silence) and drains it before closing the
platform connections and the store.
"""

from __future__ import annotations

import asyncio
import contextlib

from bot.errors import UserFacingError

SHUTTING_DOWN = "briefbot is restarting and is not taking new commands right now."


class ShuttingDownError(UserFacingError):
    """A command arrived after shutdown began."""

    def __init__(self) -> None:
        super().__init__(SHUTTING_DOWN, hint="Try again in a minute.")


class Intake:
    """Counts commands in flight and stops admitting new ones once closed.

    A counter, not a future a command: `admit` runs on every command (see the Slack
    benchmark in the README), and only `drain` needs to wait, for the count to reach 0.
    """

    def __init__(self) -> None:
        self.accepting = True
        self.closed = asyncio.Event()  # set once shutdown begins; background loops may wait on it
        self._count = 0
        self._idle: asyncio.Event | None = None  # made by drain, set when the count reaches 0
        self._admission = _Admission(self)

    @property
    def in_flight(self) -> int:
        return self._count

    def close(self) -> None:
        """From now on `admit` raises ShuttingDownError."""
        self.accepting = False
        self.closed.set()

    def admit(self) -> _Admission:
        """Track one command for the duration of a `with` block."""
        if not self.accepting:
            raise ShuttingDownError()
        return self._admission

    def _left(self) -> None:
        self._count -= 1
        if self._count == 0 and self._idle is not None:
            self._idle.set()

    async def drain(self, grace_s: float) -> int:
        """Wait up to `grace_s` seconds for commands in flight; return how many still run."""
        if self._count == 0:
            return 0
        if self._idle is None or self._idle.is_set():
            self._idle = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_s)
        return self._count


class _Admission:
    """`with intake.admit():` counts the command in flight until the block ends."""

    __slots__ = ("intake",)

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    def __enter__(self) -> None:
        self.intake._count += 1

    def __exit__(self, *exc: object) -> None:
        self.intake._left()
