"""Pure translators: a Slack payload as the platform-neutral request a handler takes.

Slash commands and button clicks become `CommandRequest`s; a mention or a direct message
(Events API) becomes a `MessageRequest`, or None when the bot must not answer it (a bot, an
edit, a deletion, its own message). Nothing here does I/O.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.render import VOTE_UP_ACTION
from bot.models import Notice, Result
from handlers.conversation import MessageRequest
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.slack")

COMMANDS = ("ask", "who", "brief", "reload", "gaps", "add", "remove")
SLOW_COMMANDS = frozenset({"reload", "gaps", "add", "remove"})
"""Commands that ack at once and answer through response_url."""
ADMIN_COMMANDS = frozenset({"reload", "gaps", "add", "remove"})
ADMIN_BRIEF_ACTIONS = frozenset({"subscribe", "unsubscribe"})


# --- translators: Slack payload → CommandRequest (pure) -------------------------------------

def needs_admin_flag(command: str, text: str) -> bool:
    """Commands whose handler checks the Slack admin flag (costs a users.info call)."""
    words = text.split()
    return command in ADMIN_COMMANDS or (
        command == "brief" and bool(words) and words[0].lower() in ADMIN_BRIEF_ACTIONS
    )


def is_slow(command: str, text: str) -> bool:
    """Slow work acks first: anything in SLOW_COMMANDS or needing a users.info call."""
    return command in SLOW_COMMANDS or needs_admin_flag(command, text)


def command_request(body: dict[str, Any], *, platform_admin: bool = False) -> CommandRequest:
    """A slash command payload (form fields) as a CommandRequest."""
    return CommandRequest(
        command=str(body.get("command", "")).lstrip("/"),
        text=body.get("text") or "",
        platform="slack",
        user_id=body.get("user_id") or "unknown",
        user_name=body.get("user_name"),
        channel_id=body.get("channel_id"),
        workspace_id=body.get("team_id"),
        platform_admin=platform_admin,
        can_manage_channel=platform_admin,
    )


def _action_base(body: dict[str, Any]) -> dict[str, Any]:
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id")
    return {
        "platform": "slack",
        "user_id": user.get("id") or "unknown",
        "user_name": user.get("username") or user.get("name"),
        "channel_id": channel,
        "workspace_id": (body.get("team") or {}).get("id") or user.get("team_id"),
    }


class MalformedButton(ValueError):
    """A button value that is not what render.py put there (forged, or from elsewhere)."""


def button_data(action: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a button of ours carries; MalformedButton for anything else."""
    try:
        data = json.loads(action.get("value") or "")
    except (ValueError, TypeError):
        raise MalformedButton("value is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedButton("value is not a JSON object")
    return data


def _citations(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise MalformedButton("cites is not a list")
    try:
        return [{"document": str(d), "paragraph": int(p)} for d, p in raw]
    except (TypeError, ValueError):
        raise MalformedButton("a citation is not [document, paragraph number]") from None


def malformed(action: dict[str, Any], exc: MalformedButton) -> None:
    log.warning("slack: ignoring a click on a malformed button: %s", exc,
                extra={"action_id": str(action.get("action_id"))[:40]})


def share_request(body: dict[str, Any], action: dict[str, Any]) -> CommandRequest:
    """Share button click → `share` with the question and the answer's id."""
    data = button_data(action)
    return CommandRequest(
        command="share",
        text=str(data.get("q", "")),
        options={"answer_id": str(data.get("id", "")),
                 "source_command": str(data.get("c", "ask"))},
        **_action_base(body),
    )


def vote_request(body: dict[str, Any], action: dict[str, Any]) -> CommandRequest:
    """👍/👎 click → `vote` up|down with the answer's id, question, intent and citations."""
    data = button_data(action)
    cites = _citations(data.get("cites") or [])
    return CommandRequest(
        command="vote",
        text="up" if action.get("action_id") == VOTE_UP_ACTION else "down",
        options={"answer_id": str(data.get("id", "")), "question": str(data.get("q", "")),
                 "intent": str(data.get("i", "")), "citations": json.dumps(cites)},
        **_action_base(body),
    )


def response_type(result: Result) -> str:
    """Private to the asker, unless the handler says everyone should see it."""
    return "in_channel" if isinstance(result, Notice) and result.public else "ephemeral"




# --- Events API: a mention or a direct message → MessageRequest -----------------------------

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|[a-z]+)(?:\|([^>]*))?>")


def plain_text(text: str, bot_user_id: str | None) -> str:
    """A message's mrkdwn as the words typed: the bot's own mention removed, other mentions,
    channels and links as their labels, Slack's `&amp;`/`&lt;`/`&gt;` undone."""
    def mention(match: re.Match[str]) -> str:
        return "" if match[1] == bot_user_id else "@" + match[1]

    text = _MENTION.sub(mention, text)
    text = _CHANNEL.sub(lambda m: "#" + m[1], text)
    text = _LINK.sub(lambda m: m[2] or m[1], text)
    text = _SPECIAL.sub(lambda m: m[1] or "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


@dataclass(frozen=True)
class Incoming:
    """A message to answer: the request, and where the reply goes."""

    request: MessageRequest
    channel: str
    thread_ts: str | None
    """The thread to reply in; None: straight into the DM."""


def skip_reason(event: dict[str, Any], *, bot_user_id: str | None) -> str | None:
    """Why the bot must not answer this event (None: answer it).

    Never a bot (itself included), an edit, a deletion or any other subtype; a message event
    only in a DM (mentions in channels come as app_mention); an app_mention in a DM is the
    same message as its message.im event, answered once through that.
    """
    kind = event.get("type")
    channel = event.get("channel")
    if kind not in ("app_mention", "message"):
        return "not a message"
    if event.get("subtype"):
        return f"subtype {str(event['subtype'])[:40]}"
    if event.get("bot_id") or event.get("bot_profile"):
        return "from a bot"
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return "no user"
    if user == bot_user_id:
        return "the bot's own message"
    if not isinstance(channel, str) or not channel or not isinstance(event.get("ts"), str):
        return "no channel or ts"
    if kind == "message" and event.get("channel_type") != "im":
        return "a message outside a DM without a mention"
    if kind == "app_mention" and (event.get("channel_type") == "im" or channel.startswith("D")):
        return "a mention in a DM (answered as the DM's message)"
    return None


def incoming(body: dict[str, Any], *, bot_user_id: str | None) -> Incoming | None:
    """An Events API `event_callback` body as the message to answer, or None to stay quiet.

    Keys: a channel thread is `slack:<team>:<channel>:<thread_ts or ts>` (a mention starts
    the thread its answer goes into; a later mention in it continues that conversation); a
    DM is one conversation, `slack:<team>:dm:<channel>`. The message key is the event id,
    else `slack:<channel>:<ts>`, so a redelivered event is answered once.
    """
    event = body.get("event")
    if not isinstance(event, dict):
        return None
    why = skip_reason(event, bot_user_id=bot_user_id)
    if why is not None:
        log.debug("slack: not answering an event: %s", why)
        return None
    channel, ts = str(event["channel"]), str(event["ts"])
    team = str(body.get("team_id") or event.get("team") or "-")
    thread = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    if event["type"] == "message":  # a DM
        conversation, reply_in = f"slack:{team}:dm:{channel}", thread
    else:
        conversation = f"slack:{team}:{channel}:{thread or ts}"
        reply_in = thread or ts
    event_id = body.get("event_id")
    key = str(event_id) if isinstance(event_id, str) and event_id else f"slack:{channel}:{ts}"
    request = MessageRequest(
        text=plain_text(str(event.get("text") or ""), bot_user_id),
        platform="slack",
        user_id=str(event["user"]),
        channel_id=channel,
        workspace_id=team,
        conversation=conversation,
        remember_as=conversation,
        message_key=key,
    )
    return Incoming(request=request, channel=channel, thread_ts=reply_in)
