"""Chat conversations' context, shared by replicas and expiring (issue 13)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import bot.store.tables as t
from bot.store.base import StoreBase


class ConversationStore(StoreBase):
    """The context JSON of each chat thread or DM, for its time to live."""

    async def get_conversation(self, key: str) -> str | None:
        """The context JSON kept for a chat thread or DM, unless it expired."""
        c = t.conversations.c
        stmt = select(c.context_json).where(c.key == key, c.expires_at > self.clock())
        row = await self._first(stmt)
        return None if row is None else str(row[0])

    async def put_conversation(self, key: str, context_json: str, *, ttl: timedelta) -> None:
        """Keep (or replace) a conversation's context for `ttl` from now."""
        now = self.clock()
        values = {"context_json": context_json, "updated_at": now, "expires_at": now + ttl}
        ins = self._insert(t.conversations).values(key=key, **values)
        stmt = ins.on_conflict_do_update(index_elements=[t.conversations.c.key], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(stmt)
