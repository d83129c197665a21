"""Reload: admins only, bad input changes nothing, questions in flight never fail."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.context import AppContext
from bot.models import Answer, Notice, UserError
from handlers import CommandRequest, dispatch

ROOT = Path(__file__).resolve().parent.parent
NEW_ARTICLE = (
    "From: Ana Example\n\nJane Roe, a historian at Example University, said the treaty was "
    "signed in Geneva in March.\n"
)


def req(user: str = "UADMIN", **kw) -> CommandRequest:
    return CommandRequest(command="reload", platform="slack", user_id=user, **kw)


async def test_admin_reload_adds_article_and_reports(live: AppContext, seeds: Path) -> None:
    before = await dispatch(CommandRequest(command="ask", text="who is Jane Roe"), live)
    assert isinstance(before, Answer) and before.abstained
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    result = await dispatch(req(), live)
    assert isinstance(result, Notice)
    assert result.data["added"] == ["treaty"] and "Jane Roe" in result.data["people_added"]
    after = await dispatch(CommandRequest(command="ask", text="who is Jane Roe"), live)
    assert "historian at Example University" in after.text
    assert live.index.version == 2


async def test_non_admin_is_refused_and_nothing_changes(live: AppContext, seeds: Path,
                                                       caplog) -> None:
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    result = await dispatch(req(user="UOTHER"), live)
    assert isinstance(result, UserError) and "Only admins can reload" in result.message
    assert live.index.version == 1
    assert any("non-admin" in r.message and getattr(r, "user", None) == "UOTHER"
               for r in caplog.records)
    platform_admin = await dispatch(req(user="UOTHER", platform_admin=True), live)
    assert isinstance(platform_admin, Notice)


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [("empty.txt", b"", "empty"), ("photo.txt", b"\x89PNG\x00\x00", "binary"),
     # a NUL far past the first 8 KiB is still binary (valid UTF-8, so only this check stops it)
     ("late.txt", b"The minister said the talks went well. " * 400 + b"\x00\x01", "binary"),
     ("old.txt", "na\xefve".encode("latin-1"), "UTF-8"),
     ("curation.yaml", b"hide: [unclosed\n", "YAML")],
)
async def test_bad_input_changes_nothing(live: AppContext, seeds: Path, name: str,
                                         content: bytes, why: str) -> None:
    old = live.index.current
    (seeds / name).write_bytes(content)
    result = await dispatch(req(), live)
    assert isinstance(result, UserError)
    assert name in result.message and why in result.message and "nothing changed" in result.message
    assert live.index.current is old and live.index.version == 1


async def test_missing_folder_changes_nothing(live: AppContext, seeds: Path) -> None:
    shutil.rmtree(seeds)
    result = await dispatch(req(), live)
    assert isinstance(result, UserError) and "does not exist" in result.message
    assert live.index.loaded


async def test_questions_in_flight_never_fail_during_reloads(live: AppContext,
                                                            seeds: Path) -> None:
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    async def ask(i: int):
        await asyncio.sleep(0)
        q = ["who is Tertitskiy", "why might the deal fail", "where is the meeting planned"][i % 3]
        return await dispatch(CommandRequest(command="ask", text=q), live)

    tasks = [asyncio.create_task(ask(i)) for i in range(500)]
    reloads = [asyncio.create_task(dispatch(req(), live)) for _ in range(2)]
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    reports = await asyncio.wait_for(asyncio.gather(*reloads), timeout=60)
    assert all(isinstance(r, Answer) and not r.abstained for r in results)
    assert [type(r) for r in reports] == [Notice, Notice]
    assert live.index.version == 3  # two reloads ran one after the other


async def test_a_version_the_store_cannot_record_is_not_served(
        live: AppContext, seeds: Path, store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas follow the store's version: a reload the store did not record must not go
    live here either, or this replica would serve an index the others never learn of."""
    live.store = store
    old = live.index.current
    (seeds / "treaty.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    async def store_down(note: str | None = None) -> int:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(store, "bump_index_version", store_down)
    result = await dispatch(req(), live)
    assert isinstance(result, UserError) and "nothing changed" in result.message
    assert "could not record" in result.message
    assert live.index.current is old and live.index.version == 1
    assert await store.get_index_version() == 0
    asked = await dispatch(CommandRequest(command="ask", text="who is Jane Roe"), live)
    assert isinstance(asked, Answer) and asked.abstained  # still the old index

    monkeypatch.undo()  # the store is back: the same reload goes through, in step with it
    result = await dispatch(req(), live)
    assert isinstance(result, Notice) and result.data["added"] == ["treaty"]
    assert live.index.version == await store.get_index_version() == result.data["version"] == 1
