"""The Slack adapter: slack-bolt's AsyncApp wired to the platform-neutral handlers.

Socket Mode when SLACK_APP_TOKEN is set, else HTTP at POST /slack/events on the shared
aiohttp app. Fast answers travel in the acknowledgement itself (one round trip); slow
commands ack first and answer through `response_url` from a background task. Answers are
private, with Share and vote buttons; Share posts once, as the bot. Mentions, direct
messages and the App Home are `events.SlackEvents`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.acks import AckCache
from bot.adapters.slack.edge import (
    FrontDoor,
    SlackEdge,
    response_url_allowed,
    response_url_origins,
    url_host,
)
from bot.adapters.slack.errors import (
    DM_REFUSED,
    NETWORK_ERRORS,
    PERMANENT_ERRORS,
    explain_api_error,
)
from bot.adapters.slack.events import SlackEvents
from bot.adapters.slack.home import HOME_RELOAD_ACTION
from bot.adapters.slack.render import (
    SHARE_ACTION,
    VOTE_DOWN_ACTION,
    VOTE_UP_ACTION,
    render,
)
from bot.adapters.slack.requests import (
    COMMANDS,
    MalformedButton,
    command_request,
    is_slow,
    malformed,
    needs_admin_flag,
    response_type,
    share_request,
    vote_request,
)
from bot.adapters.slack.settings import slack_settings
from bot.adapters.slack.socket import (
    CONNECT_TIMEOUT_S,
    RETRY_FIRST_S,
    RETRY_MAX_S,
    SocketHandler,
    reason,
)
from bot.context import AppContext
from bot.models import Answer, Briefing, Result, UserError
from bot.platform import DeliveryError
from bot.settings import SettingsError
from handlers.registry import dispatch
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.slack")


class _SameTokenWarning(logging.Filter):
    """slack-bolt warns "`token` will be unused" whenever SLACK_BOT_TOKEN is in the
    environment and a client is given; our client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_SameTokenWarning())

STOP_GRACE_S = 4.0


class _BoltApp(AsyncApp):
    """slack-bolt's AsyncApp, with each request's `client` copied instead of constructed.

    bolt gives every request its own AsyncWebClient (so a listener or middleware that sets
    `client.token` touches no other request); constructing one reads the proxy variables
    from the environment and rebuilds the User-Agent each time (about 20 µs a request on the
    Slack benchmark). Here the first request of a workspace builds it exactly as bolt does,
    and each request gets a copy of that one: its own object, `default_params` and
    `retry_handlers` list, sharing what bolt's share (the app client's `headers`, session,
    logger). Everything else in `_init_context` is bolt's.
    """

    _CLIENTS_KEPT = 256

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client_templates: dict[str | None, AsyncWebClient] = {}

    def _init_context(self, req: AsyncBoltRequest) -> None:
        team_id = req.context.team_id
        template = self._client_templates.get(team_id)
        if template is None:
            AsyncApp._init_context(self, req)  # bolt's own, this once
            if len(self._client_templates) >= self._CLIENTS_KEPT:
                self._client_templates.clear()
            self._client_templates[team_id] = _copy_client(req.context["client"])
            return
        req.context["logger"] = get_bolt_app_logger(app_name=self.name,
                                                    base_logger=self._base_logger)
        req.context["token"] = self._token
        req.context["client"] = _copy_client(template)
        req.context["listener_runner"] = self.listener_runner


def _copy_client(client: AsyncWebClient) -> AsyncWebClient:
    """A new AsyncWebClient with the same attributes; the per-client containers copied."""
    copy = AsyncWebClient.__new__(AsyncWebClient)
    attrs = copy.__dict__
    attrs.update(client.__dict__)
    attrs["default_params"] = dict(client.default_params)
    if client.retry_handlers is not None:
        attrs["retry_handlers"] = list(client.retry_handlers)
    return copy


