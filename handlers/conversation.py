"""Chat messages to the bot (a mention, a DM, a reply in a thread), platform-neutral.

An adapter turns a platform event into a `MessageRequest` and calls `converse`; it gets back
the result to post, or None when the message was already answered (an Events API retry, a
redelivery, another replica). Everything else is here: the once-per-message claim, the
conversation's context (kept in the store, shared by replicas, expiring after a day), the
follow-up reading (`handlers.followup`) and the answer itself. `handlers.registry.converse`
claims the message and runs it through the same dispatch, error path, metrics and /gaps
record as `/ask`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import Field, ValidationError

from bot.engine.protocol import AnswerEngine
from bot.models import Answer, Notice, Result
from handlers.commands import checked_question
from handlers.context import AppContext
from handlers.followup import Context, remember, resolve
from handlers.requests import CommandRequest
from handlers.usage import usage_notice

log = logging.getLogger("briefbot.conversation")

CONTEXT_TTL = timedelta(days=1)
MESSAGE_CLAIM = "message:"  # the store purges these claims after a day
MEMORY_KEPT = 2048  # conversations a store-less process (the CLI, tests) keeps in memory


class MessageRequest(CommandRequest):
    """A chat message addressed to the bot, with where its conversation lives.

    Keys are opaque strings the adapter builds (e.g. `slack:C123:1700000000.000100` for a
    thread); they only have to be the same for every message of one conversation.
    """

    command: str = "message"
    conversation: str = Field(description="Key of the conversation this message continues.")
    remember_as: str | None = Field(
        default=None, description="Key to keep the context under afterwards, when a reply "
        "continues elsewhere (Discord: the next reply points at this message); default "
        "`conversation`.")
    message_key: str = Field(description="Unique id of this message on its platform, so it "
                             "is answered once across retries, redeliveries and replicas.")


@dataclass
class _Memory:
    """The store-less fallback: conversations and claims of this process only."""

    contexts: dict[str, tuple[float, str]] = field(default_factory=dict)
    claimed: dict[str, float] = field(default_factory=dict)

    def trim(self) -> None:
        for table in (self.contexts, self.claimed):
            while len(table) > MEMORY_KEPT:
                table.pop(next(iter(table)))


class Conversations:
    """Context per conversation and the once-per-message claim, in the store when there is
    one (shared by replicas), else in this process's memory."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._memory = _Memory()

    async def claim(self, message_key: str) -> bool:
        key = MESSAGE_CLAIM + message_key
        store = self.ctx.store
        if store is not None:
            return await store.claim_once(key)
        if key in self._memory.claimed:
            return False
        self._memory.claimed[key] = time.monotonic()
        self._memory.trim()
        return True

    async def get(self, key: str) -> Context | None:
        raw: str | None
        store = self.ctx.store
        if store is not None:
            raw = await store.get_conversation(key)
        else:
            kept = self._memory.contexts.get(key)
            expired = kept is None or time.monotonic() - kept[0] > CONTEXT_TTL.total_seconds()
            raw = None if expired or kept is None else kept[1]
        if raw is None:
            return None
        try:
            return Context.model_validate_json(raw)
        except ValidationError:  # written by another version: start the conversation afresh
            log.warning("ignoring a conversation context that does not parse",
                        extra={"conversation": key[:80]})
            return None

    async def put(self, key: str, context: Context) -> None:
        raw = context.model_dump_json()
        store = self.ctx.store
        if store is not None:
            await store.put_conversation(key, raw, ttl=CONTEXT_TTL)
        else:
            self._memory.contexts.pop(key, None)
            self._memory.contexts[key] = (time.monotonic(), raw)
            self._memory.trim()


def conversations_of(ctx: AppContext) -> Conversations:
    return ctx.conversations


def _sentence_ids(answer: Answer) -> list[str]:
    return [sid for citation in answer.citations for sid in citation.sentence_ids]


async def message(req: CommandRequest, ctx: AppContext) -> Result:
    """Answer a chat message, read in the context of its conversation."""
    if not isinstance(req, MessageRequest):
        raise TypeError("message needs a MessageRequest")
    text = checked_question(req.text, "message")
    if not text or text.lower() in {"help", "?", "-h", "--help", "hi", "hello", "hey"}:
        return _chat_usage()
    conversations = conversations_of(ctx)
    previous = await conversations.get(req.conversation)
    followup = resolve(text, previous)
    engine: AnswerEngine = ctx.index.current
    if followup.kind == "more" and previous is not None:
        answer = engine.more(previous.question, previous.shown)
        command = previous.command
    else:
        answer = engine.answer(followup.question)
        command = "ask"
    answer.index_version = ctx.index.version
    if followup.rewritten:
        answer.question = followup.question  # show how the follow-up was understood
    if not answer.abstained or previous is None:
        context = remember(followup.question, command=command, title=answer.title,
                           sentence_ids=_sentence_ids(answer), people=engine.people_names(),
                           previous=previous, more=followup.kind == "more",
                           index_version=ctx.index.version)
    else:  # nothing new shown: keep the conversation where it was
        context = previous
    await conversations.put(req.remember_as or req.conversation, context)
    return answer


def _chat_usage() -> Notice:
    notice = usage_notice()
    return notice.model_copy(update={
        "title": "Ask me about the articles",
        "text": "Mention me with a question, e.g. `who is …`, `what happened`, "
                "`why might it fail`. In a thread, follow up with `what did he say?`, "
                "`why?` or `tell me more`.",
    })


def context_json(context: Context) -> str:
    """A context as stored (tests, debugging)."""
    return json.dumps(context.model_dump(), ensure_ascii=False)
