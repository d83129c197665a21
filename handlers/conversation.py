"""Chat messages to the bot (a mention, a DM, a reply in a thread), platform-neutral.

An adapter turns a platform event into a `MessageRequest` and calls `converse`; it gets back
the result to post, or None when the message was already answered (an Events API retry, a
redelivery, another replica): `handlers.registry.converse` claims the message once, then runs
it through the same dispatch, error path, metrics and /gaps record as `/ask`. The handler
here reads the conversation's context (`ctx.conversations`: in the store, shared by
replicas, expiring after a day), reads the message as a follow-up (`handlers.followup`),
answers it and keeps the new context.
"""

from __future__ import annotations

from pydantic import Field

from bot.context import AppContext
from bot.engine.protocol import AnswerEngine
from bot.models import Answer, Notice, Result
from handlers.commands import checked_question, known_people
from handlers.followup import Context, remember, resolve
from handlers.requests import CommandRequest
from handlers.usage import examples, usage_notice


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


def _sentence_ids(answer: Answer) -> list[str]:
    return [sid for citation in answer.citations for sid in citation.sentence_ids]


async def message(req: CommandRequest, ctx: AppContext) -> Result:
    """Answer a chat message, read in the context of its conversation."""
    if not isinstance(req, MessageRequest):
        raise TypeError("message needs a MessageRequest")
    text = checked_question(req.text, ctx, "message")
    conversations = ctx.conversations
    previous = await conversations.get(req.conversation)
    if not text or text.lower() in {"help", "?", "-h", "--help", "hi", "hello", "hey"}:
        await _carry(req, ctx, previous)
        return _chat_usage(known_people(ctx))
    engine: AnswerEngine = ctx.index.current
    followup = resolve(text, previous, engine.people_names())
    if followup.kind == "unclear":
        await _carry(req, ctx, previous)
        example = (engine.people_names() or ["…"])[0]
        return Notice(text=f"Who do you mean? Name the person first, e.g. `who is {example}`; "
                           "then `what did he say?` follows up on them.")
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


async def _carry(req: MessageRequest, ctx: AppContext, previous: Context | None) -> None:
    """Nothing was asked (help, or a "he" with nobody named): a reply to this message
    still continues from where the conversation was."""
    if previous is not None and req.remember_as not in (None, req.conversation):
        await ctx.conversations.put(req.remember_as, previous)


async def keep_for_replies(req: MessageRequest, ctx: AppContext, keys: list[str]) -> None:
    """The bot's reply to `req` was posted as the messages whose conversation keys are
    `keys`: a message continuing from any of them (Discord: a reply to the bot's answer)
    continues where `req` left the conversation. The platform need not tell which message
    the bot's answer itself replied to."""
    if keys:
        await ctx.conversations.copy(req.remember_as or req.conversation, keys)


def _chat_usage(people: list[str]) -> Notice:
    shown = ", ".join(f"`{q}`" for q in examples(people)[:3])
    return usage_notice(people).model_copy(update={
        "title": "Ask me about the articles",
        "text": f"Mention me with a question, e.g. {shown}. In a thread, follow up with "
                "`what did he say?`, `why?` or `tell me more`.",
    })
