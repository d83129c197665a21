"""`AnswerEngine.articles()`: what the engine answers from, newest first (the App Home)."""

from __future__ import annotations

from pathlib import Path

from bot.engine.index import build_index

BODY = "The harbour board met on Monday. It approved a new pier for the ferries.\n"


def seed(folder: Path, name: str, title: str, date: str | None) -> None:
    front = f"---\ntitle: {title}\n" + (f"date: {date}\n" if date else "") + "---\n\n"
    (folder / name).write_text(front + BODY, encoding="utf-8")


def test_articles_newest_first_undated_last(tmp_path: Path) -> None:
    seed(tmp_path, "a.md", "Older news", "2026-01-02")
    seed(tmp_path, "b.md", "Newer news", "2026-03-04")
    seed(tmp_path, "c.md", "Undated news", None)
    listed = build_index(tmp_path).articles()
    assert [a.title for a in listed] == ["Newer news", "Older news", "Undated news"]
    assert listed[0].date is not None and listed[0].date.startswith("2026-03-04")
    assert len({a.doc_id for a in listed}) == 3
