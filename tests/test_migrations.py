"""Alembic migrations (issue 12): from an empty database and from the schema the pre-Alembic
briefbot made, on SQLite and on a real PostgreSQL; the revisions agree with bot/store/tables.py
and are shipped inside the package."""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import UTC, date, datetime
from fnmatch import fnmatch
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, select, text

from bot.store import create_engine_for, open_store_url
from bot.store import tables as t
from bot.store.migrations import SCRIPT_LOCATION, head, known_revisions
from tests import legacy_schema as legacy

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)


def schema_differences(conn: Connection) -> list[object]:
    """What Alembic's autogenerate would change to make the database match tables.py."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, t.metadata))


def describe(conn: Connection) -> dict[str, object]:
    """The reflected schema, comparable between two databases of one dialect."""
    found = inspect(conn)
    return {
        name: (
            [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
             for c in found.get_columns(name)],
            found.get_pk_constraint(name)["constrained_columns"],
            sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(name)),
        )
        for name in sorted(found.get_table_names())
    }


async def inspect_url(url: str, fn):
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def make_legacy(url: str, version: int) -> None:
    """A database exactly as the pre-Alembic briefbot left it at `version`, with data."""
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(legacy.legacy_migrate, version)
            await conn.execute(insert(legacy.subscriptions).values(
                platform="slack", channel_id="C1", workspace_id="T1", hour=8, minute=30,
                zone="Europe/Berlin", created_by="U1", created_at=T0, updated_at=T0))
            await conn.execute(insert(legacy.deliveries).values(
                platform="slack", channel_id="C1", local_date=date(2024, 3, 4), status="sent",
                claimed_at=T0, claimed_by="w1", attempts=1, finished_at=T0, index_version=1))
            if version >= 2:
                await conn.execute(insert(legacy.questions).values(
                    platform="slack", question="who is X?", normalized="who is x",
                    intent="who", abstained=True, created_at=T0))
                await conn.execute(insert(legacy.index_versions).values(note="r", created_at=T0))
    finally:
        await engine.dispose()


async def test_upgrade_from_an_empty_database(store_url: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="briefbot.store")  # whatever an earlier test set
    store = await open_store_url(store_url)
    upgraded = [r.getMessage() for r in caplog.records
                if r.name.startswith(("alembic", "briefbot.store"))]
    assert upgraded == [f"store schema upgraded from an empty database to revision {head()}"]
    try:
        assert store.migration is not None
        assert (store.migration.before, store.migration.after) == (None, head())
        await store.upsert_subscription("slack", "C1", "T1", 8, 30, "UTC", "U1")
        assert await store.bump_index_version("first") == 1
    finally:
        await store.close()
    assert await inspect_url(store_url, schema_differences) == []
    tables = await inspect_url(store_url, lambda c: set(inspect(c).get_table_names()))
    assert tables == set(t.metadata.tables) | {"alembic_version"}
    again = await open_store_url(store_url)  # opening again changes nothing
    try:
        assert again.migration is not None and not again.migration.applied
        assert again.migration.after == head()
    finally:
        await again.close()


@pytest.mark.parametrize("version", [2, 1])
async def test_upgrade_from_the_pre_alembic_schema_keeps_the_data(
        store_url: str, version: int) -> None:
    await make_legacy(store_url, version)
    store = await open_store_url(store_url)
    try:
        assert store.migration is not None
        assert (store.migration.before, store.migration.after) == (
            f"schema_version {version}", head())
        sub = await store.get_subscription("slack", "C1")
        assert sub is not None and (sub.zone, sub.created_at) == ("Europe/Berlin", T0)
        last = await store.last_delivery("slack", "C1")
        assert last is not None and last.index_version == 1
        if version == 2:
            [gap] = await store.gaps()
            assert gap.question == "who is x"
            assert await store.bump_index_version("after upgrade") == 2  # numbering goes on
        else:
            assert await store.bump_index_version("after upgrade") == 1
        await store.record_vote("a1", "slack", "u", -1, "why?", "why", None)
    finally:
        await store.close()
    assert await inspect_url(store_url, schema_differences) == []
    tables = await inspect_url(store_url, lambda c: set(inspect(c).get_table_names()))
    assert "schema_version" not in tables and "alembic_version" in tables


@pytest.mark.parametrize("version", [2, 1])
async def test_upgraded_and_fresh_databases_have_the_same_schema(
        store_url: str, tmp_path: Path, request: pytest.FixtureRequest, version: int) -> None:
    """From schema_version 2 this also shows revision 0001 makes exactly the tables the
    pre-Alembic code made (they are kept as they were, and equal the fresh ones)."""
    await make_legacy(store_url, version)
    await (await open_store_url(store_url)).close()
    if store_url.startswith("sqlite"):
        fresh_url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        fresh_url = await request.getfixturevalue("pg_server").create_database()
    await (await open_store_url(fresh_url)).close()
    assert await inspect_url(store_url, describe) == await inspect_url(fresh_url, describe)


async def test_a_newer_schema_is_refused(store_url: str) -> None:
    await (await open_store_url(store_url)).close()
    engine = create_engine_for(store_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()
    with pytest.raises(RuntimeError, match="newer than this briefbot"):
        await open_store_url(store_url)


async def test_a_newer_pre_alembic_schema_is_refused(store_url: str) -> None:
    engine = create_engine_for(store_url)
    async with engine.begin() as conn:
        await conn.run_sync(legacy.legacy_migrate)
        await conn.execute(legacy.schema_version.update().values(version=3))
    await engine.dispose()
    with pytest.raises(RuntimeError, match="newer than this briefbot"):
        await open_store_url(store_url)
    version = await inspect_url(store_url, lambda c: c.execute(
        select(legacy.schema_version.c.version)).scalar())
    assert version == 3  # nothing was touched


def test_revisions_are_frozen_and_form_one_line() -> None:
    """No revision reads the live tables; one head, each revision's parent known."""
    files = sorted((SCRIPT_LOCATION / "versions").glob("*.py"))
    assert len(files) == len(known_revisions()) >= 2
    for path in files:
        source = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(bot|handlers)\b", source, re.M), path.name
    assert head() == max(known_revisions())


def test_the_revisions_are_package_data() -> None:
    """An installed briefbot (not this checkout) must find env.py and every revision."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    bot = ROOT / "bot"
    shipped = [p for p in SCRIPT_LOCATION.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert {p.name for p in shipped} >= {"env.py", "script.py.mako"}
    for path in shipped:
        relative = path.relative_to(bot).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative
    assert any(dep.startswith("alembic") for dep in config["project"]["dependencies"])