class SlackAdapter:
    """PlatformAdapter for Slack (see bot.serve)."""

    name = "slack"

    def __init__(self, ctx: AppContext, *, bot_token: str, signing_secret: str | None,
                 app_token: str | None = None, api_url: str = "https://slack.com/api/") -> None:
        self.ctx = ctx
        self.app_token = app_token
        self.client = AsyncWebClient(
            token=bot_token,
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2),
                            AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        self.app = _BoltApp(
            name="briefbot",
            client=self.client,
            signing_secret=signing_secret or "",
            # HTTP: SlackEdge.admit has checked the timestamp and signature of every request
            # before bolt sees it (bolt's check is the same, a second time); Socket Mode has none
            request_verification_enabled=False,
            process_before_response=True,  # the listener's ack is the HTTP response
        )
        self.edge = SlackEdge(signing_secret or "")
        self.response_origins = response_url_origins(str(self.client.base_url))
        self.socket: AsyncSocketModeHandler | None = None
        self._connector: asyncio.Task[None] | None = None
        self._refused_future: asyncio.Future[Exception] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.acks = AckCache()
        self.events = SlackEvents(ctx, self.client, later=self._later,
                                  slack_admin=lambda user: self._is_admin(self.client, user))
        self._register()

    @classmethod
    def from_settings(cls, ctx: AppContext) -> SlackAdapter:
        """Check the Slack settings; a missing or malformed one raises SettingsError."""
        return cls(ctx, **slack_settings(ctx.settings))

    def _register(self) -> None:
        self.app.middleware(FrontDoor(
            self.edge, commands=COMMANDS, response_origins=self.response_origins,
            actions=(SHARE_ACTION, VOTE_UP_ACTION, VOTE_DOWN_ACTION, HOME_RELOAD_ACTION)))
        for name in COMMANDS:
            self.app.command(f"/{name}")(self._on_command)
        self.app.action(SHARE_ACTION)(self._on_share)
        for action_id in (VOTE_UP_ACTION, VOTE_DOWN_ACTION):
            self.app.action(action_id)(self._on_vote)
        self.events.register(self.app)
        self.app.error(self._on_error)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the ack has gone back to Slack.

        Not slack-bolt's lazy listeners: they deep-copy the whole request for every command,
        which cost more than answering the question (see README, Slack benchmark).
        """
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("slack: work after the ack failed")

    # --- PlatformAdapter ----------------------------------------------------------------

    def attach_routes(self, app: web.Application) -> None:
        if self.app_token is None:
            app.router.add_post("/slack/events", self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: our edge checks the signature and the body before slack-bolt
        runs the listener (see edge.py); this is the only way into bolt over HTTP."""
        admitted = await self.edge.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        bolt_response = await self.app.async_dispatch(admitted)
        return await to_aiohttp_response(bolt_response)

    async def start(self) -> None:
        """auth.test, then Socket Mode's first connection attempt (bounded).

        A refused app token raises SettingsError. Slack unreachable (API or websocket) is
        one warning; the connection is retried in the background with backoff while
        `connected` stays False (/healthz answers 503), and stop() ends the retries.
        """
        await self._check_token()
        if self.app_token is None:
            log.info("slack: HTTP mode, events at POST /slack/events")
            return
        self.socket = SocketHandler(self.app, self.app_token, self.client,
                                         on_refused=self._refused)
        try:
            await self._connect_once()
        except SettingsError:
            raise
        except Exception as exc:
            log.warning("slack: cannot connect in Socket Mode (%s); retrying in the background",
                        reason(exc))
            self._connector = asyncio.create_task(self._keep_connecting(),
                                                  name="slack-socket-connect")
            return
        log.info("slack: connected in Socket Mode")

    @property
    def connected(self) -> bool:
        """HTTP mode has no connection to hold; Socket Mode needs a live websocket."""
        if self.app_token is None:
            return True
        client = self.socket.client if self.socket is not None else None
        session = client.current_session if client is not None else None
        return bool(client is not None and session is not None and not session.closed
                    and not client.closed and not client.stale)

    async def wait_failed(self) -> Exception:
        """Returns once Slack refused the app token for good (at start or on a reconnect)."""
        return await asyncio.shield(self._refusal())

    def _refusal(self) -> asyncio.Future[Exception]:
        if self._refused_future is None:
            self._refused_future = asyncio.get_running_loop().create_future()
        return self._refused_future

    def _refused(self, error: SettingsError) -> None:
        future = self._refusal()
        if not future.done():
            future.set_result(error)

    async def _connect_once(self) -> None:
        assert self.socket is not None
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await self.socket.connect_async()

    async def _keep_connecting(self) -> None:
        """Retry Socket Mode with backoff until connected, refused, or stopped."""
        delay = RETRY_FIRST_S
        while self.socket is not None:
            await asyncio.sleep(delay)
            try:
                await self._connect_once()
            except SettingsError:
                return  # _refused() already told serve, which stops with that line
            except Exception as exc:
                delay = min(delay * 2, RETRY_MAX_S)
                log.warning("slack: Socket Mode still not connected (%s); next try in %.0f s",
                            reason(exc), delay)
                continue
            log.info("slack: connected in Socket Mode")
            return

    async def stop(self) -> None:
        """Close Socket Mode, then let answers still on their way finish (bounded)."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connector
            self._connector = None
        if self.socket is not None:
            socket, self.socket = self.socket, None
            await socket.close_async()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_S)

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        try:
            await self.client.chat_postMessage(
                channel=channel_id, unfurl_links=False, unfurl_media=False,
                **render(briefing, interactive=False))
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            raise DeliveryError(f"Slack {code} for channel {channel_id}: "
                                f"{explain_api_error(code)}",
                                permanent=code in PERMANENT_ERRORS) from exc
        except NETWORK_ERRORS as exc:
            raise DeliveryError(f"Slack unreachable: {exc!r}") from exc

    async def check_channel(self, channel_id: str) -> str | None:
        """Why the daily briefing could not be posted in a channel, if Slack says (subscribe).

        conversations.info gives membership and archival. With chat:write.public the bot may
        post in a public channel it has not joined; a private channel or group DM needs it
        invited. Slack unreachable or any other error gives no verdict (None): a blip must not
        block a subscription, and a real refusal is logged by the scheduler later.
        """
        try:
            response = await self.client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if code == "channel_not_found" and channel_id.startswith("D"):
                return DM_REFUSED  # a DM between people: nobody can invite the bot there
            if code in PERMANENT_ERRORS:
                return explain_api_error(code)
            if code == "missing_scope":
                needed = exc.response.get("needed") or "channels:read"
                return (f"briefbot cannot check whether it may post here: its Slack app lacks "
                        f"the `{needed}` scope. A Slack admin should add it (OAuth & Permissions"
                        f" → Bot Token Scopes, or update the app from slack/manifest.yml) and "
                        f"reinstall the app; then try again.")
            log.warning("slack: conversations.info failed; subscribing without a channel check",
                        extra={"error": code, "channel": channel_id})
            return None
        except NETWORK_ERRORS as exc:
            log.warning("slack: conversations.info failed (%r); subscribing without a channel "
                        "check", exc, extra={"channel": channel_id})
            return None
        channel = response.get("channel") or {}
        if channel.get("is_archived"):
            return explain_api_error("is_archived")
        if channel.get("is_member") or channel.get("is_im"):  # an IM it can see is its own
            return None
        private = any(channel.get(k) for k in ("is_private", "is_group", "is_mpim"))
        granted = response.headers.get("x-oauth-scopes")  # Slack lists the token's scopes
        scopes = None if granted is None else {s.strip() for s in granted.split(",")}
        if not private and (scopes is None or "chat:write.public" in scopes):
            return None
        return explain_api_error("not_in_channel")

    # --- listeners ----------------------------------------------------------------------

    async def _check_token(self) -> None:
        """auth.test at start-up, so a revoked or mistyped token stops start-up clearly."""
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            raise SettingsError(f"SLACK_BOT_TOKEN: Slack rejected it "
                                f"({exc.response.get('error')})") from None
        except NETWORK_ERRORS as exc:
            log.warning("slack: auth.test failed (%r); continuing, Slack may be down", exc)
            return
        log.info("slack: authenticated", extra={"team": auth.get("team"), "bot": auth.get("user")})

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient) -> None:
        """Fast commands answer inside the ack; slow ones ack now and answer via respond."""
        command, text = str(body.get("command", "")).lstrip("/"), body.get("text") or ""
        if is_slow(command, text):
            await ack(text=f"Working on `/{command}`…", response_type="ephemeral")
            self._later(self._finish_slow_command(body, respond, client))
            return
        result = await dispatch(command_request(body), self.ctx)
        if isinstance(result, Answer):  # rendered once per question, see AckCache
            ack.response = BoltResponse(status=200, body=self.acks.body(command, text, result))
            return
        await ack(response_type=response_type(result), **render(result))

    async def _finish_slow_command(self, body: dict[str, Any], respond: AsyncRespond,
                                   client: AsyncWebClient) -> None:
        command, text = str(body.get("command", "")).lstrip("/"), body.get("text") or ""
        admin = needs_admin_flag(command, text) and await self._is_admin(
            client, body.get("user_id", ""))
        result = await dispatch(command_request(body, platform_admin=admin), self.ctx)
        await self._reply(respond, result)

    async def _on_share(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        try:
            req = share_request(body, action)
        except MalformedButton as exc:
            malformed(action, exc)
            return
        self._later(self._share(req, respond, client))

    async def _share(self, req: CommandRequest, respond: AsyncRespond,
                     client: AsyncWebClient) -> None:
        """Post the answer to the channel as the bot; a second click gets a private notice."""
        result = await dispatch(req, self.ctx)
        if not isinstance(result, Answer) or not req.channel_id:
            await self._reply(respond, result)
            return
        try:
            await client.chat_postMessage(
                channel=req.channel_id, unfurl_links=False, unfurl_media=False,
                **render(result, interactive=False, shared_by=req.user_id))
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            log.warning("slack: share failed", extra={"error": code, "channel": req.channel_id})
            await self._reply(respond, UserError(message=explain_api_error(code)))
        except NETWORK_ERRORS as exc:
            log.warning("slack: share failed: %r", exc, extra={"channel": req.channel_id})
            await self._reply(respond, UserError(message="Slack could not be reached; "
                                                         "please try again in a minute."))

    async def _on_vote(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                       respond: AsyncRespond) -> None:
        await ack()
        try:
            req = vote_request(body, action)
        except MalformedButton as exc:
            malformed(action, exc)
            return
        self._later(self._vote(req, respond))

    async def _vote(self, req: CommandRequest, respond: AsyncRespond) -> None:
        await self._reply(respond, await dispatch(req, self.ctx))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack: listener failed", exc_info=error,
                  extra={"type": body.get("type"), "command": body.get("command")})

    async def _is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        """Slack's own admin/owner flag (users.info); any failure means not an admin."""
        try:
            user = (await client.users_info(user=user_id))["user"]
            return bool(user.get("is_admin") or user.get("is_owner"))
        except (SlackApiError, KeyError, TypeError, *NETWORK_ERRORS) as exc:
            log.warning("slack: users.info failed; treating as non-admin: %r", exc,
                        extra={"user": user_id})
            return False

    async def _reply(self, respond: AsyncRespond, result: Result) -> None:
        """Answer through response_url (private unless public); failures are only logged."""
        if not response_url_allowed(respond.response_url, self.response_origins):
            log.warning("slack: not answering through a response_url that is not Slack's",
                        extra={"host": url_host(respond.response_url)})
            return
        try:
            response = await respond(response_type=response_type(result), replace_original=False,
                                     **render(result))
        except NETWORK_ERRORS as exc:
            log.warning("slack: response_url failed: %r", exc)
            return
        if response.status_code != 200:
            log.warning("slack: response_url refused",
                        extra={"status": response.status_code, "body": response.body[:200]})

