"""Do-it-once keys: a Share posted once, a chat message answered once.

In the store when there is one (one statement, so replicas racing on the same key agree),
else in this process's memory (the command line, a store-less test).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.store import Store

MEMORY_KEPT = 4096  # keys a store-less process remembers


class Claims:
    def __init__(self, store: Store | None) -> None:
        self.store = store
        self._seen: dict[str, None] = {}

    async def once(self, key: str) -> bool:
        """True for the first caller with `key` (on any replica, with a store)."""
        if self.store is not None:
            return await self.store.claim_once(key)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > MEMORY_KEPT:
            self._seen.pop(next(iter(self._seen)))
        return True
