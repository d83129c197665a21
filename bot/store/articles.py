"""Articles added through briefbot, kept in the store: the truth every replica's seeds folder
follows (issue 19).

`/add`, feeds and `briefbot add` write a seed file on one replica; the file alone would stay
on that host. So an added or updated article (its seed file's text, hash, URL, who added it
and when) is recorded in the same transaction as the index version it goes live with, and a
removed one leaves a tombstone (no text) the same way. A replica that sees the version
therefore finds the articles too, writes the ones it lacks into its own seeds folder and
deletes the removed ones (`bot/ingest/mirror.py`) before it rebuilds. The records
(`ArticleChange`, `StoredArticle`) are plain data in `bot/store/records.py`, so the handlers
and the mirror name them without loading SQLAlchemy.

Recording takes a lock (PostgreSQL: a transaction-scoped advisory lock; SQLite has a single
writer anyway), so versions commit in order: whatever carries a version below N committed
before N did. So a replica that recorded N and then lists the articles sees every one
recorded before it, also those another replica recorded while this one built its index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.store.tables as t
from bot.store.records import ArticleChange, StoredArticle

__all__ = ["ArticleChange", "ArticleStore", "StoredArticle"]

_PG_LOCK_KEY = 0x62726661  # "brfa": one index version (and its articles) recorded at a time
_IN_CHUNK = 500  # names per IN (...) list


class _Shared(Protocol):
    """What the articles share with the rest of the store: its engine and its clock."""

    engine: AsyncEngine
    clock: Callable[[], datetime]


_LISTED = (t.articles.c.name, t.articles.c.url, t.articles.c.sha256,
           t.articles.c.text.is_(None).label("removed"), t.articles.c.index_version,
           t.articles.c.added_by, t.articles.c.added_at, t.articles.c.removed_by,
           t.articles.c.removed_at)


def _stored(row: Any) -> StoredArticle:
    values = dict(row._mapping)
    values["removed"] = bool(values["removed"])
    return StoredArticle(**values)


class ArticleStore:
    """The articles table, over the store's engine."""

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared

    @property
    def _engine(self) -> AsyncEngine:
        return self._shared.engine

    def _insert(self) -> Any:
        module = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return module.insert(t.articles)

    async def record(self, changes: Sequence[ArticleChange], *, note: str | None = None) -> int:
        """Record a new index version and, in the same transaction, `changes`; returns the
        version. An article added under a new name whose URL a live article has under
        another name replaces that one (it is removed in the same transaction), so one
        article never ends up in two files on the replicas."""
        now = self._shared.clock()
        a = t.articles.c
        async with self._engine.begin() as conn:
            if self._engine.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _PG_LOCK_KEY})
            version = int((await conn.execute(
                t.index_versions.insert().values(note=note, created_at=now)
                .returning(t.index_versions.c.version))).scalar_one())
            for change in changes:
                if change.removed:
                    values: dict[str, Any] = {
                        "url": change.url, "text": None, "sha256": change.sha256,
                        "removed_by": change.by, "removed_at": now, "index_version": version}
                    first = {"added_by": change.by, "added_at": now}
                else:
                    if change.url:
                        await conn.execute(
                            update(t.articles)
                            .where(a.url == change.url, a.name != change.name,
                                   a.text.is_not(None))
                            .values(text=None, removed_by=change.by, removed_at=now,
                                    index_version=version))
                    values = {"url": change.url, "text": change.text, "sha256": change.sha256,
                              "added_by": change.by, "added_at": now, "removed_by": None,
                              "removed_at": None, "index_version": version}
                    first = {}
                ins = self._insert().values(name=change.name, **values, **first)
                await conn.execute(ins.on_conflict_do_update(index_elements=[a.name],
                                                             set_=values))
        return version

    async def listing(self) -> tuple[int, list[StoredArticle]]:
        """The store's index version, then every article (tombstones too), without texts.

        The version is read first: every article recorded with a version up to it is in
        the list (see the module's docstring), so a folder made from the list holds
        everything that version went live with."""
        async with self._engine.connect() as conn:
            version = int((await conn.execute(
                select(func.max(t.index_versions.c.version)))).scalar() or 0)
            rows = await conn.execute(select(*_LISTED).order_by(t.articles.c.name))
            return version, [_stored(row) for row in rows]

    async def texts(self, names: Sequence[str]) -> dict[str, str]:
        """The texts of the live articles among `names`."""
        a = t.articles.c
        found: dict[str, str] = {}
        async with self._engine.connect() as conn:
            for start in range(0, len(names), _IN_CHUNK):
                chunk = list(names[start:start + _IN_CHUNK])
                rows = await conn.execute(select(a.name, a.text)
                                          .where(a.name.in_(chunk), a.text.is_not(None)))
                found.update({row.name: row.text for row in rows})
        return found

    async def find(self, *, name: str | None = None, url: str | None = None,
                   live: bool = True) -> StoredArticle | None:
        """The article with this file name or (normalised) URL; by default not a tombstone."""
        a = t.articles.c
        stmt = select(*_LISTED)
        if name is not None:
            stmt = stmt.where(a.name == name)
        if url is not None:
            stmt = stmt.where(a.url == url)
        if live:
            stmt = stmt.where(a.text.is_not(None))
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt.order_by(a.index_version.desc()).limit(1))).first()
        return None if row is None else _stored(row)
