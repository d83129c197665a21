"""Holds the live index and swaps in a new one atomically.

Readers take `holder.current` once per question, so a question in flight finishes on the
index it started with while a reload swaps the reference for new questions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.index import KnowledgeIndex


class IndexHolder:
    def __init__(self, index: KnowledgeIndex | None = None, version: int = 0) -> None:
        self._index = index
        self.version = version
        self.reload_lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self._index is not None

    @property
    def current(self) -> KnowledgeIndex:
        if self._index is None:
            raise RuntimeError("the index is not loaded yet")
        return self._index

    def swap(self, index: KnowledgeIndex, version: int | None = None) -> KnowledgeIndex | None:
        """Make `index` live; returns the previous one (for the reload report)."""
        previous = self._index
        self._index = index
        self.version = version if version is not None else self.version + 1
        return previous
