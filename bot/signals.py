"""SIGTERM/SIGINT handling for `serve`: a graceful stop, with a hard deadline behind it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable


def install_signal_handlers(stop: asyncio.Event,
                            on_signal: Callable[[], None] | None = None) -> None:
    """SIGTERM and SIGINT set `stop`; `on_signal` (a HardStop's arm) runs on each."""
    loop = asyncio.get_running_loop()

    def handle() -> None:
        stop.set()
        if on_signal is not None:
            on_signal()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix
            loop.add_signal_handler(sig, handle)


class HardStop:
    """The guarantee behind graceful shutdown: once a signal came, the process ends within
    `deadline_s` whatever is stuck (an adapter, the store, a thread), and a second signal
    ends it at once. A timer thread, so a blocked event loop cannot hold it up."""

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        if self._timer is not None:
            self._exit("second signal: stopping now")
        self._timer = threading.Timer(
            self.deadline_s, self._exit,
            [f"shutdown did not finish within {self.deadline_s:g} s; stopping now"])
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @staticmethod
    def _exit(why: str) -> None:
        with contextlib.suppress(Exception):
            print(f"briefbot: {why}", file=sys.stderr, flush=True)
        os._exit(1)
