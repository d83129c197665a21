"""The dispatch path: typed request in, typed result out, one error path."""

from __future__ import annotations

from pathlib import Path

from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.models import Answer, Notice, UserError
from bot.settings import Settings
from handlers import CommandRequest, dispatch
from handlers.errors import APOLOGY
from handlers.registry import HANDLERS

ROOT = Path(__file__).resolve().parent.parent


async def test_ask_returns_answer_with_citations(ctx):
    result = await dispatch(CommandRequest(command="ask", text="where is the meeting planned"), ctx)
    assert isinstance(result, Answer)
    assert result.citations and all(c.paragraph >= 1 for c in result.citations)


async def test_empty_question_gets_usage(ctx):
    for text in ["", "   \n\t "]:
        result = await dispatch(CommandRequest(command="ask", text=text), ctx)
        assert isinstance(result, Notice)
        assert "/ask" in "\n".join(result.lines)


async def test_oversized_question_is_a_user_error(ctx):
    result = await dispatch(CommandRequest(command="ask", text="why " * 200), ctx)
    assert isinstance(result, UserError)
    assert "500" in result.message


async def test_unknown_command_is_a_user_error(ctx):
    result = await dispatch(CommandRequest(command="nope"), ctx)
    assert isinstance(result, UserError) and "nope" in result.message


async def test_unexpected_exception_becomes_apology(ctx, caplog):
    async def broken(req, ctx):
        raise RuntimeError("boom")

    HANDLERS["broken"] = broken
    try:
        result = await dispatch(CommandRequest(command="broken", request_id="r1"), ctx)
    finally:
        del HANDLERS["broken"]
    assert isinstance(result, UserError) and result.message == APOLOGY
    assert any("command failed" in r.message for r in caplog.records)


async def test_share_posts_once(ctx):
    req = CommandRequest(command="share", text="where is the meeting planned", channel_id="C1",
                         options={"answer_id": "a1", "source_command": "ask"}, user_name="ana")
    first = await dispatch(req, ctx)
    second = await dispatch(req, ctx)
    assert isinstance(first, Answer) and first.shared_by == "ana"
    assert isinstance(second, Notice)


SEED_PEOPLE = ("Tertitskiy", "Frank", "Putin", "Kim Jong")


def _context_on(folder: Path, settings: Settings) -> AppContext:
    return AppContext(settings=settings, index=IndexHolder(build_index(folder), version=1))


async def test_help_texts_name_the_people_of_the_articles_served(settings: Settings) -> None:
    """Usage of /who, the over-long hint and help come from the engine's people: with
    another article, its people, never the shipped seed's."""
    ctx = _context_on(ROOT / "tests" / "fixtures" / "news" / "disney-plus-launch", settings)
    people = ctx.index.current.people_names()
    assert people
    who_usage = await dispatch(CommandRequest(command="who", text=""), ctx)
    too_long = await dispatch(CommandRequest(command="ask", text="why " * 200), ctx)
    name_too_long = await dispatch(CommandRequest(command="who", text="x" * 600), ctx)
    helped = await dispatch(CommandRequest(command="help"), ctx)
    assert isinstance(who_usage, Notice) and isinstance(helped, Notice)
    assert isinstance(too_long, UserError) and isinstance(name_too_long, UserError)
    assert f"`/who {people[0].split()[-1]}`" in who_usage.text
    assert f"`who is {people[0]}`" in (too_long.hint or "")
    texts = [who_usage.text, *who_usage.lines, too_long.hint, name_too_long.hint,
             helped.text, *helped.lines]
    assert not [t for t in texts if any(name in (t or "") for name in SEED_PEOPLE)], texts


async def test_help_texts_without_people_use_general_wording(
        settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "rain.txt").write_text(
        "Rain returns to the valley\n\nThe weather was mild on the morning of the fair. Rain "
        "came in the afternoon and the stalls closed early. Farmers said the harvest would be "
        "late this year because the spring had been cold.\n\nThe council will meet again next "
        "week to plan the autumn market.\n", encoding="utf-8")
    ctx = _context_on(folder, settings)
    assert ctx.index.current.people_names() == []
    who_usage = await dispatch(CommandRequest(command="who", text=""), ctx)
    too_long = await dispatch(CommandRequest(command="ask", text="why " * 200), ctx)
    assert isinstance(who_usage, Notice) and who_usage.text == "Give a name from the articles."
    assert isinstance(too_long, UserError)
    assert too_long.hint == "Ask about one thing at a time, e.g. `summarize the articles`."
