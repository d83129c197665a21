"""Index versions: a reload records one, and every replica follows the latest (issue 6)."""

from __future__ import annotations

from sqlalchemy import func, select

import bot.store.tables as t
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
        stmt = (
            t.index_versions.insert()
            .values(note=note, created_at=self.clock())
            .returning(t.index_versions.c.version)
        )
        return int((await self._first(stmt))[0])
