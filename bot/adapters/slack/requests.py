"""Pure translators: a Slack payload as the platform-neutral request a handler takes.

Slash commands and button clicks become `CommandRequest`s; a mention or a direct message
(Events API) becomes a `MessageRequest`, or None when the bot must not answer it (a bot, an
edit, a deletion, its own message). Nothing here does I/O.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.adapters.slack.render import VOTE_UP_ACTION
from bot.models import Notice, Result
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.slack")

COMMANDS = ("ask", "who", "brief", "reload", "gaps", "add")
SLOW_COMMANDS = frozenset({"reload", "gaps", "add"})
"""Commands that ack at once and answer through response_url."""
ADMIN_COMMANDS = frozenset({"reload", "gaps", "add"})
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


