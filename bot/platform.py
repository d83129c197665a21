"""What a chat platform is to the core: the protocol adapters implement, and its errors.

The core (`bot/app.py`, the scheduler, the briefing handler, the app context's connected
platforms) imports this module and never an adapter; adapters import it and never the core's
wiring. Platforms are found by name in `bot/adapters/__init__.py` (the registry, where a
`Platform` entry says how to make one).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.models import Briefing

if TYPE_CHECKING:
    from aiohttp import web



class DeliveryError(Exception):
    """A platform refused a post. `permanent` means retrying will not help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class PlatformAdapter(Protocol):
    """One chat platform, connected: commands and messages in, answers and briefings out."""

    name: str

    @property
    def connected(self) -> bool:
        """False while the platform is not connected: /healthz answers 503 naming it."""
        ...

    def attach_routes(self, app: web.Application) -> None:
        """Add HTTP routes (Slack's HTTP mode); may do nothing."""
        ...

    async def start(self) -> None:
        """Connect (Socket Mode, gateway). Returns once connected or connecting."""
        ...

    async def wait_failed(self) -> Exception:
        """Return when the adapter can never work (its token refused after start-up): serve
        then stops with that error. Adapters that cannot fail this way wait forever."""
        ...

    async def stop(self) -> None:
        """Stop taking commands and close connections."""
        ...

    async def check_channel(self, channel_id: str) -> str | None:
        """Why briefbot cannot post in `channel_id` (a sentence for the user), or None."""
        ...

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        """Post a briefing to a channel; raise DeliveryError on failure."""
        ...


class AdapterDefaults:
    """The protocol's optional behaviour, for adapters with nothing to say there: always
    connected, no HTTP routes, never failing for good, every channel postable."""

    @property
    def connected(self) -> bool:
        return True

    def attach_routes(self, app: web.Application) -> None:
        return None

    async def wait_failed(self) -> Exception:
        await asyncio.Event().wait()  # never set: returns only by cancellation
        raise AssertionError("unreachable")

    async def check_channel(self, channel_id: str) -> str | None:
        return None
