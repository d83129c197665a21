"""A fake Discord on 127.0.0.1: the REST routes discord.py calls and a gateway websocket.

It records every REST call and gateway frame so tests can assert on what the real discord.py
client sent, and it drives the client the way Discord does: HELLO, READY or RESUMED, then
INTERACTION_CREATE dispatches of slash commands, autocomplete and button clicks, and
MESSAGE_CREATE for messages people post (`post`) and for the bot's own posts. Messages go
only to sessions whose identify intents ask for them (GUILD_MESSAGES, DIRECT_MESSAGES), and
without the MESSAGE_CONTENT intent their text is withheld unless the message is a DM,
mentions the bot (a reply that pings the bot does) or is the bot's own. Like Discord,
it refuses a second callback for one interaction, and the first follow-up after a deferred
reply replaces the "thinking" message and keeps its ephemeral flag. Several gateway sessions
(replicas sharing one bot token) may be connected at once: like Discord, it sends every event
to each of them, each with its own sequence numbers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GfakeA.fake-discord-token-for-tests-only"
APP_ID = "100000000000000001"
GUILD_ID = "200000000000000002"
CHANNEL_ID = "300000000000000003"
DM_CHANNEL_ID = "600000000000000006"
EPHEMERAL = 64
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS = 1 << 10, 1 << 11, 1 << 14
BOT_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 0, 1 << 9, 1 << 12, 1 << 15
TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"
MENTION = f"<@{APP_ID}>"
_MENTIONS = re.compile(r"<@!?(\d+)>")
OPS = {1: "HEARTBEAT", 2: "IDENTIFY", 3: "PRESENCE", 6: "RESUME", 8: "REQUEST_MEMBERS"}

# Each fake numbers its ids from its own block: discord.py keeps a process-wide lock per
# interaction token, so a token reused by a later test could meet a lock from an earlier loop.
_ID_BLOCKS = itertools.count(900000000000000000, 1_000_000_000)

BOT_USER = {"id": APP_ID, "username": "briefbot", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True, "flags": 0, "verified": True, "mfa_enabled": False}


@dataclass
class Call:
    """One REST request (method, path under the API base) or gateway frame (method 'WS')."""

    method: str
    path: str
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200

    @property
    def rest(self) -> bool:
        return self.method not in ("WS", "SENT")


@dataclass
class Session:
    """One gateway session: its socket (replaced on RESUME), id and sequence number."""

    ws: web.WebSocketResponse
    id: str
    seq: int = 0
    intents: int = 0

    @property
    def live(self) -> bool:
        return not self.ws.closed


@dataclass
class Member:
    id: str = "400000000000000004"
    name: str = "alice"
    display: str = "Alice"
    permissions: int = 0

    def user(self, *, bot: bool = False) -> dict[str, Any]:
        return {"id": self.id, "username": self.name, "discriminator": "0",
                "global_name": self.display, "avatar": None, "bot": bot}

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user(),
            "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0,
            "nick": None, "pending": False, "permissions": str(self.permissions),
        }


def _json(data: Any, status: int = 200) -> web.Response:
    """Discord's content type exactly: discord.py compares it verbatim."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


