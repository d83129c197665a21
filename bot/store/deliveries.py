"""Per-day delivery claims: each channel's briefing is posted once per local day.

A claim is ONE statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING), never
a read followed by a write, and carries a fencing token, so any number of schedulers sharing
a PostgreSQL database can race on it safely.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update

import bot.store.tables as t
from bot.store.base import StoreBase
from bot.store.records import Known, LastDelivery

DEFAULT_LEASE = timedelta(minutes=2)


class DeliveryStore(StoreBase):
    """Claims, leases and results of each day's briefing post."""

    def _delivery_key(self, platform: str, channel_id: str, local_date: date) -> Any:
        d = t.deliveries.c
        return (d.platform == platform) & (d.channel_id == channel_id) & (
            d.local_date == local_date
        )

    async def claim_delivery(
        self,
        platform: str,
        channel_id: str,
        local_date: date,
        *,
        worker: str | None = None,
        now: datetime | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> bool:
        """Claim the channel's post for `local_date`; True means this worker must send it."""
        return await self.claim_delivery_token(
            platform, channel_id, local_date, worker=worker, now=now, lease=lease
        ) is not None

    async def claim_delivery_token(
        self,
        platform: str,
        channel_id: str,
        local_date: date,
        *,
        worker: str | None = None,
        now: datetime | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> int | None:
        """Claim the channel's post for `local_date`: the claim's fencing token, or None.

        One statement: insert the claim, or take over a claim whose worker stopped renewing it
        for longer than `lease` (it died between claim and send). A sent or failed day is
        never claimed again. The token (the claim's `attempts`, one more on each takeover)
        goes with every later renew_claim and record_delivery of this claim, so a worker
        whose claim was taken over can neither extend nor finish it.
        `now` is the moment of the claim (it is stored as the lease's start).
        """
        now = now or self.clock()
        d = t.deliveries.c
        ins = self._insert(t.deliveries).values(
            platform=platform, channel_id=channel_id, local_date=local_date, status="claimed",
            claimed_at=now, claimed_by=worker or self.worker_id, attempts=1,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[d.platform, d.channel_id, d.local_date],
            set_={"claimed_at": ins.excluded.claimed_at, "claimed_by": ins.excluded.claimed_by,
                  "attempts": d.attempts + 1},
            where=(d.status == "claimed") & (d.claimed_at < now - lease),
        ).returning(d.attempts)
        row = await self._first(stmt)
        return None if row is None else int(row[0])

    def _held(self, worker: str | None, token: int | None) -> Any:
        """Still claimed by `worker` (and, with a token, by that very claim)."""
        d = t.deliveries.c
        held = (d.status == "claimed") & (d.claimed_by == (worker or self.worker_id))
        return held if token is None else held & (d.attempts == token)

    async def renew_claim(
        self,
        platform: str,
        channel_id: str,
        local_date: date,
        *,
        worker: str | None = None,
        token: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Extend our lease (the scheduler does while it sends); False if another worker took
        the day over, or it is no longer claimed."""
        stmt = (
            update(t.deliveries)
            .where(self._delivery_key(platform, channel_id, local_date))
            .where(self._held(worker, token))
            .values(claimed_at=now or self.clock())
        )
        return await self._rowcount(stmt) > 0

    async def record_delivery(
        self,
        platform: str,
        channel_id: str,
        local_date: date,
        status: Literal["sent", "failed"],
        error: str | None = None,
        *,
        index_version: int | None = None,
        known: Known | None = None,
        now: datetime | None = None,
        worker: str | None = None,
        token: int | None = None,
    ) -> bool:
        """Mark the claimed day sent or failed (either way it is never claimed again).

        With a `token` (from claim_delivery_token) only that claim is finished: False when
        another worker has taken the day over meanwhile, and nothing is written. Without
        one the day is recorded whatever its state.
        """
        now = now or self.clock()
        values: dict[str, Any] = {
            "status": status, "error": error, "finished_at": now, "index_version": index_version,
            "known_json": None if known is None else json.dumps(
                {"docs": sorted(known.docs), "people": sorted(known.people)}),
        }
        if token is not None:
            stmt = (
                update(t.deliveries)
                .where(self._delivery_key(platform, channel_id, local_date))
                .where(self._held(worker, token))
                .values(**values)
            )
            return await self._rowcount(stmt) > 0
        ins = self._insert(t.deliveries).values(
            platform=platform, channel_id=channel_id, local_date=local_date, claimed_at=now,
            claimed_by=worker or self.worker_id, attempts=1, **values,
        )
        d = t.deliveries.c
        stmt = ins.on_conflict_do_update(
            index_elements=[d.platform, d.channel_id, d.local_date], set_=values
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)
        return True

    async def delivery_status(
        self, platform: str, channel_id: str, local_date: date
    ) -> str | None:
        stmt = select(t.deliveries.c.status).where(
            self._delivery_key(platform, channel_id, local_date)
        )
        row = await self._first(stmt)
        return None if row is None else str(row[0])

    async def _last_sent_row(self, platform: str, channel_id: str) -> Any:
        d = t.deliveries.c
        stmt = (
            select(d.local_date, d.finished_at, d.index_version, d.known_json)
            .where(d.platform == platform, d.channel_id == channel_id, d.status == "sent")
            .order_by(d.local_date.desc())
            .limit(1)
        )
        return await self._first(stmt)

    async def last_delivery(self, platform: str, channel_id: str) -> LastDelivery | None:
        """The channel's most recent sent briefing: (local_date, sent_at, index_version)."""
        row = await self._last_sent_row(platform, channel_id)
        return None if row is None else LastDelivery(row[0], row[1], row[2])

    async def previous_briefing(
        self, platform: str, channel_id: str
    ) -> tuple[LastDelivery, Known | None] | None:
        """The last sent briefing and what the index held then (for 'what is new')."""
        row = await self._last_sent_row(platform, channel_id)
        if row is None:
            return None
        data = json.loads(row[3]) if row[3] else None
        known = None if data is None else Known(frozenset(data.get("docs", [])),
                                                frozenset(data.get("people", [])))
        return LastDelivery(row[0], row[1], row[2]), known
