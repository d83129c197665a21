"""Conversations on Discord: a message that mentions the bot in a channel is answered as a
reply to it, a DM in the DM, and a reply to one of the bot's answers is a follow-up.

No privileged intent is needed: Discord sends a bot the text of the messages that mention it
and of its DMs, and withholds the rest (those arrive empty and are ignored). The answer is
rendered like /ask's, with the vote buttons, and pings no one. `converse` claims each
message in the store first, so with several replicas exactly one replies. Once the answer is
posted, the conversation is kept under each of its messages too: a reply to the bot's answer
finds it by the id it replies to, on any replica, without Discord having to say which
question that answer replied to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import aiohttp
import discord

from bot.adapters.discord.render import NO_MENTIONS, render_messages
from bot.adapters.discord.requests import is_dm, message_key, message_request
from bot.models import Answer, Result, UserError
from handlers.conversation import MessageRequest, keep_for_replies
from handlers.errors import APOLOGY
from handlers.registry import converse

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger("briefbot.discord")

CANNOT_REPLY_WITHOUT_HISTORY = 160002
"""Discord's error code for a reply where the bot may not Read Message History."""


class Answering(Protocol):
    """What the adapter lends the message replies: the app, and the answers' buttons."""

    ctx: AppContext

    def answer_view(self, answer: Answer, *, shareable: bool) -> discord.ui.View: ...

    def remember(self, answer: Answer, source: str, text: str) -> None: ...


async def on_message(adapter: Answering, bot_id: int, message: discord.Message) -> None:
    """Answer `message` if it is addressed to the bot. Never raises: a failure is logged and,
    when it was ours rather than Discord's, the user gets a short apology."""
    # Whether to answer is decided before the first await, so a message that is not for us
    # is done with by the time the next event is handled.
    req = message_request(message, bot_id)
    if req is None:
        return
    where = {"platform": "discord", "discord_message": message.id, "channel": req.channel_id,
             "user": req.user_id, "request_id": req.request_id}
    try:
        await _answer(adapter, message, req, where)
    except Exception:  # rendering or sending broke: nothing more can reach this user
        log.exception("discord message could not be answered", extra=where)


async def _answer(adapter: Answering, message: discord.Message, req: MessageRequest,
                  where: dict[str, object]) -> None:
    result: Result | None
    try:
        result = await converse(req, adapter.ctx)
    except Exception:
        log.exception("discord message failed", extra=where)
        result = UserError(message=APOLOGY)
    if result is None:
        log.debug("discord message %s is answered by another replica", message.id)
        return
    view = None
    if isinstance(result, Answer):
        adapter.remember(result, "ask", req.text)
        view = adapter.answer_view(result, shareable=False)  # the reply is public already
    posted = await _send(message, result, view, where)
    if posted and not is_dm(message):  # a DM is one conversation already
        keys = [message_key(p.id) for p in posted]
        try:
            await keep_for_replies(req, adapter.ctx, keys)
        except Exception:  # the answer is out; only a reply to it would start afresh
            log.warning("could not keep the conversation for replies to the answer",
                        exc_info=True, extra=where)
        else:
            log.debug("discord answer to %s kept for replies under %s", message.id,
                      ", ".join(keys))


async def _send(message: discord.Message, result: Result, view: discord.ui.View | None,
                where: dict[str, object]) -> list[discord.Message]:
    """Post `result` in the message's channel; in a server, every part replies to it.
    Returns the parts Discord accepted; Discord refusing is logged, not raised."""
    reference = None if is_dm(message) else message.to_reference(fail_if_not_exists=False)
    parts = render_messages(result)
    posted: list[discord.Message] = []
    for i, embeds in enumerate(parts):
        kwargs = {"embeds": embeds, "allowed_mentions": NO_MENTIONS,
                  "view": view if i == len(parts) - 1 else None}
        try:
            try:
                posted.append(await message.channel.send(reference=reference, **kwargs))
            except discord.HTTPException as exc:
                if reference is None or exc.code != CANNOT_REPLY_WITHOUT_HISTORY:
                    raise
                log.warning("discord: no Read Message History in this channel, so the answer "
                            "is posted without replying to the question; give the bot's role "
                            "that permission", extra=where)
                reference = None
                posted.append(await message.channel.send(**kwargs))
        except discord.HTTPException as exc:
            log.warning("discord refused the reply to a message (%s: %s)", exc.status,
                        exc.text or "no detail", extra=where)
            break
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("could not reply to a discord message: %s", exc, extra=where)
            break
    return posted
