"""Shared fixtures: the shipped seeds (and a copy to change), settings, an app context built
from them, and stores: a SQLite file, or SQLite and PostgreSQL in turn (`store_url`)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.settings import Settings
from bot.store import Store, open_store_url
from tests.pg import pg_server  # noqa: F401  (session PostgreSQL fixture)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seed_index():
    return build_index(SEEDS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(seeds_dir=SEEDS, data_dir=tmp_path, _env_file=None)


@pytest.fixture
def ctx(settings: Settings, seed_index) -> AppContext:
    return AppContext(settings=settings, index=IndexHolder(seed_index, version=1))


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A copy of the shipped seeds that a test may add to or break."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def live(seeds: Path, tmp_path: Path) -> AppContext:
    """An app context on that copy, with slack:UADMIN as an admin (for reloads)."""
    settings = Settings(seeds_dir=seeds, data_dir=tmp_path,
                        admins=["slack:UADMIN"], _env_file=None)
    return AppContext(settings=settings, index=IndexHolder(build_index(seeds), 1))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated store on a SQLite file (test_store.py runs its own on both databases)."""
    store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}")
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: a SQLite file, then a database on the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return await request.getfixturevalue("pg_server").create_database()
