"""`share`: post a private answer to the channel, once.

The button carries the question, not the answer, so any replica can recompute it from the
same index; the store's claim makes a second click (or a second replica) post nothing.
"""

from __future__ import annotations

from bot.context import AppContext
from bot.models import Answer, Notice, Result
from handlers.commands import ask, who
from handlers.requests import CommandRequest


async def share(req: CommandRequest, ctx: AppContext) -> Result:
    """options: answer_id, source_command (ask|who); text: the question or name."""
    answer_id = req.options.get("answer_id", "")
    if not await ctx.claims.once(f"share:{req.platform}:{req.channel_id}:{answer_id}"):
        return Notice(text="That answer is already shared in this channel.")
    source = req.options.get("source_command", "ask")
    handler = who if source == "who" else ask
    result = await handler(req.model_copy(update={"command": source}), ctx)
    if isinstance(result, Answer):
        result.answer_id = answer_id or result.answer_id
        result.shared_by = req.user_name or req.user_id
    return result
