"""Votes on answers (one per user per answer), and the gaps they and the abstained questions
show.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

import bot.store.tables as t
from bot.store.base import StoreBase
from bot.store.questions import normalize_question
from bot.store.records import GapGroup


class VoteStore(StoreBase):
    """👍/👎 per answer, and /gaps."""

    async def record_vote(
        self,
        answer_id: str,
        platform: str,
        user_key: str,
        vote: int,
        question: str,
        intent: str,
        citations_json: str | None,
    ) -> None:
        """One vote per user per answer: a second click replaces the first."""
        if vote not in (1, -1):
            raise ValueError("vote must be +1 or -1")
        now = self.clock()
        ins = self._insert(t.votes).values(
            answer_id=answer_id, platform=platform, user_key=user_key, vote=vote,
            question=question, normalized=normalize_question(question), intent=intent,
            citations_json=citations_json, created_at=now, updated_at=now,
        )
        v = t.votes.c
        stmt = ins.on_conflict_do_update(
            index_elements=[v.answer_id, v.platform, v.user_key],
            set_={"vote": ins.excluded.vote, "updated_at": ins.excluded.updated_at},
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def votes_for(self, answer_id: str) -> dict[int, int]:
        """{+1: ups, -1: downs} for one answer."""
        v = t.votes.c
        stmt = select(v.vote, func.count()).where(v.answer_id == answer_id).group_by(v.vote)
        async with self.engine.connect() as conn:
            counts = {int(vote): int(n) for vote, n in await conn.execute(stmt)}
        return {1: counts.get(1, 0), -1: counts.get(-1, 0)}

    async def gaps(self, limit: int = 20) -> list[GapGroup]:
        """Abstained and 👎 questions grouped by normalized text, most recently seen first."""
        q, v = t.questions.c, t.votes.c
        sources = {
            "abstained": select(q.normalized, func.count(), func.max(q.created_at))
            .where(q.abstained.is_(True))
            .group_by(q.normalized),
            "downvoted": select(v.normalized, func.count(), func.max(v.updated_at))
            .where(v.vote == -1)
            .group_by(v.normalized),
        }
        merged: dict[str, tuple[int, datetime, list[str]]] = {}
        async with self.engine.connect() as conn:
            for reason, stmt in sources.items():
                for text, count, last in await conn.execute(stmt):
                    n, seen, reasons = merged.get(text, (0, last, []))
                    merged[text] = (n + count, max(seen, last), [*reasons, reason])
        groups = [GapGroup(k, n, seen, tuple(r)) for k, (n, seen, r) in merged.items()]
        groups.sort(key=lambda g: (g.last_seen, g.count), reverse=True)
        return groups[:limit]
