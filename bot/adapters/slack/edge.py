"""The front door of POST /slack/events: nothing unverified gets parsed, logged or dispatched.

`SlackEdge.admit` runs before slack-bolt sees a request. It reads the raw bytes, checks the
`X-Slack-Request-Timestamp` / `X-Slack-Signature` headers and the v0 signature over those
bytes (everything bolt's own check would: the same 5-minute window, the same HMAC; so the
adapter switches bolt's off), and only then decodes and parses the body (as bolt will).
Anything that fails gets 400 or 401 and at most one short WARNING line (reason, size,
remote address), rate-limited; the body itself never reaches a log. A client that hangs up
mid-upload is nobody's error.

`FrontDoor` is a bolt middleware for signed requests: a retried delivery is acked empty, a
`response_url` that is not Slack's
(or the fake's, in tests) is refused, and slash commands or buttons that are not ours get a
200 instead of bolt's 404 (which Slack shows users as `dispatch_failed`).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientPayloadError, web
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack.render import render
from bot.models import UserError

log = logging.getLogger("briefbot.slack")

MAX_SKEW_S = 300  # Slack's replay window for X-Slack-Request-Timestamp
SLACK_HOOKS = ("https", "hooks.slack.com", 443)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_COMMAND_NAME = re.compile(r"[a-z0-9_-]{1,32}")


class Throttle:
    """A token bucket for log lines: `burst` at once, then one every `every_s` seconds."""

    def __init__(self, *, burst: int = 5, every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.every_s, self.clock = burst, every_s, clock
        self.tokens = float(burst)
        self.last = clock()
        self.suppressed = 0

    def take(self) -> int | None:
        """None when the line must be dropped, else how many were dropped since the last."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) / self.every_s)
        self.last = now
        if self.tokens < 1:
            self.suppressed += 1
            return None
        self.tokens -= 1
        dropped, self.suppressed = self.suppressed, 0
        return dropped


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range or not a number
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def response_url_origins(api_url: str) -> frozenset[tuple[str, str, int]]:
    """Where a response_url may point: Slack's hooks host, and SLACK_API_URL's host (a fake
    Slack in tests, say), each with its scheme and port."""
    api = _origin(api_url)
    return frozenset({SLACK_HOOKS, *([api] if api else [])})


def _url_prefixes(origins: Collection[tuple[str, str, int]]) -> tuple[str, ...]:
    """`scheme://host[:port]/` for each origin: a URL starting with one of them is from that
    origin (urlsplit ends the host at the first '/'), without parsing it."""
    prefixes = []
    for scheme, host, port in origins:
        if not re.fullmatch(r"[a-z0-9.-]+", host) or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
            continue  # an IPv6 literal or anything odd: the full parse decides
        prefixes.append(f"{scheme}://{host}:{port}/")
        if _DEFAULT_PORTS.get(scheme) == port:
            prefixes.append(f"{scheme}://{host}/")
    return tuple(prefixes)


_prefixes_of: dict[frozenset[tuple[str, str, int]], tuple[str, ...]] = {}


def response_url_allowed(url: Any, origins: Collection[tuple[str, str, int]]) -> bool:
    if not isinstance(url, str):
        return False
    if isinstance(origins, frozenset):  # the usual URL is Slack's, in its usual spelling
        prefixes = _prefixes_of.get(origins)
        if prefixes is None:
            prefixes = _prefixes_of[origins] = _url_prefixes(origins)
        if url.startswith(prefixes):
            return True
    return _origin(url) in origins


def url_host(url: Any) -> str:
    """The host of a URL, for a log line (never its path or query: they carry a token)."""
    try:
        return (urlsplit(str(url)).hostname or "-")[:100]
    except ValueError:
        return "-"


def is_ssl_check(body: bytes) -> bool:
    """Slack's `ssl_check=1` probe of a slash command URL (a few bytes of form fields)."""
    if len(body) > 512 or b"ssl_check" not in body:
        return False
    try:
        return parse_qs(body.decode("ascii")).get("ssl_check") == ["1"]
    except (UnicodeDecodeError, ValueError):
        return False


