"""A frozen copy of the pre-Alembic store schema code (bot/store/tables.py and
bot/store/migrations.py as of commit 1d40232), so tests can make a database exactly as the
briefbot before Alembic did and check that today's briefbot upgrades it in place."""


from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
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
    insert,
    select,
    update,
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

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

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


def _v1_briefings(conn: Connection) -> None:
    for table in (claims, subscriptions, deliveries):
        table.create(conn)


def _v2_curation(conn: Connection) -> None:
    for table in (questions, votes, index_versions):
        table.create(conn)


STEPS = [_v1_briefings, _v2_curation]
LATEST = len(STEPS)


def legacy_migrate(conn: Connection, target: int = LATEST) -> int:
    """What the pre-Alembic briefbot did at start-up, up to schema version `target`."""
    schema_version.create(conn, checkfirst=True)
    version = conn.execute(select(schema_version.c.version)).scalar() or 0
    for step in STEPS[version:target]:
        step(conn)
    if target > version:
        if version == 0:
            conn.execute(insert(schema_version).values(id=1, version=target))
        else:
            conn.execute(update(schema_version).values(version=target))
    return max(version, target)
