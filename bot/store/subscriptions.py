"""Daily briefing subscriptions: one per platform and channel."""

from __future__ import annotations

from sqlalchemy import delete, select

import bot.store.tables as t
from bot.store.base import StoreBase
from bot.store.records import Subscription


class SubscriptionStore(StoreBase):
    """Which channels get the daily briefing, and when."""

    async def upsert_subscription(
        self,
        platform: str,
        channel_id: str,
        workspace_id: str | None,
        hh: int,
        mm: int,
        zone: str,
        created_by: str | None,
    ) -> Subscription:
        now = self.clock()
        ins = self._insert(t.subscriptions).values(
            platform=platform, channel_id=channel_id, workspace_id=workspace_id, hour=hh,
            minute=mm, zone=zone, created_by=created_by, created_at=now, updated_at=now,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[t.subscriptions.c.platform, t.subscriptions.c.channel_id],
            set_={name: ins.excluded[name]
                  for name in ("workspace_id", "hour", "minute", "zone", "created_by",
                               "updated_at")},
        ).returning(*t.subscriptions.c)
        return Subscription(**(await self._first(stmt))._mapping)

    async def delete_subscription(self, platform: str, channel_id: str) -> bool:
        stmt = delete(t.subscriptions).where(
            t.subscriptions.c.platform == platform, t.subscriptions.c.channel_id == channel_id
        )
        return await self._rowcount(stmt) > 0

    async def get_subscription(self, platform: str, channel_id: str) -> Subscription | None:
        stmt = select(t.subscriptions).where(
            t.subscriptions.c.platform == platform, t.subscriptions.c.channel_id == channel_id
        )
        row = await self._first(stmt)
        return None if row is None else Subscription(**row._mapping)

    async def list_subscriptions(self) -> list[Subscription]:
        stmt = select(t.subscriptions).order_by(
            t.subscriptions.c.platform, t.subscriptions.c.channel_id
        )
        async with self.engine.connect() as conn:
            return [Subscription(**row._mapping) for row in await conn.execute(stmt)]
