"""Platform-neutral command handlers: typed request in, typed result out."""

from __future__ import annotations

from functools import lru_cache

from bot.context import AppContext
from bot.engine.markup import clean_question
from bot.engine.protocol import AnswerEngine
from bot.errors import UserFacingError
from bot.models import Answer, Notice, Result
from handlers.requests import CommandRequest
from handlers.usage import MAX_QUESTION_CHARS, examples, usage_notice, who_examples


@lru_cache(maxsize=4096)
def _cleaned(text: str) -> str:
    """clean_question is pure, and the same questions come back: cleaned once each (its
    regex passes cost about 10 µs a question, more than the memoized answer)."""
    return clean_question(text)


def checked_question(text: str, ctx: AppContext, what: str = "question") -> str:
    question = _cleaned(text) if len(text) <= 2 * MAX_QUESTION_CHARS else clean_question(text)
    if len(question) > MAX_QUESTION_CHARS:
        example = examples(known_people(ctx))[0]  # a person of these articles, if any
        raise UserFacingError(
            f"That {what} is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.",
            hint=f"Ask about one thing at a time, e.g. `{example}`.",
        )
    return question


def known_people(ctx: AppContext) -> list[str]:
    """The people the articles name, for usage examples; none while the index loads (help
    needs no index)."""
    return ctx.index.current.people_names() if ctx.index.loaded else []


async def ask(req: CommandRequest, ctx: AppContext) -> Result:
    """Answer a free-form question from the seeds, or show usage for an empty one."""
    question = checked_question(req.text, ctx)
    if not question or question.lower() in {"help", "?", "-h", "--help"}:
        return usage_notice(known_people(ctx))
    engine: AnswerEngine = ctx.index.current
    answer: Answer = engine.answer(question)
    answer.index_version = ctx.index.version
    return answer


async def who(req: CommandRequest, ctx: AppContext) -> Result:
    """A person's card: `/who Tertitskiy` is `/ask who is Tertitskiy`."""
    name = checked_question(req.text, ctx, "name")
    if not name or name.lower() == "help":
        people = ctx.index.current.people_names()
        shown = " or ".join(f"`{example}`" for example in who_examples(people))
        return Notice(
            title="Usage: /who <name>",
            text=f"Give a name from the articles, e.g. {shown}." if shown
            else "Give a name from the articles.",
            lines=[f"People in the articles: {', '.join(people[:10])}"],
        )
    engine: AnswerEngine = ctx.index.current
    answer = engine.who(name)
    answer.index_version = ctx.index.version
    return answer


async def help_(req: CommandRequest, ctx: AppContext) -> Result:
    return usage_notice(known_people(ctx))
