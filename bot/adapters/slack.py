"""Slack adapter: slack-bolt's AsyncApp over the platform-neutral handlers.

Socket Mode when SLACK_APP_TOKEN is set, else HTTP at POST /slack/events on the shared
aiohttp app. Fast answers travel in the acknowledgement itself (one round trip); slow
commands ack first and answer through `response_url` from a background task. Answers are
private, with Share and vote buttons; Share posts once, as the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_edge import (
    FrontDoor,
    SlackEdge,
    response_url_allowed,
    response_url_origins,
    url_host,
)
from bot.adapters.slack_render import (
    SHARE_ACTION,
    VOTE_DOWN_ACTION,
    VOTE_UP_ACTION,
    render,
)
from bot.ids import new_id
from bot.models import Answer, Briefing, Notice, Result, UserError
from bot.platform import DeliveryError, Platform
from bot.settings import Settings, SettingsError
from handlers.context import AppContext
from handlers.registry import dispatch
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.slack")


class _SameTokenWarning(logging.Filter):
    """slack-bolt warns "`token` will be unused" whenever SLACK_BOT_TOKEN is in the
    environment and a client is given; our client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_SameTokenWarning())

COMMANDS = ("ask", "who", "brief", "reload", "gaps", "add")
SLOW_COMMANDS = frozenset({"reload", "gaps", "add"})
"""Commands that ack at once and answer through response_url."""
ADMIN_COMMANDS = frozenset({"reload", "gaps", "add"})
ADMIN_BRIEF_ACTIONS = frozenset({"subscribe", "unsubscribe"})

PERMANENT_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
INVITE = "Invite briefbot to the channel with `/invite @briefbot`, then try again."
DM_REFUSED = ("briefbot cannot post in a direct message between other people. Subscribe a "
              "channel instead, or run `/brief subscribe` in your DM with briefbot.")
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
STOP_GRACE_S = 4.0

# Socket Mode start-up: one bounded attempt at a time; retries back off up to RETRY_MAX_S.
CONNECT_TIMEOUT_S = 30.0
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
REFUSED_APP_TOKEN = {
    "invalid_auth": "generate a new app-level token (Basic Information → App-Level Tokens, "
                    "scope connections:write) and set it",
    "not_authed": "set the app-level token (xapp-…) from Basic Information → App-Level Tokens",
    "token_revoked": "the token was revoked: generate a new app-level token and set it",
    "token_expired": "the token expired: generate a new app-level token and set it",
    "account_inactive": "the app or its workspace is no longer active: reinstall the app",
    "not_allowed_token_type": "apps.connections.open needs the app-level token (xapp-…, scope "
                              "connections:write), not a bot or user token",
    "missing_scope": "the app-level token lacks the connections:write scope: generate one "
                     "with it",
}
"""apps.connections.open errors that retrying cannot fix: start-up stops, naming the variable."""


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
    """A button value that is not what slack_render put there (forged, or from elsewhere)."""


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


def _malformed(action: dict[str, Any], exc: MalformedButton) -> None:
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


def explain_api_error(code: str) -> str:
    """A Slack API error code as a sentence for the user."""
    if code == "not_in_channel":
        return f"briefbot is not a member of this channel, so it cannot post here. {INVITE}"
    if code == "channel_not_found":
        return f"Slack cannot find this channel for briefbot (private or not joined). {INVITE}"
    if code == "is_archived":
        return "This channel is archived, so briefbot cannot post in it."
    if code == "ratelimited":
        return "Slack is rate-limiting briefbot right now; please try again in a minute."
    return f"Slack refused the post ({code}); please try again later."


# --- the ack of an answer, rendered once -----------------------------------------------------

ACK_CACHE_SIZE = 256
"""Distinct (command, question) acks kept per index version, least recently used dropped."""
ACK_CACHE_MAX_CHARS = 32_000
"""A longer ack (a huge answer) is rendered each time rather than kept."""


def ack_body(result: Result) -> str:
    """The JSON body of the ack for `result`, exactly as slack-bolt's `ack()` would write it."""
    message = render(result)
    return json.dumps({"text": message["text"], "response_type": response_type(result),
                       "blocks": message["blocks"]})


