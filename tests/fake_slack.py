"""A fake Slack on 127.0.0.1 for the adapter tests and the bench.

- Web API at `api_url` (`/api/<method>`): records every call (method, args, token) and answers
  like Slack; `script(method, ...)` queues errors (e.g. 429 with Retry-After, not_in_channel);
  `channel(id, ...)` sets what conversations.info says (member, private, archived, not found).
- Socket Mode: apps.connections.open returns `ws_url`; the websocket sends `hello`,
  `push()` sends envelopes (slash_commands, interactive, events_api with `retry_attempt`),
  and the acks the bot sends back are recorded.
- Events API: `event_callback()` builds the body Slack sends (over HTTP, POST it signed as
  JSON with `json_headers()`); `posts()` and `published()` read back what the bot posted
  with chat.postMessage and views.publish.
- response_url receiver at `response_url(key)`, recording what the bot posts there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TIMEOUT = 5.0


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.acks: list[dict[str, Any]] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any] | None] = {}  # see channel(); None: not found
        self.scopes: list[str] | None = None  # when set, sent as X-OAuth-Scopes like Slack
        self._scripted: dict[str, list[Scripted]] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._connected = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/response/{key}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/socket"

    def response_url(self, key: str = "r1") -> str:
        return f"{self.base}/response/{key}"

    # --- scripting and inspection -----------------------------------------------------

    def script(self, method: str, error: str | None = None, *, status: int = 200,
               headers: dict[str, str] | None = None, **fields: Any) -> None:
        """Queue one answer for the next call of `method` (an error, a 429...); `fields` go
        into the body too (missing_scope's `needed`, say)."""
        body = {"ok": False, "error": error or "ratelimited", **fields}
        self._scripted.setdefault(method, []).append(Scripted(status, body, headers or {}))

    def channel(self, channel_id: str, *, found: bool = True, member: bool = True,
                private: bool = False, archived: bool = False) -> None:
        """What conversations.info says about a channel (unlisted ones: public, bot a member).

        `found=False` answers channel_not_found, as Slack does for a private channel the bot
        is not in.
        """
        self.channels[channel_id] = {"is_member": member, "is_private": private,
                                     "is_archived": archived} if found else None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Callable[[], Any]) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every recorded event)."""
        async with asyncio.timeout(TIMEOUT), self._changed:
            while not (value := predicate()):
                await self._changed.wait()
            return value

    async def _record(self, store: list[Any], item: Any) -> None:
        store.append(item)
        async with self._changed:
            self._changed.notify_all()

    # --- Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        await self._record(self.calls, ApiCall(method, args, token))
        queued = self._scripted.get(method)
        scopes = {"X-OAuth-Scopes": ",".join(self.scopes)} if self.scopes is not None else {}
        if queued:
            s = queued.pop(0)
            return web.json_response(s.body, status=s.status, headers={**scopes, **s.headers})
        channel = str(args.get("channel", ""))
        if method == "conversations.info" and channel in self.channels \
                and self.channels[channel] is None:
            return web.json_response({"ok": False, "error": "channel_not_found"}, headers=scopes)
        return web.json_response({"ok": True, **self._answer(method, args)}, headers=scopes)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"url": "https://fake.slack.com/", "team": "Fake", "user": "briefbot",
                    "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"}
        if method == "apps.connections.open":
            return {"url": self.ws_url}
        if method == "users.info":
            user_id = str(args.get("user", ""))
            return {"user": {"id": user_id, "name": user_id.lower(), "is_admin": False,
                             "is_owner": False, **self.users.get(user_id, {})}}
        if method == "conversations.info":
            channel_id = str(args.get("channel", ""))
            return {"channel": {"id": channel_id, "name": "general", "is_channel": True,
                                "is_group": False, "is_im": False, "is_mpim": False,
                                "is_private": False, "is_archived": False, "is_member": True,
                                **(self.channels.get(channel_id) or {})}}
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"view": {"id": f"V{next(self._ids)}", **(view or {})}}
        if method in {"chat.postMessage", "chat.postEphemeral"}:
            ts = f"{time.time():.6f}"
            return {"channel": args.get("channel"), "ts": ts, "message_ts": ts}
        return {}

    # --- Socket Mode ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A1"},
                            "debug_info": {"host": "fake", "approximate_connection_time": 3600}})
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._record(self.acks, json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
        return ws

    async def push(self, kind: str, payload: dict[str, Any], *,
                   retry_attempt: int | None = None) -> str:
        """Send a Socket Mode envelope (slash_commands, interactive, events_api); returns its
        id. Events carry `retry_attempt` (0 on the first delivery) like Slack's."""
        async with asyncio.timeout(TIMEOUT):
            await self._connected.wait()
        envelope_id = f"env-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        for ws in list(self._sockets):
            await ws.send_json(envelope)
        return envelope_id

    def posts(self, **where: Any) -> list[dict[str, Any]]:
        """chat.postMessage calls' arguments, those matching `where` (channel=, thread_ts=)."""
        return [c.args for c in self.calls_to("chat.postMessage")
                if all(c.args.get(k) == v for k, v in where.items())]

    async def post_in(self, **where: Any) -> dict[str, Any]:
        """The first chat.postMessage matching `where`, waiting for it."""
        return await self.wait_for(lambda: next(iter(self.posts(**where)), None))

    def published(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """The views published with views.publish (for `user_id`), oldest first."""
        views = []
        for call in self.calls_to("views.publish"):
            if user_id is None or call.args.get("user_id") == user_id:
                view = call.args.get("view")
                views.append(json.loads(view) if isinstance(view, str) else view)
        return views

    async def ack_for(self, envelope_id: str) -> dict[str, Any]:
        return await self.wait_for(
            lambda: next((a for a in self.acks if a.get("envelope_id") == envelope_id), None))

    # --- response_url -----------------------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        await self._record(self.responses, (request.match_info["key"], await request.json()))
        return web.Response(text="ok")


# --- payload builders shared by the tests and the bench ---------------------------------

def slash_payload(command: str, text: str, *, response_url: str, user_id: str = "U1",
                  channel_id: str = "C1", trigger_id: str | None = None) -> dict[str, str]:
    """The fields Slack sends for a slash command (form-encoded over HTTP)."""
    return {"token": "legacy", "team_id": "T1", "team_domain": "fake", "channel_id": channel_id,
            "channel_name": "general", "user_id": user_id, "user_name": user_id.lower(),
            "command": command, "text": text, "api_app_id": "A1",
            "is_enterprise_install": "false", "response_url": response_url,
            "trigger_id": trigger_id or f"trig.{time.time_ns()}"}


def block_action_payload(action: dict[str, Any], *, response_url: str, user_id: str = "U1",
                         channel_id: str = "C1") -> dict[str, Any]:
    """A block_actions payload for a click on `action` (a button from our blocks)."""
    clicked = {**action, "block_id": "b1", "action_ts": f"{time.time():.6f}"}
    return {"type": "block_actions", "api_app_id": "A1", "token": "legacy",
            "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(),
                     "team_id": "T1"},
            "team": {"id": "T1", "domain": "fake"},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": channel_id,
                          "is_ephemeral": True},
            "channel": {"id": channel_id, "name": "general"},
            "trigger_id": f"trig.{time.time_ns()}", "response_url": response_url,
            "actions": [clicked]}


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature over `body` (what slack-bolt verifies)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def form(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def event_callback(event: dict[str, Any], *, event_id: str | None = None,
                   team_id: str = "T1") -> dict[str, Any]:
    """The Events API body Slack sends for `event` (the payload of an events_api envelope)."""
    return {"token": "legacy", "team_id": team_id, "api_app_id": "A1", "type": "event_callback",
            "event": {"event_ts": event.get("ts", f"{time.time():.6f}"), **event},
            "event_id": event_id or f"Ev{time.time_ns()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}]}


def mention(text: str, *, ts: str, channel: str = "C1", user: str = "U1",
            thread_ts: str | None = None) -> dict[str, Any]:
    """An app_mention event: `text` after the bot's mention."""
    event = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts,
             "channel": channel, "team": "T1"}
    return {**event, "thread_ts": thread_ts} if thread_ts else event


def direct_message(text: str, *, ts: str, channel: str = "D1", user: str = "U1",
                   **extra: Any) -> dict[str, Any]:
    """A message.im event (a DM to the bot); `extra` adds subtype, bot_id..."""
    return {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts,
            "channel": channel, "team": "T1", **extra}


def json_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Signed headers for a JSON body (the Events API over HTTP)."""
    return {**signed_headers(secret, body, timestamp), "Content-Type": "application/json"}
