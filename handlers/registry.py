"""The table of commands and the one dispatch path every platform goes through."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.context import AppContext
from bot.context.intake import ShuttingDownError
from bot.errors import UserFacingError
from bot.models import Result, UserError
from bot.observability.logs import info_line
from bot.store.records import MESSAGE_CLAIM
from handlers.add import add
from handlers.briefing import brief
from handlers.commands import ask, help_, who
from handlers.conversation import MessageRequest, message
from handlers.errors import APOLOGY
from handlers.feedback import gaps, recorded, vote
from handlers.reload import reload
from handlers.remove import remove
from handlers.requests import CommandRequest
from handlers.share import share

log = logging.getLogger("briefbot.commands")

Handler = Callable[[CommandRequest, AppContext], Awaitable[Result]]

HANDLERS: dict[str, Handler] = {
    "ask": recorded(ask),  # questions are kept for /gaps
    "who": recorded(who),
    "help": help_,
    "share": share,
    "brief": brief,
    "reload": reload,
    "add": add,
    "remove": remove,
    "vote": vote,
    "gaps": gaps,
    "message": recorded(message),  # chat: mentions, DMs, threads
}


def register(name: str, handler: Handler) -> None:
    """Add a command to the table (modules for briefing, reload... register theirs)."""
    HANDLERS[name] = handler


def _outcome(result: Result) -> tuple[str, str]:
    kind = result.kind
    if kind == "answer":
        return ("abstained" if result.abstained else "answered"), result.intent  # type: ignore[union-attr]
    if kind == "error":
        return "user_error", "-"
    return "ok", kind


async def dispatch(req: CommandRequest, ctx: AppContext) -> Result:
    """Run the handler for `req.command`; never raises.

    A UserFacingError becomes its sentence; anything else is logged with context and the
    user gets a short apology, never silence and never a traceback.
    """
    started = time.perf_counter()
    handler = HANDLERS.get(req.command)
    try:
        with ctx.intake.admit():  # refused once shutdown began; counted while in flight
            if handler is None:
                raise UserFacingError(
                    f"Unknown command `{req.command}`.",
                    hint="Try /ask help for what briefbot can do.",
                )
            result = await handler(req, ctx)
        outcome, intent = _outcome(result)
    except ShuttingDownError as exc:
        result = exc.to_model()
        outcome, intent = "refused", "-"
    except UserFacingError as exc:
        result = exc.to_model()
        outcome, intent = "user_error", "-"
    except Exception:
        log.exception(
            "command failed",
            extra={"platform": req.platform, "command": req.command, "request_id": req.request_id,
                   "user": req.user_id, "channel": req.channel_id},
        )
        result = UserError(message=APOLOGY)
        outcome, intent = "error", "-"
    latency_ms = (time.perf_counter() - started) * 1000
    if log.isEnabledFor(logging.INFO):  # the fields are built only for a line that is written
        info_line(log, "command",  # under serve, the LogRecord is made on the log thread
                  {"platform": req.platform, "command": req.command, "intent": intent,
                   "latency_ms": round(latency_ms, 2), "outcome": outcome,
                   "request_id": req.request_id})
    for hook in _after_hooks:
        try:
            hook(req, result, outcome, latency_ms)
        except Exception:  # an observer must never turn an answer into an error
            log.exception("after-hook failed", extra={"request_id": req.request_id})
    return result


AfterHook = Callable[[CommandRequest, Result, str, float], None]
_after_hooks: list[AfterHook] = []


def add_after_hook(hook: AfterHook) -> None:
    """Observe every command (metrics, gap recording) without touching the handlers."""
    _after_hooks.append(hook)


async def converse(req: MessageRequest, ctx: AppContext) -> Result | None:
    """The reply to post for a chat message, or None if it was answered already.

    Claimed first (one statement in the store), so two replicas given the same event, or a
    platform redelivering it, produce one reply.
    """
    if not await ctx.claims.once(MESSAGE_CLAIM + req.message_key):
        log.info("message already answered",
                 extra={"platform": req.platform, "request_id": req.request_id})
        return None
    return await dispatch(req, ctx)