class AckCache:
    """The serialised ack of an answer, rendered once per index version, command and question.

    An answer is a pure function of the index and the text asked (the engine memoizes it the
    same way), so its Block Kit message is too, but for one thing: each answer shown carries
    its own `answer_id` in the Share and vote buttons (share-once and votes are per answer
    shown). So the message is rendered with a stand-in id and kept as the pieces around it;
    each request joins them with its own id, about 1 µs instead of rendering and
    `json.dumps` (about 35 µs for the benchmark's 3.6 kB answer).

    An entry is used only if the answer is the one it was rendered from (same text, title,
    citations: identity checks, as the engine hands out copies of one memoized answer), so a
    reload (new version), or an engine that answers differently, renders afresh.
    """

    def __init__(self, size: int = ACK_CACHE_SIZE) -> None:
        self.size = size
        self.version: int | None = None
        self._entries: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], list[str]]] = (
            OrderedDict())
        self.renders = 0  # how many times an answer was rendered (tests, benchmarks)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _fingerprint(answer: Answer) -> tuple[Any, ...]:
        return (answer.text, answer.title, answer.citations, answer.abstained, answer.intent,
                answer.suggestions, answer.question, answer.source_command)

    def body(self, command: str, text: str, answer: Answer) -> str:
        """The ack's JSON for `answer` (to /`command` `text`), with the answer's own id."""
        if answer.index_version != self.version:
            self._entries.clear()
            self.version = answer.index_version
        key = (command, text)
        entry = self._entries.get(key)
        fingerprint = self._fingerprint(answer)
        if entry is None or not _same(entry[0], fingerprint):
            pieces = self._pieces(answer)
            if pieces is None:
                return ack_body(answer)
            entry = self._entries[key] = (fingerprint, pieces)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return answer.answer_id.join(entry[1])

    def _pieces(self, answer: Answer) -> list[str] | None:
        """The ack split around the answer id; None when that cannot be done safely (the id
        stand-in also occurs in the text, or the ack is too long to keep)."""
        self.renders += 1
        first, second = new_id(), new_id()
        pieces = ack_body(answer.model_copy(update={"answer_id": first})).split(first)
        check = ack_body(answer.model_copy(update={"answer_id": second})).split(second)
        if pieces != check or sum(map(len, pieces)) > ACK_CACHE_MAX_CHARS:
            return None
        return pieces


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal fingerprints; the usual case (the same memoized answer) is identity checks."""
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


# --- Socket Mode connection -----------------------------------------------------------------

def refused_app_token(code: str) -> SettingsError:
    return SettingsError(f"SLACK_APP_TOKEN: Slack refused it ({code}); "
                         f"{REFUSED_APP_TOKEN.get(code, 'check the app-level token')}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"apps.connections.open: {exc.response.get('error', 'unknown_error')}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _SocketModeClient(SocketModeClient):
    """slack_sdk's aiohttp Socket Mode client, changed in two ways.

    - connect() makes one attempt and raises on failure. The original retries forever
      (every few seconds, a traceback each time, reusing a websocket URL that failed), so
      start-up could neither give up nor tell an outage from a refused token. The adapter
      retries at start; once connected, the client's own monitor reconnects as before.
    - A refused app token (REFUSED_APP_TOKEN) raises SettingsError and calls `on_refused`,
      also when it happens on a reconnect, so `serve` stops with one line.
    """

    def __init__(self, *args: Any, on_refused: Callable[[SettingsError], None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_refused = on_refused

    async def issue_new_wss_url(self) -> str:
        try:
            response = await self.web_client.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if code in REFUSED_APP_TOKEN:
                error = refused_app_token(code)
                self._on_refused(error)
                raise error from None
            raise
        return str(response["url"])

    async def connect(self) -> None:  # the base class's loop body, once
        if self.closed:
            return
        self.auto_reconnect_enabled = False
        try:
            if self.current_session is not None:
                with contextlib.suppress(Exception):
                    await self.current_session.close()
            if self.aiohttp_client_session.closed:
                self.aiohttp_client_session = aiohttp.ClientSession()
            if self.wss_uri is None:
                self.wss_uri = await self.issue_new_wss_url()
            try:
                self.current_session = await self.aiohttp_client_session.ws_connect(
                    self.wss_uri, autoping=False, heartbeat=self.ping_interval,
                    proxy=self.proxy,
                    ssl=self.web_client.ssl if self.web_client.ssl is not None else True)
            except BaseException:
                self.wss_uri = None  # the next attempt asks Slack for a fresh URL
                raise
        finally:
            # also after a failure, so the session monitor keeps trying to reconnect
            self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        self.stale = False
        self.logger.info(f"A new session ({await self.session_id()}) has been established")
        await self.current_session.ping(f"sdk-ping-pong:{time.time()}".encode())
        if self.current_session_monitor is not None:
            self.current_session_monitor.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        if self.message_receiver is not None:
            self.message_receiver.cancel()
        self.message_receiver = asyncio.ensure_future(self.receive_messages())


class _SocketModeHandler(AsyncSocketModeHandler):
    """slack-bolt's handler over _SocketModeClient."""

    def __init__(self, app: AsyncApp, app_token: str, web_client: AsyncWebClient, *,
                 on_refused: Callable[[SettingsError], None]) -> None:
        self.app = app
        self.app_token = app_token
        self.client = _SocketModeClient(app_token=app_token, logger=app.logger,
                                        web_client=web_client, on_refused=on_refused)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]


