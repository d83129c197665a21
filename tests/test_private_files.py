"""Files and secrets (issue 12): the data directory is 0700, the SQLite database (which holds
the questions people typed) 0600, and a stale admin.token is replaced atomically at start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.admin import token_path, write_admin_token
from bot.settings import Settings
from bot.store import open_store_url


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


async def test_new_data_dir_is_0700_and_database_0600(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "data"
    store = await open_store_url(f"sqlite+aiosqlite:///{data / 'briefbot.db'}")
    try:
        await store.bump_index_version("a write, so the WAL file exists")
        assert mode(data) == 0o700
        assert mode(data / "briefbot.db") == 0o600
        wal = data / "briefbot.db-wal"
        assert wal.exists() and mode(wal) == 0o600  # SQLite copies the database's mode
    finally:
        await store.close()


async def test_a_database_others_could_read_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.db"
    store = await open_store_url(f"sqlite+aiosqlite:///{db}")
    await store.bump_index_version("made by an older briefbot")
    await store.close()
    os.chmod(db, 0o644)
    store = await open_store_url(f"sqlite+aiosqlite:///{db}")
    try:
        assert mode(db) == 0o600
        assert await store.get_index_version() == 1  # same data
    finally:
        await store.close()


def test_admin_token_creates_a_private_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    token = write_admin_token(settings)
    assert token and token_path(settings).read_text() == token
    assert mode(tmp_path / "data") == 0o700 and mode(token_path(settings)) == 0o600


def test_stale_admin_token_is_replaced_atomically(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    path = token_path(settings)
    path.write_text("stale")  # left by a killed server, readable by everyone
    os.chmod(path, 0o644)
    seen_while_writing: list[str | None] = []
    real_fdopen = os.fdopen

    def spy(fd: int, *args, **kwargs):
        seen_while_writing.append(path.read_text() if path.exists() else None)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", spy)
    token = write_admin_token(settings)
    monkeypatch.undo()
    assert token and path.read_text() == token and mode(path) == 0o600
    # while the new token was written, a reader still found the whole old one: never a
    # missing or empty file
    assert seen_while_writing == ["stale"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.token"]  # no temp file left


def test_failed_token_write_leaves_no_partial_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    path = token_path(settings)
    path.write_text("stale")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert write_admin_token(settings) is None  # logged; `briefbot reload` will be refused
    monkeypatch.undo()
    assert path.read_text() == "stale"  # not truncated, and no temp file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.token"]


def test_a_symlinked_stale_token_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    data = tmp_path / "data"
    data.mkdir()
    (data / "admin.token").symlink_to(victim)
    settings = Settings(data_dir=data, _env_file=None)
    token = write_admin_token(settings)
    assert token and victim.read_text() == "keep me"
    assert not (data / "admin.token").is_symlink() and mode(data / "admin.token") == 0o600
