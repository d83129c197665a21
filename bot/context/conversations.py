"""Where chat conversations keep their context, and what that context is.

In the store when there is one (shared by replicas, so a follow-up may reach any of them),
else in this process's memory (the command line, a store-less test). How a message is read
in that context is the handlers' business (`handlers/followup.py`).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError

if TYPE_CHECKING:
    from bot.store.store import Store

log = logging.getLogger("briefbot.conversation")

CONTEXT_TTL = timedelta(days=1)
MEMORY_KEPT = 2048  # conversations a store-less process keeps


class Context(BaseModel):
    """What a conversation keeps between messages (stored as JSON, expiring in a day)."""

    question: str = Field(description="The last question, as the engine was asked it.")
    command: Literal["ask", "who"] = "ask"
    subject: str | None = Field(default=None, description="The person it is about, if any.")
    topic: str = Field(default="", description="The last question's topic words.")
    shown: list[str] = Field(default_factory=list, description="Sentence ids already shown.")
    index_version: int = 0


class Conversations:
    """Context per conversation key, expiring after CONTEXT_TTL."""

    def __init__(self, store: Store | None) -> None:
        self.store = store
        self._contexts: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> Context | None:
        """The conversation's context, or None (new, expired, or unreadable)."""
        raw: str | None = None
        if self.store is not None:
            raw = await self.store.get_conversation(key)
        else:
            kept = self._contexts.get(key)
            if kept is not None and time.monotonic() - kept[0] < CONTEXT_TTL.total_seconds():
                raw = kept[1]
        if raw is None:
            return None
        try:
            return Context.model_validate_json(raw)
        except ValidationError:  # written by another version: start afresh
            log.warning("ignoring a conversation context that does not parse",
                        extra={"conversation": key[:80]})
            return None

    async def put(self, key: str, context: Context) -> None:
        await self._put_raw(key, context.model_dump_json())

    async def copy(self, key: str, to: list[str]) -> bool:
        """Keep `key`'s context under each of `to` as well (for a fresh day), so a message
        that continues from any of them finds it; False when `key` has none."""
        raw: str | None = None
        if self.store is not None:
            raw = await self.store.get_conversation(key)
        elif (kept := self._contexts.get(key)) is not None:
            raw = kept[1]
        if raw is None:
            return False
        for other in to:
            await self._put_raw(other, raw)
        return True

    async def _put_raw(self, key: str, raw: str) -> None:
        if self.store is not None:
            await self.store.put_conversation(key, raw, ttl=CONTEXT_TTL)
            return
        self._contexts.pop(key, None)
        self._contexts[key] = (time.monotonic(), raw)
        while len(self._contexts) > MEMORY_KEPT:
            self._contexts.pop(next(iter(self._contexts)))
