"""The durable store: subscriptions, per-day delivery claims, idempotency keys, questions,
votes and index versions. One async API over SQLite or PostgreSQL.

Every claim is ONE statement (INSERT ... ON CONFLICT ... RETURNING), never a read followed by
a write, so any number of replicas sharing a PostgreSQL database can race on it safely.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sqlalchemy import Insert, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.store.tables as t
from bot.schedule import DailyTime

if TYPE_CHECKING:
    from bot.store.migrations import Migration
    from bot.store.records import AskedQuestion

DEFAULT_LEASE = timedelta(minutes=2)
SHORT_LIVED_CLAIM = "interaction:"
"""Claims with this prefix (a platform's interaction ids) only guard against replicas racing
on the same delivery, which is over in seconds: they are purged after a day, not 90."""
MESSAGE_CLAIM = "message:"
"""Claims on chat messages (one reply per message across replicas and redeliveries): a
platform redelivers within minutes, so these too are purged after a day."""
SHORT_LIVED_FOR = timedelta(days=1)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@functools.lru_cache(maxsize=1024)  # pure, and the same questions come back batch after batch
def normalize_question(text: str) -> str:
    """Group key for /gaps: case, spacing and trailing punctuation don't make a new question."""
    return re.sub(r"\s+", " ", text).strip().strip("?!. ").lower()


_QUESTION_COLUMNS = ("platform", "question", "normalized", "intent", "abstained", "answer_id",
                     "citations_json", "created_at")


@dataclass(frozen=True)
class _QuestionInsert:
    """The questions INSERT compiled once for a dialect, with the bind processors it needs.

    `sql` is None when the compiled statement is not the plain positional INSERT expected
    (another paramstyle, or a text column that needs converting): then the ORM-free Core
    path with per-row dicts is used instead.
    """

    sql: str | None
    abstained: Callable[[Any], Any] | None
    created_at: Callable[[Any], Any]

    @classmethod
    def for_dialect(cls, dialect: Any) -> _QuestionInsert:
        columns = t.questions.c
        procs = {name: columns[name].type.dialect_impl(dialect).bind_processor(dialect)
                 for name in _QUESTION_COLUMNS}
        compiled = t.questions.insert().compile(dialect=dialect,
                                                column_keys=list(_QUESTION_COLUMNS),
                                                for_executemany=True)
        when = procs["created_at"]
        plain = (dialect.positional and tuple(compiled.positiontup or ()) == _QUESTION_COLUMNS
                 and when is not None
                 and all(procs[name] is None for name in _QUESTION_COLUMNS
                         if name not in ("abstained", "created_at")))
        if not plain or when is None:
            return cls(None, None, lambda value: value)
        # The column's processor (UTCDateTime, then the dialect's DateTime) takes ~6 µs on
        # SQLite; a shortcut is used only if it binds exactly what that processor does.
        samples = [datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
                   datetime(2026, 3, 1, 0, 0, 0, 0, tzinfo=UTC),
                   datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
                   datetime(2026, 3, 1, 14, 30, 0, 7, tzinfo=timezone(timedelta(hours=2)))]
        for fast in (_utc_text, _naive_utc):
            if all(fast(sample) == when(sample) and type(fast(sample)) is type(when(sample))
                   for sample in samples):
                when = fast
                break
        return cls(str(compiled), procs["abstained"], when)


def _naive_utc(value: datetime) -> datetime:
    """UTCDateTime's bind step: aware in, naive UTC out."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _utc_text(value: datetime) -> str:
    """UTCDateTime then SQLite's DateTime bind step: naive UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return _naive_utc(value).isoformat(" ", "microseconds")


@dataclass(frozen=True)
class Subscription:
    platform: str
    channel_id: str
    workspace_id: str | None
    hour: int
    minute: int
    zone: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def daily(self) -> DailyTime:
        return DailyTime(self.hour, self.minute, self.zone)


class Known(NamedTuple):
    """Document ids and people names a channel's briefing was composed from."""

    docs: frozenset[str]
    people: frozenset[str]


class LastDelivery(NamedTuple):
    local_date: date
    sent_at: datetime
    index_version: int | None


@dataclass(frozen=True)
class GapGroup:
    """Questions the bot abstained on or got 👎 for, grouped by their normalized text."""

    question: str
    count: int
    last_seen: datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FeedState:
    """A feed's last poll as the store remembers it (for every replica)."""

    url: str
    etag: str | None
    last_modified: str | None
    polled_at: datetime | None
    status: str | None
    error: str | None


class Store:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = _utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self.worker_id = uuid.uuid4().hex[:12]
        self.migration: Migration | None = None  # what open_store_url did to the schema
        self._question_plan: _QuestionInsert | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shared(self) -> bool:
        """True when other processes may use this store too (PostgreSQL: replicas); a SQLite
        file belongs to one bot, so per-request claims between replicas can be skipped."""
        return self.dialect != "sqlite"

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which has on_conflict_do_nothing/update."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    async def _first(self, stmt: Any) -> Any:
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).first()

    async def _rowcount(self, stmt: Any) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount

    async def close(self) -> None:
        await self.engine.dispose()

    # -- idempotency --------------------------------------------------------------------

    async def claim_once(self, key: str) -> bool:
        """True for the first caller of `key`, on any replica; False ever after."""
        stmt: Insert = (
            self._insert(t.claims)
            .values(key=key, claimed_at=self.clock())
            .on_conflict_do_nothing(index_elements=[t.claims.c.key])
            .returning(t.claims.c.key)
        )
        return await self._first(stmt) is not None

    # -- subscriptions ------------------------------------------------------------------

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

    # -- deliveries ---------------------------------------------------------------------

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

    # -- questions, votes, gaps (issue 6) -----------------------------------------------

    async def record_questions(self, asked: Sequence[AskedQuestion]) -> None:
        """Store many questions in one transaction (the question log's batches)."""
        if not asked:
            return
        plan = self._question_plan
        if plan is None:
            plan = self._question_plan = _QuestionInsert.for_dialect(self.engine.dialect)
        if plan.sql is None:  # a dialect the plain-tuple path was not checked for
            rows = [{"platform": q.platform, "question": q.question,
                     "normalized": normalize_question(q.question), "intent": q.intent,
                     "abstained": q.abstained, "answer_id": q.answer_id,
                     "citations_json": q.citations_json, "created_at": q.asked_at}
                    for q in asked]
            async with self.engine.begin() as conn:
                await conn.execute(t.questions.insert(), rows)
            return
        # The driver's executemany on plain tuples, bound by the columns' own processors:
        # SQLAlchemy's per-row parameter building was most of this write's CPU.
        flag, when = plan.abstained, plan.created_at
        rows = [(q.platform, q.question, normalize_question(q.question), q.intent,
                 q.abstained if flag is None else flag(q.abstained), q.answer_id,
                 q.citations_json, when(q.asked_at))
                for q in asked]
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql(plan.sql, rows)

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

    async def question_for(self, answer_id: str) -> tuple[str, str, str | None] | None:
        """(question, intent, citations_json) recorded for an answer, for a bare vote button."""
        q = t.questions.c
        stmt = (select(q.question, q.intent, q.citations_json)
                .where(q.answer_id == answer_id).order_by(q.id.desc()).limit(1))
        row = await self._first(stmt)
        return None if row is None else (str(row[0]), str(row[1]), row[2])

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

    # -- conversations (issue 13) -------------------------------------------------------

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

    # -- index versions (issue 6) -------------------------------------------------------

    async def get_index_version(self) -> int:
        """The latest index version any replica recorded (0 before the first reload)."""
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(select(func.max(t.index_versions.c.version)))).scalar() or 0
            )

    async def bump_index_version(self, note: str | None = None) -> int:
        """Record a reload; replicas poll get_index_version and reload when it moves."""
        stmt = (
            t.index_versions.insert()
            .values(note=note, created_at=self.clock())
            .returning(t.index_versions.c.version)
        )
        return int((await self._first(stmt))[0])

    # -- feeds (issue 14) ---------------------------------------------------------------

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
