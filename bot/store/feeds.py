"""Feeds (issue 14): each feed's last poll and validators, and the items claimed from it, so
replicas share the interval and add each item once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update

import bot.store.tables as t
from bot.store.base import StoreBase
from bot.store.records import FeedState


class FeedStore(StoreBase):
    """Feed polls and feed items."""

    async def feed_states(self) -> dict[str, FeedState]:
        """Every feed's last poll, by feed URL."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.feeds))
            return {row.url: FeedState(**row._mapping) for row in rows}

    async def record_feed_poll(self, url: str, *, polled_at: datetime, status: str,
                               etag: str | None = None, last_modified: str | None = None,
                               error: str | None = None) -> None:
        """Remember a poll of `url`; a 200 replaces the validators, a 304 or an error keeps
        the ones stored."""
        values: dict[str, Any] = {"polled_at": polled_at, "status": status, "error": error}
        if status == "200":
            values.update(etag=etag, last_modified=last_modified)
        ins = self._insert(t.feeds).values(url=url, **values)
        stmt = ins.on_conflict_do_update(index_elements=[t.feeds.c.url], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def claim_feed_item(self, key: str, *, feed_url: str, url: str,
                              title: str | None, worker: str | None = None) -> bool:
        """True for the one caller (on any replica) that may add this item; one statement."""
        stmt = (
            self._insert(t.feed_items)
            .values(key=key, feed_url=feed_url, url=url, title=title, status="claimed",
                    claimed_at=self.clock(), claimed_by=worker or self.worker_id)
            .on_conflict_do_nothing(index_elements=[t.feed_items.c.key])
            .returning(t.feed_items.c.key)
        )
        return await self._first(stmt) is not None

    async def known_feed_items(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` were claimed before (so a poll skips them without a write)."""
        if not keys:
            return set()
        stmt = select(t.feed_items.c.key).where(t.feed_items.c.key.in_(list(keys)))
        async with self.engine.connect() as conn:
            return {row[0] for row in await conn.execute(stmt)}

    async def finish_feed_item(self, key: str, status: Literal["added", "failed"], *,
                               path: str | None = None, error: str | None = None) -> None:
        stmt = update(t.feed_items).where(t.feed_items.c.key == key).values(
            status=status, path=path, error=error, finished_at=self.clock())
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def feed_item_counts(self) -> dict[str, dict[str, int]]:
        """{feed URL: {status: items}} over every item claimed."""
        f = t.feed_items.c
        stmt = select(f.feed_url, f.status, func.count()).group_by(f.feed_url, f.status)
        counts: dict[str, dict[str, int]] = {}
        async with self.engine.connect() as conn:
            for feed_url, status, n in await conn.execute(stmt):
                counts.setdefault(feed_url, {})[status] = int(n)
        return counts
