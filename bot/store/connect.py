"""Opening the store: an engine for the URL (SQLite's pragmas, PostgreSQL's pool), the
migrations, then a `Store` on it.

SQLite file by default (WAL mode, so a killed process loses no committed write); PostgreSQL
with `DATABASE_URL=postgresql+asyncpg://user:pass@host/db` for several replicas.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.private_files import private_file
from bot.store.migrations import upgrade
from bot.store.store import Store

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("briefbot.store")


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        # it holds the questions people typed: a 0700 directory, a 0600 file (and -wal/-shm)
        private_file(Path(database))
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below) so DDL and claims run in real transactions.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process in WAL mode (only power loss can
        # drop the last commits), and much cheaper than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def create_engine_for(url: str) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(url, pool_pre_ping=True)


async def open_store_url(url: str, **kwargs: Any) -> Store:
    """Open (and migrate) the store at `url`."""
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            migration = await conn.run_sync(upgrade)
    except BaseException:
        await engine.dispose()
        raise
    if migration.applied:
        log.info("store schema upgraded from %s to revision %s",
                 migration.before or "an empty database", migration.after)
    store = Store(engine, **kwargs)
    store.migration = migration
    return store


async def open_store(settings: Settings, **kwargs: Any) -> Store:
    """The store named by DATABASE_URL, else a SQLite file in BRIEFBOT_DATA_DIR."""
    return await open_store_url(settings.resolved_database_url, **kwargs)

