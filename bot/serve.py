"""`briefbot serve`: one process, one event loop, the platforms whose flags are given.

Owns the pieces every adapter shares: the index, the store, the HTTP server (health,
metrics, Slack's HTTP mode) and shutdown. Adapters implement `PlatformAdapter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
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
        """Connect (Socket Mode, gateway). Returns once connected or connecting."""

    async def stop(self) -> None:
        """Stop taking commands and close connections."""

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        """Post a briefing to a channel; raise DeliveryError on failure."""


def serve(settings: Settings, *, slack: bool, discord: bool) -> int:
    if not slack and not discord:
        raise SettingsError("briefbot serve: choose --slack, --discord or both")
    from bot.app import run_app

    return asyncio.run(run_app(settings, slack=slack, discord=discord))


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix
            loop.add_signal_handler(sig, stop.set)