class FakeDiscord:
    def __init__(self, *, heartbeat_ms: int = 200, token: str = TOKEN) -> None:
        self.token = token
        self.heartbeat_ms = heartbeat_ms
        self.calls: list[Call] = []
        self.forbidden_channels: set[str] = set()
        self.no_history_channels: set[str] = set()  # replies refused there (160002)
        self.withhold_content = True  # False: as if the app had the message-content intent
        self.resolve_replies = "full"
        """How a reply's `referenced_message` is sent: "full" (the replied-to message with its
        own `message_reference`), "shallow" (without it) or "missing" (left out, as Discord
        does when its backend could not fetch the message)."""
        self.messages: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, dict[str, Any]] = {}  # name -> synced command
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> interaction payload
        self._answered: dict[str, int] = {}  # interaction id -> callback type
        self._original: dict[str, str] = {}  # interaction token -> original message id
        self._followed_up: set[str] = set()
        self._ids = itertools.count(next(_ID_BLOCKS))
        self._cond = asyncio.Condition()
        self.sessions: list[Session] = []  # every session ever identified, oldest first
        self._sockets: dict[web.WebSocketResponse, asyncio.Lock] = {}  # open ones, send locks
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---

    async def start(self) -> FakeDiscord:
        app = web.Application()
        base = "/api/v10"
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get(f"{base}/gateway", self._gateway_url)
        app.router.add_get(f"{base}/gateway/bot", self._gateway_url)
        app.router.add_get(f"{base}/users/@me", self._users_me)
        app.router.add_get(f"{base}/oauth2/applications/@me", self._application)
        app.router.add_put(f"{base}/applications/{{app}}/commands", self._sync)
        app.router.add_put(f"{base}/applications/{{app}}/guilds/{{guild}}/commands", self._sync)
        app.router.add_post(f"{base}/interactions/{{iid}}/{{token}}/callback", self._callback)
        app.router.add_post(f"{base}/webhooks/{{app}}/{{token}}", self._followup)
        app.router.add_route("*", f"{base}/webhooks/{{app}}/{{token}}/messages/{{mid}}",
                             self._webhook_message)
        app.router.add_post(f"{base}/channels/{{cid}}/messages", self._channel_message)
        app.router.add_route("*", f"{base}/{{rest:.*}}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def session_id(self) -> str | None:
        """The most recently identified session's id."""
        return self.sessions[-1].id if self.sessions else None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- what the tests use ---

    async def wait_for(self, predicate: Callable[[Call], bool], *, count: int = 1,
                       within: float = 5.0) -> list[Call]:
        """Wait until `count` recorded calls match; returns them."""
        def matches() -> list[Call]:
            return [c for c in self.calls if predicate(c)]

        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: len(matches()) >= count), within)
            return matches()

    def find(self, predicate: Callable[[Call], bool]) -> list[Call]:
        return [c for c in self.calls if predicate(c)]

    def for_interaction(self, interaction: dict[str, Any]) -> list[Call]:
        """REST calls answering one interaction: its callback, follow-ups and edits."""
        return [c for c in self.calls if c.rest and interaction["token"] in c.path]

    async def wait_reply(self, interaction: dict[str, Any], *, count: int = 1,
                         within: float = 5.0) -> list[Call]:
        return await self.wait_for(
            lambda c: c.rest and interaction["token"] in c.path, count=count,
            within=within)

    async def command(self, name: str, options: dict[str, Any] | None = None, *,
                      subcommand: str | None = None, member: Member | None = None,
                      focused: str | None = None,
                      app_permissions: int = BOT_PERMISSIONS) -> dict[str, Any]:
        """Dispatch a slash command (or, with `focused`, an autocomplete) over the gateway."""
        opts = [{"name": k, "type": 3, "value": v, **({"focused": True} if k == focused else {})}
                for k, v in (options or {}).items()]
        if subcommand:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data = {"id": self.commands.get(name, {}).get("id", self._id()), "name": name,
                "type": 1, "options": opts}
        return await self._interact(4 if focused else 2, data, member or Member(),
                                    app_permissions=app_permissions)

    async def click(self, message: dict[str, Any], custom_id: str, *,
                    member: Member | None = None) -> dict[str, Any]:
        """Click a button on a message the bot sent."""
        return await self._interact(3, {"custom_id": custom_id, "component_type": 2},
                                    member or Member(), message=message)

    async def post(self, content: str, *, member: Member | None = None, dm: bool = False,
                   reply_to: dict[str, Any] | None = None, ping: bool = True,
                   bot: bool = False, webhook: bool = False, kind: int | None = None,
                   ) -> dict[str, Any]:
        """Someone posts a message: in the guild channel, or with `dm` in their DM with the
        bot; `reply_to` a message (the bot in its mentions when `ping` and the message is
        the bot's). `bot`/`webhook` post as a bot or a webhook; `kind` sets the message type
        (e.g. 7, a member joined). Dispatched as MESSAGE_CREATE; returns the message."""
        member = member or Member()
        mentions = [self._user(uid) for uid in dict.fromkeys(_MENTIONS.findall(content))]
        if reply_to is not None and ping and all(m["id"] != reply_to["author"]["id"]
                                                 for m in mentions):
            mentions.append(reply_to["author"])
        msg = self._new_message(DM_CHANNEL_ID if dm else CHANNEL_ID, content=content,
                                author=member.user(bot=bot), mentions=mentions,
                                reply_to=reply_to, kind=kind)
        if not dm:
            msg["member"] = {k: v for k, v in member.payload().items() if k != "user"}
        if webhook:
            msg["webhook_id"] = "700000000000000007"
        self.messages[msg["id"]] = msg
        await self._message_created(msg)
        return msg

    @staticmethod
    def replies(call: Call, message: dict[str, Any]) -> bool:
        """Whether `call` posted a reply to `message` (its message_reference points at it)."""
        return (call.method == "POST" and call.path.startswith("/channels/")
                and isinstance(call.body, dict)
                and str((call.body.get("message_reference") or {}).get("message_id"))
                == message["id"])

    def replies_to(self, message: dict[str, Any]) -> list[Call]:
        """The bot's posts that reply to `message`."""
        return [c for c in self.calls if self.replies(c, message)]

    def posts_in(self, channel_id: str) -> list[Call]:
        """Every message the bot posted in a channel over REST, refused ones included."""
        return [c for c in self.calls
                if c.method == "POST" and c.path == f"/channels/{channel_id}/messages"]

    async def wait_replies(self, message: dict[str, Any], *, count: int = 1,
                           within: float = 5.0) -> list[Call]:
        return await self.wait_for(lambda c: self.replies(c, message), count=count,
                                   within=within)

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway sockets the way Discord does on a server-side restart."""
        assert self._sockets, "no gateway connection to drop"
        for ws in list(self._sockets):
            await ws.close(code=code, message=b"fake discord dropped the connection")

    # --- gateway ---

    async def _send(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        async with self._sockets.get(ws) or asyncio.Lock():
            await ws.send_str(json.dumps(payload))

    async def _dispatch_to(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        await self._send(session.ws, {"op": 0, "t": event, "s": session.seq, "d": data})
        await self._record(Call("SENT", event, {"s": session.seq, "session": session.id,
                                                "id": data.get("id")}))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every connected session, as Discord does for one bot token;
        recorded as method 'SENT' once per session when it is on that socket."""
        live = [s for s in self.sessions if s.live]
        assert live, f"no gateway session is connected to receive {event}"
        await asyncio.gather(*(self._dispatch_to(s, event, data) for s in live))

    async def _message_created(self, msg: dict[str, Any]) -> None:
        """MESSAGE_CREATE to the sessions that asked for it, each seeing what its intents
        allow: without MESSAGE_CONTENT, the text only of DMs, mentions and its own posts."""
        dm = "guild_id" not in msg
        wanted = DIRECT_MESSAGES if dm else GUILD_MESSAGES
        readable = (dm or msg["author"]["id"] == APP_ID
                    or any(m["id"] == APP_ID for m in msg["mentions"]))
        withheld = {**msg, "content": "", "embeds": [], "attachments": [], "components": []}
        await asyncio.gather(*(
            self._dispatch_to(s, "MESSAGE_CREATE", msg if readable or not self.withhold_content
                              or s.intents & MESSAGE_CONTENT else withheld)
            for s in self.sessions if s.live and s.intents & wanted))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets[ws] = asyncio.Lock()
        try:
            return await self._serve_socket(request, ws)
        finally:
            del self._sockets[ws]

    async def _serve_socket(self, request: web.Request,
                            ws: web.WebSocketResponse) -> web.WebSocketResponse:
        await self._record(Call("WS", "CONNECT", query=dict(request.query)))
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms},
                              "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op = payload.get("op")
            await self._record(Call("WS", OPS.get(op, str(op)), payload))
            if op == 1:
                await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._ready(ws, payload["d"])
            elif op == 6:
                await self._resume(ws, payload["d"])
        await self._record(Call("WS", "CLOSED", status=ws.close_code or 0))
        return ws

    async def _ready(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        if identify.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        session = Session(ws, id=uuid.uuid4().hex, intents=int(identify.get("intents", 0)))
        self.sessions.append(session)
        await self._dispatch_to(session, "READY", {
            "v": 10, "user": BOT_USER, "guilds": [], "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
        })

    async def _resume(self, ws: web.WebSocketResponse, resume: dict[str, Any]) -> None:
        session = next((s for s in self.sessions if s.id == resume.get("session_id")), None)
        if session is None or resume.get("token") != self.token:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        session.ws = ws
        await self._dispatch_to(session, "RESUMED", {})

    async def _interact(self, kind: int, data: dict[str, Any], member: Member,
                        message: dict[str, Any] | None = None,
                        app_permissions: int = BOT_PERMISSIONS) -> dict[str, Any]:
        iid = self._id()
        channel = {"id": CHANNEL_ID, "type": 0, "name": "general", "guild_id": GUILD_ID,
                   "position": 0, "permission_overwrites": [], "nsfw": False,
                   "parent_id": None, "topic": None, "last_message_id": None,
                   "rate_limit_per_user": 0, "flags": 0, "permissions": str(member.permissions)}
        payload: dict[str, Any] = {
            "id": iid, "application_id": APP_ID, "type": kind, "data": data,
            "guild_id": GUILD_ID, "channel_id": CHANNEL_ID, "channel": channel,
            "member": member.payload(), "token": f"itoken{iid}", "version": 1,
            "app_permissions": str(app_permissions), "locale": "en-US",
            "guild_locale": "en-US", "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": GUILD_ID},
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        self.interactions[payload["token"]] = payload
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    # --- REST ---

    def _id(self) -> str:
        return str(next(self._ids))

    async def _record(self, call: Call) -> None:
        async with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    async def _call(self, request: web.Request, status: int = 200) -> Call:
        body = await request.json() if request.can_read_body else None
        path = request.path.removeprefix("/api/v10")
        call = Call(request.method, path, body, dict(request.query), status)
        await self._record(call)
        return call

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return _json({"message": message, "code": code}, status=status)

    def _message(self, channel_id: str, body: dict[str, Any], *, flags: int = 0,
                 interaction: dict[str, Any] | None = None) -> dict[str, Any]:
        msg = {
            "id": self._id(), "channel_id": channel_id, "type": 0, "author": BOT_USER,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "components": body.get("components") or [], "attachments": [], "mentions": [],
            "mention_roles": [], "pinned": False, "mention_everyone": False, "tts": False,
            "timestamp": TIMESTAMP, "edited_timestamp": None, "flags": flags,
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if interaction is not None:
            msg["webhook_id"] = APP_ID
            msg["interaction_token"] = interaction["token"]
        self.messages[msg["id"]] = msg
        return msg

    async def _gateway_url(self, request: web.Request) -> web.Response:
        await self._call(request)
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})

    async def _users_me(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            await self._call(request, 401)
            return self._error(401, 0, "401: Unauthorized")
        await self._call(request)
        return _json(BOT_USER)

    async def _application(self, request: web.Request) -> web.Response:
        await self._call(request)
        return _json({
            "id": APP_ID, "name": "briefbot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": {"id": "500000000000000005", "username": "owner", "discriminator": "0",
                      "avatar": None},
            "flags": 0, "interactions_endpoint_url": None,
        })

    async def _sync(self, request: web.Request) -> web.Response:
        call = await self._call(request)
        synced = []
        for command in call.body:
            synced.append({**command, "id": self._id(), "application_id": APP_ID,
                           "version": self._id(), "guild_id": request.match_info.get("guild")})
            self.commands[command["name"]] = synced[-1]
        return _json(synced)

    async def _callback(self, request: web.Request) -> web.Response:
        iid, token = request.match_info["iid"], request.match_info["token"]
        interaction = self.interactions.get(token)
        if interaction is None or interaction["id"] != iid:
            await self._call(request, 404)
            return self._error(404, 10062, "Unknown interaction")
        if iid in self._answered:
            await self._call(request, 400)
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        call = await self._call(request)
        kind, data = call.body["type"], call.body.get("data") or {}
        self._answered[iid] = kind
        result: dict[str, Any] = {"interaction": {
            "id": iid, "type": interaction["type"], "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL)}}
        if kind in (4, 5):  # a message (or a "thinking" placeholder) in the channel
            msg = self._message(CHANNEL_ID, data, flags=data.get("flags", 0) | (128 * (kind == 5)),
                                interaction=interaction)
            self._original[token] = msg["id"]
            result["interaction"]["response_message_id"] = msg["id"]
            result["resource"] = {"type": kind, "message": msg}
        return _json(result)

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        interaction = self.interactions.get(token)
        if interaction is None or interaction["id"] not in self._answered:
            await self._call(request, 404)
            return self._error(404, 10015, "Unknown Webhook")
        call = await self._call(request)
        original = self.messages.get(self._original.get(token, ""))
        if (self._answered[interaction["id"]] == 5 and token not in self._followed_up
                and original is not None):
            # Discord: the first follow-up replaces the deferred "thinking" message.
            self._followed_up.add(token)
            replaced = self._message(CHANNEL_ID, call.body, flags=original["flags"] & EPHEMERAL,
                                     interaction=interaction)
            del self.messages[replaced["id"]]
            replaced["id"] = original["id"]
            self.messages[original["id"]] = replaced
            return _json(replaced)
        self._followed_up.add(token)
        msg = self._message(CHANNEL_ID, call.body, flags=call.body.get("flags", 0),
                            interaction=interaction)
        return _json(msg)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        token, mid = request.match_info["token"], request.match_info["mid"]
        call = await self._call(request)
        mid = self._original.get(token, "") if mid == "@original" else mid
        msg = self.messages.get(mid)
        if msg is None:
            return self._error(404, 10008, "Unknown Message")
        if request.method == "PATCH":
            self._followed_up.add(token)
            msg.update({k: v for k, v in (call.body or {}).items()
                        if k in ("content", "embeds", "components", "allowed_mentions")},
                       flags=msg["flags"] & ~128)
        return _json(msg)

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id == APP_ID:
            return BOT_USER
        return Member(id=user_id, name=f"user{user_id[-4:]}", display=f"User {user_id[-4:]}").user()

    def _new_message(self, channel_id: str, *, content: str, author: dict[str, Any],
                     mentions: list[dict[str, Any]], reply_to: dict[str, Any] | None,
                     kind: int | None = None) -> dict[str, Any]:
        """A message as MESSAGE_CREATE and the REST API give it (not yet stored)."""
        msg: dict[str, Any] = {
            "id": self._id(), "channel_id": channel_id,
            "type": kind if kind is not None else 19 if reply_to is not None else 0,
            "author": author, "content": content, "embeds": [], "components": [],
            "attachments": [], "mentions": mentions, "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False, "timestamp": TIMESTAMP,
            "edited_timestamp": None, "flags": 0,
        }
        if channel_id != DM_CHANNEL_ID:
            msg["guild_id"] = GUILD_ID
        if reply_to is not None:
            msg["message_reference"] = {"type": 0, "message_id": reply_to["id"],
                                        "channel_id": reply_to["channel_id"],
                                        **({"guild_id": GUILD_ID} if "guild_id" in msg else {})}
            # Discord resolves one level: the replied-to message, without its own reply.
            dropped = {"referenced_message"} | (
                {"message_reference"} if self.resolve_replies == "shallow" else set())
            if self.resolve_replies != "missing":
                msg["referenced_message"] = {k: v for k, v in reply_to.items()
                                             if k not in dropped}
        return msg

    async def _channel_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        if cid in self.forbidden_channels:
            await self._call(request, 403)
            return self._error(403, 50001, "Missing Access")
        if cid not in (CHANNEL_ID, DM_CHANNEL_ID):
            await self._call(request, 404)
            return self._error(404, 10003, "Unknown Channel")
        call = await self._call(request)
        ref = call.body.get("message_reference") or {}
        if ref and cid in self.no_history_channels:
            call.status = 400
            return self._error(400, 160002,
                               "Cannot reply without permission to read message history")
        replied = self.messages.get(str(ref.get("message_id", "")))
        if ref and replied is None and ref.get("fail_if_not_exists", True):
            call.status = 400
            return self._error(400, 50035, "Invalid Form Body: Unknown message")
        msg = self._new_message(cid, content=call.body.get("content") or "", author=BOT_USER,
                                mentions=[], reply_to=replied)
        msg.update(embeds=call.body.get("embeds") or [],
                   components=call.body.get("components") or [],
                   allowed_mentions=call.body.get("allowed_mentions"))
        self.messages[msg["id"]] = msg
        await self._message_created(msg)  # the bot's own post comes back over the gateway
        return _json(msg)

    async def _unknown(self, request: web.Request) -> web.Response:
        await self._call(request, 404)
        return self._error(404, 0, f"404: Not Found ({request.method} {request.path})")


@asynccontextmanager
async def running() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord. The adapter points discord.py's module-wide API and gateway
    URLs at it; they are put back afterwards, so one test's fake never leaks into the next."""
    import discord

    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake = await FakeDiscord().start()
    try:
        yield fake
    finally:
        await fake.close()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
