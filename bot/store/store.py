"""The durable store: subscriptions, per-day delivery claims, idempotency keys, questions,
votes, conversations, index versions, added articles and feeds. One async API over SQLite or
PostgreSQL.

One module a concern, each a class over the one shared engine (`bot/store/base.py`): claims,
subscriptions, deliveries, questions, votes, conversations, versions, feeds; `Store` is all
of them, plus the purge that spans them. The articles (`bot/store/articles.py`) are
`Store.articles`, recorded with the index versions they go live with. The records they read
and write are plain data in `bot/store/records.py`.

Every claim is ONE statement (INSERT ... ON CONFLICT ... RETURNING), never a read followed by
a write, so any number of replicas sharing a PostgreSQL database can race on it safely.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

import bot.store.tables as t
from bot.store.base import Clock, StoreBase
from bot.store.claims import ClaimStore
from bot.store.conversations import ConversationStore
from bot.store.deliveries import DEFAULT_LEASE, DeliveryStore
from bot.store.feeds import FeedStore
from bot.store.questions import QuestionStore, normalize_question
from bot.store.records import (
    MESSAGE_CLAIM,
    SHORT_LIVED_CLAIM,
    SHORT_LIVED_FOR,
    FeedState,
    GapGroup,
    Known,
    LastDelivery,
    Subscription,
)
from bot.store.subscriptions import SubscriptionStore
from bot.store.versions import VersionStore
from bot.store.votes import VoteStore

__all__ = [  # the names this module held before the split, for callers that import them here
    "DEFAULT_LEASE", "MESSAGE_CLAIM", "SHORT_LIVED_CLAIM", "SHORT_LIVED_FOR", "Clock",
    "FeedState", "GapGroup", "Known", "LastDelivery", "Store", "Subscription",
    "normalize_question",
]


class Store(ClaimStore, SubscriptionStore, DeliveryStore, QuestionStore, VoteStore,
            ConversationStore, VersionStore, FeedStore, StoreBase):
    """Every concern of the store on one engine (see the modules of each)."""

    async def purge_older_than(self, days: int = 90) -> int:
        """Forget questions, votes and idempotency keys older than `days` (interaction claims
        after a day); returns rows gone."""
        now = self.clock()
        cutoff = now - timedelta(days=days)
        c = t.claims.c
        removed = 0
        async with self.engine.begin() as conn:
            for stmt in (
                delete(t.questions).where(t.questions.c.created_at < cutoff),
                delete(t.votes).where(t.votes.c.updated_at < cutoff),
                delete(t.claims).where(c.claimed_at < cutoff),
                delete(t.claims).where(c.key.startswith(SHORT_LIVED_CLAIM),
                                       c.claimed_at < now - SHORT_LIVED_FOR),
                delete(t.claims).where(c.key.startswith(MESSAGE_CLAIM),
                                       c.claimed_at < now - SHORT_LIVED_FOR),
                delete(t.conversations).where(t.conversations.c.expires_at < now),
            ):
                removed += (await conn.execute(stmt)).rowcount
        return removed
