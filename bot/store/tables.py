"""The store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Times are stored as naive UTC and come back aware (UTC): SQLite has no time zones, and one
convention for both databases keeps the comparisons in the atomic claims simple.

These are the live definitions the code queries with. The schema on disk is made by the
Alembic revisions in bot/store/revisions/ (each with its own frozen copy of the tables): a
change here needs a new revision, and tests/test_migrations.py fails until the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC on disk."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

# Generic idempotency keys: share buttons, Slack retries.
claims = Table(
    "claims",
    metadata,
    Column("key", Text, primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel_id", String(64), primary_key=True),
    Column("workspace_id", String(64)),
    Column("hour", SmallInteger, nullable=False),
    Column("minute", SmallInteger, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("created_by", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per channel per local day: the claim that makes a post happen at most once.
deliveries = Table(
    "deliveries",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel_id", String(64), primary_key=True),
    Column("local_date", Date, primary_key=True),
    Column("status", String(16), nullable=False),  # claimed | sent | failed
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("finished_at", UTCDateTime),
    Column("index_version", Integer),
    Column("known_json", Text),  # {"docs": [...], "people": [...]} the index had
    Column("error", Text),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("question", Text, nullable=False),
    Column("normalized", Text, nullable=False),
    Column("intent", String(64), nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("answer_id", String(64)),
    Column("citations_json", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_questions_created_at", "created_at"),
)

votes = Table(
    "votes",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("user_key", String(128), primary_key=True),
    Column("vote", SmallInteger, nullable=False),
    Column("question", Text, nullable=False),
    Column("normalized", Text, nullable=False),
    Column("intent", String(64), nullable=False),
    Column("citations_json", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

index_versions = Table(
    "index_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

# Feeds (issue 14): each feed's conditional-request state and last poll, shared by replicas.
feeds = Table(
    "feeds",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("polled_at", UTCDateTime),
    Column("status", String(32)),  # "200" | "304" | "error"
    Column("error", Text),
)

# One row per feed item ever claimed (key: "guid:…" or "url:…"), so replicas add it once.
feed_items = Table(
    "feed_items",
    metadata,
    Column("key", Text, primary_key=True),
    Column("feed_url", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("status", String(16), nullable=False),  # claimed | added | failed
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=False),
    Column("finished_at", UTCDateTime),
    Column("path", Text),
    Column("error", Text),
    Index("ix_feed_items_feed_url", "feed_url"),
)

# Chat conversations (issue 13): the context of one thread or DM, small and expiring, so a
# follow-up ("what did he say?") reads the same context on whichever replica it reaches.
conversations = Table(
    "conversations",
    metadata,
    Column("key", Text, primary_key=True),
    Column("context_json", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_conversations_expires_at", "expires_at"),
)

# Articles added through briefbot (issue 19): `/add`, feeds, `briefbot add`, and their removal.
# The store is their truth: each replica writes them into its own seeds folder before it
# rebuilds. A removed article stays as a tombstone (no text) so every replica deletes its file.
articles = Table(
    "articles",
    metadata,
    Column("name", Text, primary_key=True),  # the seed file's name, e.g. "harbour-bridge.md"
    Column("url", Text),  # its front matter's URL, normalised (how the same article is known)
    Column("text", Text),  # the seed file as written: Markdown with front matter; NULL: removed
    Column("sha256", String(64), nullable=False),  # of the text (a tombstone: of the last text)
    Column("added_by", Text, nullable=False),  # "slack:U123", "discord:456", "cli:alice", "feeds"
    Column("added_at", UTCDateTime, nullable=False),  # when this text was added or updated
    Column("removed_by", Text),
    Column("removed_at", UTCDateTime),
    Column("index_version", Integer, nullable=False),  # recorded in the same transaction
    Index("ix_articles_url", "url"),
    Index("ix_articles_index_version", "index_version"),
)
