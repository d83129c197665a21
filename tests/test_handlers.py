"""The dispatch path: typed request in, typed result out, one error path."""

from __future__ import annotations

from bot.models import Answer, Notice, UserError
from handlers import CommandRequest, dispatch
from handlers.errors import APOLOGY
from handlers.registry import HANDLERS


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
