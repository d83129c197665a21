"""Shared fixtures: the shipped seeds, settings and an app context built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.settings import Settings
from handlers.context import AppContext
from tests.pg import pg_server  # noqa: F401  (session PostgreSQL fixture)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seed_index():
    return build_index(SEEDS, semantic="off")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(seeds_dir=SEEDS, data_dir=tmp_path, semantic="off", _env_file=None)


@pytest.fixture
def ctx(settings: Settings, seed_index) -> AppContext:
    return AppContext(settings=settings, index=IndexHolder(seed_index, version=1))
