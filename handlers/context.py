"""What handlers need from the running app, passed in rather than imported as globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.holder import IndexHolder
    from bot.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    """Shared state of one briefbot process.

    `store` is the durable store (subscriptions, deliveries, votes); it may be None on the
    command line. `clock` is injectable so schedule logic can be tested without sleeping.
    """

    settings: Settings
    index: IndexHolder
    store: Any = None
    clock: Callable[[], datetime] = utc_now
    extras: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, platform: str, user_id: str, platform_admin: bool = False) -> bool:
        """Admins are listed in BRIEFBOT_ADMINS or flagged by the platform itself."""
        return platform_admin or f"{platform}:{user_id}" in self.settings.admin_ids
