"""What handlers need from the running app, passed in rather than imported as globals.

The context and its services (`intake`, `claims`, `conversations`, `question_log`) sit below
the handlers and below everything that drives them (adapters, the scheduler, the pollers, the
admin server), so every layer can name the context without importing upward. What drives the
handlers is known here only by what the app needs of it (`Stoppable`, `GracefulStop`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.context.claims import Claims
from bot.context.conversations import Conversations
from bot.context.intake import Intake
from bot.context.question_log import QuestionLog

if TYPE_CHECKING:
    from bot.engine.holder import IndexHolder
    from bot.ingest.mirror import SeedMirror
    from bot.platform import PlatformAdapter
    from bot.settings import Settings
    from bot.store.store import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


class Stoppable(Protocol):
    """Background work stopped at shutdown (the index version poller)."""

    async def stop(self) -> None: ...


class GracefulStop(Protocol):
    """Background work that may finish what it holds before it stops (the briefing
    scheduler's delivery, a feed item being added)."""

    async def stop(self, grace_s: float) -> None: ...


@dataclass
class Background:
    """The running app's background work, started and stopped by bot/app.py."""

    scheduler: GracefulStop | None = None
    index_poller: Stoppable | None = None
    feed_poller: GracefulStop | None = None
    admin_token: str | None = None
    sighup_tasks: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass
class AppContext:
    """Shared state of one briefbot process.

    `store` is the durable store (subscriptions, deliveries, votes, conversations); it is
    None on the command line. `clock` is injectable so schedule logic can be tested without
    sleeping. The fields after `clock` are the process's running state: not constructor
    arguments, and fresh in a `dataclasses.replace` copy.
    """

    settings: Settings
    index: IndexHolder
    store: Store | None = None
    clock: Callable[[], datetime] = utc_now
    intake: Intake = field(default_factory=Intake, init=False)
    platforms: dict[str, PlatformAdapter] = field(default_factory=dict, init=False)
    """Connected platforms by name (`/brief subscribe` asks one whether it may post)."""
    background: Background = field(default_factory=Background, init=False)
    _question_log: QuestionLog | None = field(default=None, init=False, repr=False)
    _conversations: Conversations | None = field(default=None, init=False, repr=False)
    _claims: Claims | None = field(default=None, init=False, repr=False)
    _seed_mirror: SeedMirror | None = field(default=None, init=False, repr=False)

    def is_admin(self, platform: str, user_id: str, platform_admin: bool = False) -> bool:
        """Admins are listed in BRIEFBOT_ADMINS or flagged by the platform itself."""
        return platform_admin or f"{platform}:{user_id}" in self.settings.admin_ids

    @property
    def question_log(self) -> QuestionLog | None:
        """Questions asked, queued for the store (None without a store)."""
        if self.store is None:
            return None
        if self._question_log is None or self._question_log.store is not self.store:
            self._question_log = QuestionLog(self.store)
        return self._question_log

    @property
    def conversations(self) -> Conversations:
        """Chat context and message claims: in the store, or in memory without one."""
        if self._conversations is None or self._conversations.store is not self.store:
            self._conversations = Conversations(self.store)
        return self._conversations

    @property
    def claims(self) -> Claims:
        """Do-it-once keys (Share, chat messages): in the store, or in memory without one."""
        if self._claims is None or self._claims.store is not self.store:
            self._claims = Claims(self.store)
        return self._claims

    @property
    def seed_mirror(self) -> SeedMirror:
        """This process's seeds folder as it follows the store's articles (issue 19)."""
        from bot.ingest.mirror import SeedMirror

        seeds_dir = self.settings.seeds_dir
        if self._seed_mirror is None or self._seed_mirror.seeds_dir != seeds_dir:
            self._seed_mirror = SeedMirror(seeds_dir)
        return self._seed_mirror

    @seed_mirror.setter
    def seed_mirror(self, mirror: SeedMirror) -> None:
        self._seed_mirror = mirror