# --- the adapter ----------------------------------------------------------------------------

def _secret(value: Any) -> str | None:
    return value.get_secret_value().strip() or None if value is not None else None


def slack_settings(settings: Settings) -> dict[str, Any]:
    """The adapter's arguments from the settings, or SettingsError naming the variable.

    Called by `serve` before the index loads too, so a typo stops start-up at once.
    """
    bot_token, secret = _secret(settings.slack_bot_token), _secret(settings.slack_signing_secret)
    app_token = _secret(settings.slack_app_token)
    if not bot_token:
        raise SettingsError("SLACK_BOT_TOKEN: required for serve --slack; the Bot User "
                            "OAuth Token from your app's OAuth & Permissions page (xoxb-…)")
    if not bot_token.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN: must be an app-level token starting with "
                            "xapp- (Basic Information → App-Level Tokens, connections:write)")
    if app_token is None and not secret:
        raise SettingsError("SLACK_SIGNING_SECRET: required in HTTP mode (no SLACK_APP_TOKEN)"
                            "; copy it from your app's Basic Information page")
    return {"bot_token": bot_token, "signing_secret": secret, "app_token": app_token,
            "api_url": settings.slack_api_url}


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
        self.app = AsyncApp(
            name="briefbot",
            client=self.client,
            signing_secret=signing_secret or "",
            request_verification_enabled=app_token is None,
            process_before_response=True,  # the listener's ack is the HTTP response
        )
        self.edge = SlackEdge(signing_secret or "")
        self.response_origins = response_url_origins(str(self.client.base_url))
        self.socket: AsyncSocketModeHandler | None = None
        self._connector: asyncio.Task[None] | None = None
        self._refused_future: asyncio.Future[Exception] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.acks = AckCache()
        self._register()

    @classmethod
    def from_settings(cls, ctx: AppContext) -> SlackAdapter:
        """Check the Slack settings; a missing or malformed one raises SettingsError."""
        return cls(ctx, **slack_settings(ctx.settings))

    def _register(self) -> None:
        self.app.middleware(FrontDoor(
            self.edge, commands=COMMANDS, response_origins=self.response_origins,
            actions=(SHARE_ACTION, VOTE_UP_ACTION, VOTE_DOWN_ACTION)))
        for name in COMMANDS:
            self.app.command(f"/{name}")(self._on_command)
        self.app.action(SHARE_ACTION)(self._on_share)
        for action_id in (VOTE_UP_ACTION, VOTE_DOWN_ACTION):
            self.app.action(action_id)(self._on_vote)
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
        (which checks the signature again) runs the listener (see slack_edge)."""
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
        self.socket = _SocketModeHandler(self.app, self.app_token, self.client,
                                         on_refused=self._refused)
        try:
            await self._connect_once()
        except SettingsError:
            raise
        except Exception as exc:
            log.warning("slack: cannot connect in Socket Mode (%s); retrying in the background",
                        _reason(exc))
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
                            _reason(exc), delay)
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
            _malformed(action, exc)
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
            _malformed(action, exc)
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


PLATFORM = Platform(
    name="slack",
    check_settings=slack_settings,
    create=SlackAdapter.from_settings,
    configured=lambda settings: settings.slack_bot_token is not None,
)
