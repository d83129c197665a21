"""The store's records as plain data, and the key namespaces of its claims, without SQLAlchemy.

Any layer may name these (a handler queues an `AskedQuestion` or claims a `MESSAGE_CLAIM`
key, the scheduler reads a `Subscription`) without loading the database code, so
`briefbot ask` never imports SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot.schedule import DailyTime

SHORT_LIVED_CLAIM = "interaction:"
"""Claims with this prefix (a platform's interaction ids) only guard against replicas racing
on the same delivery, which is over in seconds: they are purged after a day, not 90."""
MESSAGE_CLAIM = "message:"
"""Claims on chat messages (one reply per message across replicas and redeliveries): a
platform redelivers within minutes, so these too are purged after a day."""
SHORT_LIVED_FOR = timedelta(days=1)


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
class AskedQuestion:
    """One question as typed, with what became of it; never who asked it."""

    platform: str
    question: str
    intent: str
    abstained: bool
    answer_id: str | None
    citations_json: str | None
    asked_at: datetime


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


@dataclass(frozen=True)
class ArticleChange:
    """One article to record: its seed file `name` and `text`, or `text=None` to remove it.

    `sha256` is the hash of the text (for a removal, of the text removed, so another replica
    deletes its copy only when it is the same file); `url` the front matter's URL,
    normalised, which says two files are the same article.
    """

    name: str
    text: str | None
    sha256: str
    url: str | None
    by: str

    @property
    def removed(self) -> bool:
        return self.text is None


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store lists it (without its text)."""

    name: str
    url: str | None
    sha256: str
    removed: bool
    index_version: int
    added_by: str
    added_at: datetime
    removed_by: str | None
    removed_at: datetime | None
