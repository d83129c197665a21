"""The store as the truth for added articles (issue 19): `bot/store/articles.py` on SQLite and
on a real PostgreSQL, and `bot/ingest/mirror.py` writing the store's articles into seeds
folders (empty, stale, with hand-placed files) atomically and in the seed file format."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.engine.index import build_index
from bot.ingest.mirror import (
    SeedMirror,
    SeedSyncError,
    change_from_file,
    front_matter_url,
    removal,
    safe_name,
)
from bot.store import Store, open_store_url
from bot.store.articles import ArticleChange
from tests.clock import FakeClock

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
URL = "https://www.example.com/news/2025/03/04/harbour-bridge"
NAME = "riverton-approves-the-harbour-bridge.md"


def seed_text(title: str = "Riverton approves the harbour bridge", url: str = URL,
              extra: str = "") -> str:
    """A seed file as `briefbot add` writes it (front matter, then paragraphs)."""
    return (f"---\ntitle: {title}\nurl: {url}\ndate: '2025-03-04'\nauthor: Maria Lindqvist\n"
            f"fetched: '2025-03-04T09:12:44Z'\n---\n\nThe city council of Riverton approved a "
            f"new harbour bridge on Tuesday, said Anna Kowalczyk, the city's mayor.{extra}\n\n"
            "The bridge will cost 40 million euros and open in 2028, the council said.\n")


def added(name: str = NAME, text: str | None = None, *, by: str = "slack:UADMIN"
          ) -> ArticleChange:
    body = (text if text is not None else seed_text()).encode()
    return ArticleChange(name=name, text=body.decode(), sha256=hashlib.sha256(body).hexdigest(),
                         url=front_matter_url(body), by=by)


def files(folder: Path) -> list[str]:
    """What a folder holds (temporary files included)."""
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = await open_store_url(store_url, clock=FakeClock(T0))
    yield store
    await store.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "replica-seeds"
    path.mkdir()
    return path


# --- the store ------------------------------------------------------------------------------

async def test_an_article_is_recorded_with_its_version_who_and_when(store: Store) -> None:
    assert await store.bump_index_version("plain reload") == 1
    version = await store.articles.record([added()], note="reload by slack")
    assert version == 2 == await store.get_index_version()
    listed_version, [row] = await store.articles.listing()
    assert listed_version == 2
    assert (row.name, row.url, row.removed, row.index_version) == (NAME, URL, False, 2)
    assert (row.added_by, row.added_at) == ("slack:UADMIN", T0)
    assert row.sha256 == hashlib.sha256(seed_text().encode()).hexdigest()
    assert await store.articles.texts([NAME, "other.md"]) == {NAME: seed_text()}
    assert (await store.articles.find(url=URL)) == row
    assert await store.articles.find(name="other.md") is None


async def test_an_update_replaces_the_text_and_a_removal_leaves_a_tombstone(
        store: Store) -> None:
    await store.articles.record([added()])
    newer = added(text=seed_text(extra=" Work starts in May."), by="discord:456")
    assert await store.articles.record([newer]) == 2
    [row] = (await store.articles.listing())[1]
    assert (row.sha256, row.added_by, row.index_version) == (newer.sha256, "discord:456", 2)
    gone = removal(NAME, newer.text.encode(), row, by="cli:alice")  # type: ignore[union-attr]
    assert await store.articles.record([gone]) == 3
    [row] = (await store.articles.listing())[1]
    assert row.removed and (row.sha256, row.url) == (newer.sha256, URL)
    assert (row.removed_by, row.removed_at, row.index_version) == ("cli:alice", T0, 3)
    assert await store.articles.texts([NAME]) == {}
    assert await store.articles.find(url=URL) is None
    assert await store.articles.find(url=URL, live=False) == row
    again = added(by="feeds")  # added again after its removal
    await store.articles.record([again])
    [row] = (await store.articles.listing())[1]
    assert not row.removed and row.removed_by is None and row.added_by == "feeds"


async def test_the_same_url_under_a_new_name_retires_the_old_name(store: Store) -> None:
    await store.articles.record([added()])
    await store.articles.record([added("harbour-bridge-2.md")])
    rows = {row.name: row for row in (await store.articles.listing())[1]}
    assert rows[NAME].removed and not rows["harbour-bridge-2.md"].removed
    assert rows[NAME].index_version == rows["harbour-bridge-2.md"].index_version == 2


async def test_replicas_recording_at_once_each_get_their_own_version(
        store_url: str) -> None:
    """Two stores (two replicas' pools) record at once: every version is distinct, every
    article carries the version its transaction recorded, none is lost."""
    stores = [await open_store_url(store_url) for _ in range(2)]
    try:
        changes = [added(f"article-{i}.md", seed_text(url=f"{URL}/{i}")) for i in range(20)]
        versions = await asyncio.gather(*(
            stores[i % 2].articles.record([change]) for i, change in enumerate(changes)))
        assert sorted(versions) == list(range(1, 21))
        _, rows = await stores[0].articles.listing()
        assert {row.name: row.index_version for row in rows} == {
            change.name: version for change, version in zip(changes, versions, strict=True)}
    finally:
        for store in stores:
            await store.close()


# --- a replica's folder ------------------------------------------------------------------------

async def test_an_empty_folder_gets_every_article_in_the_seed_format(
        store: Store, folder: Path) -> None:
    await store.articles.record([added(), added("second.md", seed_text("Second", f"{URL}/2"))])
    await store.articles.record([removal("second.md", None, await store.articles.find(
        name="second.md"), by="cli")])
    synced = await SeedMirror(folder).sync(store.articles)
    assert (synced.version, synced.written, synced.deleted) == (2, [NAME], [])
    assert (folder / NAME).read_bytes() == seed_text().encode()  # the very bytes recorded
    assert files(folder) == [NAME]  # no temporary file left
    index = build_index(folder)
    assert "the city's mayor" in index.answer("who is Anna Kowalczyk").text


async def test_updates_and_removals_reach_the_folder_and_hand_files_stay(
        store: Store, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    mirror = SeedMirror(folder)
    (folder / "hand-placed.md").write_text(seed_text("By hand", "https://hand.example/a"))
    (folder / "clash.md").write_text(seed_text("Mine", "https://hand.example/b"))
    await store.articles.record([added(), added("clash.md", seed_text("Theirs", f"{URL}/c"))])
    synced = await mirror.sync(store.articles)
    assert synced.written == [NAME] and synced.kept == ["clash.md"]
    assert "Mine" in (folder / "clash.md").read_text()  # a different article: kept, logged
    [warning] = [r for r in caplog.records if "clash.md" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    newer = added(text=seed_text(extra=" Work starts in May."))
    await store.articles.record([newer])
    assert (await mirror.sync(store.articles)).written == [NAME]
    assert "Work starts in May." in (folder / NAME).read_text()
    await store.articles.record([removal(NAME, None, await store.articles.find(name=NAME),
                                         by="cli")])
    assert (await mirror.sync(store.articles)).deleted == [NAME]
    assert files(folder) == ["clash.md", "hand-placed.md"]
    assert len([r for r in caplog.records if "clash.md" in r.getMessage()]) == 1  # once


async def test_a_tombstone_deletes_only_the_same_file(store: Store, folder: Path) -> None:
    """A hand file named like a removed article is deleted when it is that article (its URL,
    or the same text without a URL) and kept when it is another one."""
    plain = b"A hand-written note about the harbour bridge, without front matter.\n" * 3
    (folder / "note.txt").write_bytes(plain)
    (folder / NAME).write_text(seed_text("Another article", "https://hand.example/x"))
    await store.articles.record([removal("note.txt", plain, None, by="cli"),
                                 removal(NAME, seed_text().encode(), None, by="cli")])
    synced = await SeedMirror(folder).sync(store.articles)
    assert synced.deleted == ["note.txt"] and (folder / NAME).exists()


async def test_names_from_the_store_are_never_paths(store: Store, folder: Path) -> None:
    for bad in ("../escape.md", "sub/dir.md", ".hidden.md", "notes.yaml", "a\\b.md", ""):
        assert not safe_name(bad), bad
    assert safe_name("Bridge – 2025.md") and safe_name("x.txt")
    await store.articles.record([added("../escape.md"), added("ok.md")])
    synced = await SeedMirror(folder).sync(store.articles)
    assert synced.written == ["ok.md"]
    assert not (folder.parent / "escape.md").exists()


async def test_a_file_written_here_and_not_yet_recorded_is_not_undone(
        store: Store, folder: Path) -> None:
    """After the first sync only store changes are applied: an /add under way (its file
    written, its record to come) survives a sync that runs meanwhile."""
    mirror = SeedMirror(folder)
    await store.articles.record([added()])
    await mirror.sync(store.articles)
    (folder / NAME).write_text(seed_text(extra=" Updated here."))  # the /add under way
    (folder / "second.md").unlink(missing_ok=True)
    await store.bump_index_version()  # another replica's plain reload
    assert (await mirror.sync(store.articles)).written == []
    assert "Updated here." in (folder / NAME).read_text()
    changed = change_from_file(folder / NAME, by="slack:UADMIN")
    await store.articles.record([changed])
    mirror.recorded([changed])
    assert (await mirror.sync(store.articles)).written == []
    # A fresh process (a restart) takes the store's version of every article.
    (folder / NAME).write_text(seed_text(extra=" Edited by hand."))
    assert (await SeedMirror(folder).sync(store.articles)).written == [NAME]
    assert (folder / NAME).read_text() == changed.text


async def test_a_folder_that_cannot_be_written_says_so(store: Store, folder: Path) -> None:
    await store.articles.record([added()])
    unwritable = Path("/proc/self")  # a folder no one, root included, creates files in
    with pytest.raises(SeedSyncError) as failed:
        await SeedMirror(unwritable).sync(store.articles)
    assert NAME in failed.value.message and str(unwritable) in failed.value.message
    (folder / "second.md").mkdir()  # a folder in the way of one article: the others go on
    await store.articles.record([added("second.md", seed_text("Second", f"{URL}/2"))])
    synced = await SeedMirror(folder).sync(store.articles)
    assert synced.written == [NAME] and synced.kept == ["second.md"]
