"""Conversations on Slack (Events API, over Socket Mode or HTTP) and the App Home.

- `app_mention` in a channel: answered with `chat.postMessage` in a thread on that message,
  visible to the channel, with citations and vote buttons (no Share: it is public already).
  A later mention in that thread is read in the thread's context ("what did he say?").
- `message` in a DM (`channel_type` "im"): answered in the DM; the whole DM is one
  conversation.
- Never a bot (itself included), an edit, a deletion or another subtype (`requests.incoming`).
- Once: the event id (else channel and ts) is claimed in the store by `converse`, so a
  redelivered event, another replica, or a retry that slips past the front door posts
  nothing; the front door acks Slack's retries empty before any listener runs.
- `app_home_opened` (tab "home"): `views.publish` of the Home view; admins (BRIEFBOT_ADMINS,
  or Slack admin/owner by users.info) also see the gaps and Reload, which runs the same
  admin-checked `reload` as `/reload` and republishes the Home with its report on top.

bolt acks events itself; each listener only schedules the work, which runs after the ack,
bounded (MAX_PENDING waiting, MAX_CONCURRENT at once, ANSWER_TIMEOUT_S each). One error path:
`dispatch` turns a user-facing error into its sentence and anything else into the short
apology (logged with context); a failure before it is logged and apologised for the same
way; a Slack API error on posting is logged with its code and never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.errors import NETWORK_ERRORS, error_code
from bot.adapters.slack.home import HOME_RELOAD_ACTION, home_view
from bot.adapters.slack.render import render
from bot.adapters.slack.requests import Incoming, incoming
from bot.context import AppContext
from bot.models import Result, UserError
from handlers.errors import APOLOGY
from handlers.home import home
from handlers.registry import converse, dispatch
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.slack")

MAX_PENDING = 200
"""Messages accepted and not yet answered; beyond this a message is dropped (logged)."""
MAX_CONCURRENT = 8
ANSWER_TIMEOUT_S = 30.0

Later = Callable[[Coroutine[Any, Any, None]], None]
IsAdmin = Callable[[str], Awaitable[bool]]


class SlackEvents:
    """The Events API listeners and the Home's button, registered on the bolt app."""

    def __init__(self, ctx: AppContext, client: AsyncWebClient, *, later: Later,
                 slack_admin: IsAdmin) -> None:
        self.ctx = ctx
        self.client = client
        self.later = later
        self.slack_admin = slack_admin  # users.info's admin/owner flag (a Web API call)
        self.pending = 0
        self._running = asyncio.Semaphore(MAX_CONCURRENT)

    def register(self, app: AsyncApp) -> None:
        app.event("app_mention")(self.on_message)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.action(HOME_RELOAD_ACTION)(self.on_home_reload)

    # --- mentions and direct messages ---------------------------------------------------

    async def on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Schedule the answer (bolt acks the event when this returns)."""
        message = incoming(body, bot_user_id=context.bot_user_id)
        if message is None:
            return
        if self.pending >= MAX_PENDING:
            log.warning("slack: too many messages waiting; not answering this one",
                        extra={"channel": message.channel, "pending": self.pending})
            return
        self.pending += 1
        self.later(self._answer(message))

    async def _answer(self, message: Incoming) -> None:
        req = message.request
        try:
            async with self._running:
                result = await self._result(req)
        finally:
            self.pending -= 1
        if result is not None:
            await self.post(message, result)

    async def _result(self, req: Any) -> Result | None:
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                return await converse(req, self.ctx)
        except Exception:
            log.exception("slack: message failed", extra={
                "platform": req.platform, "request_id": req.request_id, "user": req.user_id,
                "channel": req.channel_id, "conversation": req.conversation[:120]})
            return UserError(message=APOLOGY)

    async def post(self, message: Incoming, result: Result) -> None:
        """Post the reply in the thread (or the DM); a refusal is logged, never raised."""
        where: dict[str, Any] = {"channel": message.channel}
        if message.thread_ts is not None:
            where["thread_ts"] = message.thread_ts
        try:
            await self.client.chat_postMessage(**where, unfurl_links=False, unfurl_media=False,
                                               **render(result, share=False))
        except SlackApiError as exc:
            log.warning("slack: reply not posted", extra={
                "error": error_code(exc), "channel": message.channel,
                "request_id": message.request.request_id})
        except NETWORK_ERRORS as exc:
            log.warning("slack: reply not posted: %r", exc, extra={
                "channel": message.channel, "request_id": message.request.request_id})

    # --- App Home ------------------------------------------------------------------------

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        team = body.get("team_id") or event.get("team")
        self.later(self.publish_home(user, team))

    async def on_home_reload(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = body.get("user") or {}
        user_id = user.get("id")
        if not isinstance(user_id, str) or not user_id:
            return
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        self.later(self._reload(user_id, team))

    async def _reload(self, user_id: str, team: str | None) -> None:
        """`/reload` from the Home's button: the same admin check, then the Home again with
        the report (or the refusal) on top."""
        req = CommandRequest(command="reload", platform="slack", user_id=user_id,
                             workspace_id=team, platform_admin=await self._admin(user_id))
        result = await dispatch(req, self.ctx)
        await self.publish_home(user_id, team, notice=result)

    async def _admin(self, user_id: str) -> bool:
        """The platform's flag, asked of Slack only when BRIEFBOT_ADMINS does not decide."""
        if self.ctx.is_admin("slack", user_id):
            return False  # listed: the flag is not needed
        return await self.slack_admin(user_id)

    async def publish_home(self, user_id: str, team: str | None,
                           notice: Result | None = None) -> None:
        try:
            req = CommandRequest(command="home", platform="slack", user_id=user_id,
                                 workspace_id=team, platform_admin=await self._admin(user_id))
            view = home_view(await home(req, self.ctx), notice)
        except Exception:
            log.exception("slack: cannot build the Home", extra={"user": user_id})
            return
        try:
            await self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("slack: Home not published", extra={"error": error_code(exc),
                                                            "user": user_id})
        except NETWORK_ERRORS as exc:
            log.warning("slack: Home not published: %r", exc, extra={"user": user_id})
