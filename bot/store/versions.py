"""Index versions: a reload records one, and every replica follows the latest (issue 6).

A version is recorded together with the articles it goes live with (`bot/store/articles.py`,
issue 19), in one transaction and in order: `bump_index_version` is a version without any.
"""

from __future__ import annotations

import functools

from sqlalchemy import func, select

import bot.store.tables as t
from bot.store.articles import ArticleStore
from bot.store.base import StoreBase


class VersionStore(StoreBase):
    """The index version every replica serves."""

    async def get_index_version(self) -> int:
        """The latest index version any replica recorded (0 before the first reload)."""
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(select(func.max(t.index_versions.c.version)))).scalar() or 0
            )

    async def bump_index_version(self, note: str | None = None) -> int:
        """Record a reload; replicas poll get_index_version and reload when it moves."""
        return await self.articles.record([], note=note)  # versions are recorded in order

    @functools.cached_property
    def articles(self) -> ArticleStore:
        """Added articles, recorded with the index version they go live with (issue 19)."""
        return ArticleStore(self)
