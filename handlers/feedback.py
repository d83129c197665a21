"""What curators need next: 👍/👎 votes on answers, the questions asked, and `/gaps`.

Questions are stored exactly as typed and never with who asked; a vote keeps only a hash of
the voter (one vote per user per answer needs *some* key), so the gaps report has no names.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.context import AppContext
from bot.errors import UserFacingError
from bot.models import Answer, Notice, Result
from bot.store.records import AskedQuestion
from handlers.reload import require_admin
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.feedback")

RETENTION_DAYS = 90
GAPS_SHOWN = 20
VOTES = {"up": 1, "down": -1, "👍": 1, "👎": -1}

Handler = Any  # handlers.registry.Handler (not imported: the registry imports us)


def _store(ctx: AppContext, what: str) -> Any:
    if ctx.store is None:
        raise UserFacingError(f"{what} needs the store, and this process has none.",
                              hint="Run `briefbot serve`, or `briefbot gaps` for the report.")
    return ctx.store


def voter_key(platform: str, user_id: str) -> str:
    """A stable key per user that is not the user id itself."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:32]


async def vote(req: CommandRequest, ctx: AppContext) -> Result:
    """👍/👎 on an answer: one vote per user per answer, a second click replaces the first."""
    value = VOTES.get(req.text.strip().lower())
    answer_id = req.options.get("answer_id", "").strip()
    if value is None or not answer_id:
        raise UserFacingError("That vote button is not one of briefbot's.",
                              hint="Vote with the 👍 / 👎 buttons under an answer.")
    store = _store(ctx, "Voting")
    question = req.options.get("question", "").strip()
    intent = req.options.get("intent", "").strip()
    citations = req.options.get("citations") or None
    if not question:  # the button carried only the id
        await flush_questions(ctx)
        known = await store.question_for(answer_id)
        if known is not None:
            question, intent, citations = known
    await store.record_vote(answer_id, req.platform, voter_key(req.platform, req.user_id),
                            value, question, intent or "unknown", citations)
    return Notice(text=f"Thanks — recorded {'👍' if value > 0 else '👎'}",
                  data={"answer_id": answer_id, "vote": value})


def gap_lines(groups: Sequence[Any]) -> list[str]:
    """One line per group: count, the question as typed (normalized), why, when last seen."""
    lines = []
    for g in groups:
        why = " and ".join("abstained" if r == "abstained" else "👎" for r in g.reasons)
        lines.append(f"{g.count}× “{g.question}” — {why}, last {g.last_seen:%Y-%m-%d %H:%M} UTC")
    return lines


def gaps_notice(groups: Sequence[Any]) -> Notice:
    if not groups:
        return Notice(title="Gaps", text="No gaps: nothing abstained on or voted 👎 in the "
                                         f"last {RETENTION_DAYS} days.")
    return Notice(title="Gaps", text="Questions the articles could not answer well, newest "
                                     "first. Add articles or curation entries for them, then "
                                     "/reload.", lines=gap_lines(groups))


async def gaps(req: CommandRequest, ctx: AppContext) -> Result:
    """Admins: abstained and 👎 questions, grouped and counted, newest first, no names."""
    require_admin(req, ctx, "see the gaps")
    store = _store(ctx, "/gaps")
    await flush_questions(ctx)
    return gaps_notice(await store.gaps(limit=GAPS_SHOWN))


def recorded(handler: Handler) -> Handler:
    """Wrap ask/who so each Answer's question is kept for /gaps (queued, not awaited)."""

    async def run(req: CommandRequest, ctx: AppContext) -> Result:
        result = await handler(req, ctx)
        if isinstance(result, Answer):
            record_question(ctx, req.platform, result)
        return result

    run.__name__ = getattr(handler, "__name__", "handler")
    run.__doc__ = handler.__doc__
    return run


_CITATIONS_JSON: dict[int, tuple[list[Any], str]] = {}
_CITATIONS_KEPT = 4096


def citations_json(citations: list[Any]) -> str:
    """The (document, paragraph)s of an answer's citations as JSON, for the store.

    The copies the engine hands out of one memoized answer share its citations list, so the
    JSON (about 7 µs to build) is kept per list; the entry holds the list, so its id cannot
    be reused while the entry lives.
    """
    kept = _CITATIONS_JSON.get(id(citations))
    if kept is not None and kept[0] is citations:
        return kept[1]
    text = json.dumps([{"document": c.document, "paragraph": c.paragraph} for c in citations])
    if len(_CITATIONS_JSON) >= _CITATIONS_KEPT:
        _CITATIONS_JSON.clear()
    _CITATIONS_JSON[id(citations)] = (citations, text)
    return text


def record_question(ctx: AppContext, platform: str, answer: Answer) -> None:
    """Queue an answer's question (as typed, never who asked) for the store."""
    questions = ctx.question_log
    if questions is None:
        return
    citations = citations_json(answer.citations)
    questions.add(AskedQuestion(platform, answer.question, answer.intent, answer.abstained,
                                answer.answer_id, citations, ctx.store.clock()))


async def flush_questions(ctx: AppContext) -> None:
    """Store the questions still queued, before reading questions back."""
    questions = ctx.question_log
    if questions is not None:
        await questions.flush()