class SlackEdge:
    """Checks each request to POST /slack/events before slack-bolt parses it."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.secret = signing_secret.encode()
        self.clock = clock
        # a flood of unsigned requests must not hide the lines about signed ones
        self.throttles = {False: Throttle(), True: Throttle()}

    def refuse(self, status: int, reason: str, request: web.Request, size: int | None, *,
               signed: bool) -> web.Response:
        """The answer to a refused request, with one short rate-limited WARNING."""
        self.warn(f"refused request: {reason}", signed=signed, remote=request.remote or "-",
                  size=size)
        body = "invalid request" if status == 401 else reason
        return web.json_response({"error": body}, status=status)

    def warn(self, what: str, *, signed: bool, **extra: Any) -> None:
        """One WARNING line, unless too many came lately (the next one counts those)."""
        dropped = self.throttles[signed].take()
        if dropped is None:
            return
        if dropped:
            extra["suppressed"] = dropped
        log.warning("slack: %s", what, extra=extra)

    def signature_problem(self, body: bytes, timestamp: str | None,
                          signature: str | None) -> tuple[int, str] | None:
        """Why the signature does not hold (status, reason), or None when it does."""
        if not timestamp or not signature:
            return 401, "not signed"
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return 400, "X-Slack-Request-Timestamp is not a number"
        if abs(self.clock() - int(timestamp)) > MAX_SKEW_S:
            return 401, "stale timestamp"
        # hmac.digest: OpenSSL's one-shot HMAC, a fraction of hmac.new(...).hexdigest()'s cost
        expected = b"v0=" + hmac.digest(self.secret, b"v0:" + timestamp.encode() + b":" + body,
                                        "sha256").hex().encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            return 401, "bad signature"
        return None

    async def admit(self, request: web.Request) -> AsyncBoltRequest | web.Response:
        """The request for bolt, or the response refusing it."""
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self.refuse(413, "body too large", request, request.content_length,
                               signed=False)
        except (ClientPayloadError, ConnectionError) as exc:  # the client went away
            log.info("slack: request body not received (%s)", type(exc).__name__,
                     extra={"remote": request.remote or "-"})
            return web.json_response({"error": "incomplete body"}, status=400)
        problem = self.signature_problem(body, request.headers.get("X-Slack-Request-Timestamp"),
                                         request.headers.get("X-Slack-Signature"))
        if problem is not None:
            if is_ssl_check(body):  # Slack's certificate probe: bolt answered it unsigned too
                return web.Response(status=200)
            return self.refuse(*problem, request, len(body), signed=False)
        try:  # signed by Slack; still parsed defensively, as bolt would parse it
            bolt_request = AsyncBoltRequest(body=body.decode("utf-8"),
                                            query=request.query_string,
                                            headers=request.headers)  # type: ignore[arg-type]
        except UnicodeDecodeError:
            return self.refuse(400, "body is not UTF-8", request, len(body), signed=True)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return self.refuse(400, "body is not a Slack payload", request, len(body),
                               signed=True)
        if not isinstance(bolt_request.body, dict):
            return self.refuse(400, "body is not a Slack payload", request, len(body),
                               signed=True)
        return bolt_request


def _ephemeral(result: UserError) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral",
                                                     **render(result)}),
                        headers={"content-type": "application/json"})


def unknown_command(name: str) -> UserError:
    shown = f" `/{name}`" if _COMMAND_NAME.fullmatch(name) else ""
    return UserError(message=f"Unknown command{shown}.",
                     hint="Try /ask help for what briefbot can do.")


class FrontDoor(AsyncMiddleware):
    """Signed requests that no listener of ours should run get a clear answer here.

    First, retries: Slack retries a delivery it thinks failed (X-Slack-Retry-Num over HTTP,
    `retry_attempt` in a Socket Mode envelope, which bolt turns into the same header); the
    first one already answered, so a retry is acked empty and never runs a listener (no
    second post). One middleware does both checks: each bolt middleware is a call and an await on
    every request.
    """

    def __init__(self, edge: SlackEdge, *, commands: Collection[str],
                 actions: Collection[str], response_origins: Collection[tuple[str, str, int]]
                 ) -> None:
        self.edge = edge
        self.commands = frozenset(commands)
        self.actions = frozenset(actions)
        self.origins = frozenset(response_origins)

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        retry = req.headers.get("x-slack-retry-num")
        if retry and retry[0] != "0":  # Socket Mode's first delivery says retry_attempt 0
            reason = req.headers.get("x-slack-retry-reason", ["-"])[0]
            log.info("slack: ignoring retried delivery",
                     extra={"retry_num": retry[0], "reason": reason})
            return BoltResponse(status=200, body="")
        body = req.body
        url = req.context.response_url
        if url is not None and not response_url_allowed(url, self.origins):
            self.edge.warn("refused request: response_url is not Slack's", signed=True,
                           host=url_host(url), type=str(body.get("type"))[:40],
                           command=str(body.get("command"))[:40])
            return BoltResponse(status=400, body={"error": "response_url is not Slack's"})
        kind = body.get("type")
        if kind is None:  # a slash command (every other payload has a type)
            name = str(body.get("command") or "").lstrip("/")
            if name not in self.commands:
                self.edge.warn("unknown command, answered with a hint", signed=True,
                               command=name[:40] or "-")
                return _ephemeral(unknown_command(name))
        elif kind == "block_actions":
            actions = body.get("actions")
            if not isinstance(actions, list) or not actions or not all(
                    isinstance(a, dict) and isinstance(a.get("action_id"), str)
                    and a["action_id"] in self.actions for a in actions):
                self.edge.warn("click on no button of briefbot's, acknowledged", signed=True)
                return BoltResponse(status=200, body="")
        return await next()
