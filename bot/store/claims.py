"""Idempotency keys: a Share posted once, a chat message answered once, one replica per
interaction. Every claim is ONE statement (INSERT ... ON CONFLICT DO NOTHING RETURNING), so
replicas racing on the same key agree.
"""

from __future__ import annotations

from sqlalchemy import Insert

import bot.store.tables as t
from bot.store.base import StoreBase


class ClaimStore(StoreBase):
    """Do-it-once keys (their namespaces are in bot.store.records)."""

    async def claim_once(self, key: str) -> bool:
        """True for the first caller of `key`, on any replica; False ever after."""
        stmt: Insert = (
            self._insert(t.claims)
            .values(key=key, claimed_at=self.clock())
            .on_conflict_do_nothing(index_elements=[t.claims.c.key])
            .returning(t.claims.c.key)
        )
        return await self._first(stmt) is not None
