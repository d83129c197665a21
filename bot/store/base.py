"""The one engine every part of the store shares, and the statements they all use.

Each concern (`claims`, `subscriptions`, `deliveries`, `questions`, `votes`,
`conversations`, `versions`, `feeds`) is a class over `StoreBase` in its own module;
`bot.store.store.Store` is all of them on one engine. The added articles
(`bot/store/articles.py`) are `Store.articles`, over the same engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from bot.store.migrations import Migration

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    """The engine, the clock and this process's worker id, shared by every concern."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = _utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self.worker_id = uuid.uuid4().hex[:12]
        self.migration: Migration | None = None  # what open_store_url did to the schema

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shared(self) -> bool:
        """True when other processes may use this store too (PostgreSQL: replicas); a SQLite
        file belongs to one bot, so per-request claims between replicas can be skipped."""
        return self.dialect != "sqlite"

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has on_conflict_do_nothing/update."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    async def _first(self, stmt: Any) -> Any:
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).first()

    async def _rowcount(self, stmt: Any) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount

    async def close(self) -> None:
        await self.engine.dispose()
