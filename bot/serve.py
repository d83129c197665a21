"""`briefbot serve`: one process, one event loop, the platforms whose flags are given.

Owns the pieces every adapter shares: the index, the store, the HTTP server (health,
metrics, Slack's HTTP mode) and shutdown. Adapters implement `PlatformAdapter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from bot.models import Briefing
from bot.settings import Settings, SettingsError

log = logging.getLogger("briefbot.serve")


class DeliveryError(Exception):
    """A platform refused a post. `permanent` means retrying will not help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class PlatformAdapter(Protocol):
    name: str

    def attach_routes(self, app: web.Application) -> None:
        """Add HTTP routes (Slack HTTP mode); may do nothing."""

    async def start(self) -> None:
        """Connect (Socket Mode, gateway). Returns once connected or connecting.

        Optional, beside the methods here: a `connected` property (False makes /healthz
        answer 503 naming the platform) and `async def wait_failed() -> Exception`, which
        returns when the adapter can never work (a token refused after start-up): serve
        then stops with that error.
        """

    async def stop(self) -> None:
        """Stop taking commands and close connections."""

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        """Post a briefing to a channel; raise DeliveryError on failure."""


def serve(settings: Settings, *, slack: bool, discord: bool) -> int:
    if not slack and not discord:
        raise SettingsError("briefbot serve: choose --slack, --discord or both")
    from bot.app import run_app

    return asyncio.run(run_app(settings, slack=slack, discord=discord))


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
