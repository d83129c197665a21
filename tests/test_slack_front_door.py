"""POST /slack/events under hostile or broken requests, over the wire (issue 12, "Requests
nobody signed"): the real aiohttp route and slack-bolt, a fake Slack on 127.0.0.1.

Unverified bodies never reach a log; malformed requests get 400/401 and one WARNING (not a
500 and a traceback); signed requests for no command of ours get an answer, not bolt's 404;
and a response_url that is not Slack's is never called.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.adapters.slack.edge import Throttle, response_url_allowed, response_url_origins
from bot.adapters.slack.render import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.models import Notice
from tests.fake_slack import FakeSlack, block_action_payload, form, slash_payload
from tests.test_slack_http import SECRET, handler, serve_http

MARK = "leak-7f3a9c"  # in every body below; must never show up in a log record
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def trap():
    """A second server on 127.0.0.1 (another port): a response_url must never reach it."""
    trap = await FakeSlack().start()
    yield trap
    await trap.close()


@pytest.fixture
async def served(ctx, fake):
    client, adapter = await serve_http(ctx, fake)
    yield client, adapter
    await client.close()
    await adapter.stop()


@pytest.fixture
def http(served) -> TestClient:
    return served[0]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything, from DEBUG up. Ask for it before the server: slack-bolt copies the root
    level onto its loggers when the app is built."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="briefbot")
    return caplog


def sign(body: bytes, *, secret: str = SECRET, timestamp: str | None = None,
         content_type: str = FORM) -> dict[str, str]:
    ts = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": content_type}


async def send(client: TestClient, body: bytes | str, headers: dict[str, str]):
    data = body.encode() if isinstance(body, str) else body
    return await client.post("/slack/events", data=data, headers=headers)


async def send_signed(client: TestClient, body: str, **kw: Any):
    return await send(client, body, sign(body.encode(), **kw))


def leaks(caplog: pytest.LogCaptureFixture, needle: str = MARK) -> list[str]:
    """Log records that carry `needle` anywhere (message, arguments, extras)."""
    return [f"{r.name}: {r.getMessage()[:120]}" for r in caplog.records
            if needle in r.getMessage() or needle in repr(r.__dict__)]


def at(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == level]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:120]}" for r in caplog.records
            if r.levelno >= logging.ERROR]


async def settle(fake: FakeSlack) -> None:
    """Give work scheduled after an ack the time to (wrongly) call out."""
    await asyncio.sleep(0.3)


# --- unverified bodies never reach a log ---------------------------------------------------

async def test_unsigned_bodies_never_reach_a_log(logs, http, fake):
    big = form({"command": "/ask", "text": MARK + "x" * 500_000,
                "response_url": fake.response_url(MARK)})
    statuses = [(await send(http, big, {"Content-Type": FORM})).status for _ in range(20)]
    # a real body signed with another secret (a secret rotation): its response_url too
    real = form(slash_payload("/ask", "who is Tertitskiy", response_url=fake.response_url(MARK)))
    statuses.append((await send_signed(http, real, secret="the-old-secret")).status)
    statuses.append((await send(http, MARK * 200_000, {"Content-Type": FORM})).status)  # > 1 MiB
    assert statuses == [401] * 21 + [413]
    assert leaks(logs) == []
    warnings = at(logs, logging.WARNING)
    assert 1 <= len(warnings) <= 5  # rate-limited: not one line a request
    first = warnings[0]
    assert len(first.getMessage()) < 100 and "not signed" in first.getMessage()
    assert first.size == len(big.encode()) and first.remote == "127.0.0.1"  # type: ignore[attr-defined]
    assert errors(logs) == [] and fake.responses == []
    assert {c.method for c in fake.calls} == {"auth.test"}


async def test_ssl_check_is_still_answered(logs, http):
    """Slack probes a slash command URL with `ssl_check=1`; bolt answered it before checking
    the signature, and so does the edge (with nothing run and nothing logged)."""
    resp = await send(http, "ssl_check=1&token=legacy", {"Content-Type": FORM})
    assert resp.status == 200 and await resp.text() == ""
    assert at(logs, logging.WARNING) == [] and errors(logs) == []
    big = "ssl_check=1&text=" + MARK * 100
    assert (await send(http, big, {"Content-Type": FORM})).status == 401


async def test_a_bad_signature_runs_nothing_and_logs_no_body(logs, http, fake):
    """The edge is the only signature check (bolt's own is off, see edge.py): a wrong secret,
    a stale timestamp or a missing signature over the wire gets 401, runs no listener, posts
    nothing and logs no body."""
    body = form(slash_payload("/ask", "who is " + MARK, response_url=fake.response_url(MARK)))
    stale = sign(body.encode(), timestamp=str(int(time.time()) - 301))  # signed, but too old
    statuses = [(await send_signed(http, body, secret="wrong")).status,
                (await send(http, body, stale)).status,
                (await send(http, body, {"Content-Type": FORM,
                                         "X-Slack-Request-Timestamp": str(int(time.time()))}
                            )).status]
    await settle(fake)
    assert statuses == [401, 401, 401]
    assert leaks(logs) == [] and errors(logs) == [] and fake.responses == []
    assert {c.method for c in fake.calls} == {"auth.test"}


def test_throttle_lets_a_burst_through_then_counts_what_it_drops():
    now = [0.0]
    throttle = Throttle(burst=2, every_s=10.0, clock=lambda: now[0])
    assert [throttle.take() for _ in range(5)] == [0, 0, None, None, None]
    now[0] = 10.0
    assert throttle.take() == 3 and throttle.take() is None


# --- malformed requests: 400/401 and one WARNING, never a 500 -----------------------------

BAD_UTF8 = b"command=%2Fask&text=" + MARK.encode() + b"\xff\xfe\xc3"


@pytest.mark.parametrize(("body", "headers", "statuses"), [
    pytest.param(BAD_UTF8, lambda: sign(BAD_UTF8), {400}, id="signed-invalid-utf8"),
    pytest.param(BAD_UTF8, {"Content-Type": FORM}, {401}, id="unsigned-invalid-utf8"),
    pytest.param(b'{"a":', lambda: sign(b'{"a":', content_type="application/json"), {400},
                 id="signed-truncated-json"),
    pytest.param(b'{"a":', {"Content-Type": "application/json"}, {401},
                 id="unsigned-truncated-json"),
    pytest.param(b"[1]", lambda: sign(b"[1]", content_type="application/json"), {400},
                 id="signed-json-array"),
    pytest.param(b'"' + MARK.encode() + b'"',
                 lambda: sign(b'"' + MARK.encode() + b'"', content_type="application/json"),
                 {400},
                 id="signed-json-string"),
    pytest.param(b"payload=%5B1%5D", lambda: sign(b"payload=%5B1%5D"), {400},
                 id="signed-payload-array"),
    pytest.param(b'{"team": 5, "text": "' + MARK.encode() + b'"}',
                 lambda: sign(b'{"team": 5, "text": "' + MARK.encode() + b'"}',
                              content_type="application/json"), {400}, id="signed-odd-fields"),
    pytest.param(b"command=%2Fask&text=" + MARK.encode(),
                 lambda: sign(b"command=%2Fask&text=" + MARK.encode(), timestamp="abc"),
                 {400, 401},
                 id="non-numeric-timestamp"),
    pytest.param(b"command=%2Fask", lambda: sign(b"command=%2Fask", timestamp="1_7e9"),
                 {400, 401}, id="underscored-timestamp"),
    pytest.param(b"command=%2Fask",
                 lambda: {**sign(b"command=%2Fask"), "X-Slack-Signature": "v0=\u00e9"},
                 {401}, id="non-ascii-signature"),
])
async def test_malformed_request_is_refused_with_one_warning(logs, http, fake, body, headers,
                                                             statuses):
    # signed when the test runs, not when it is collected: a long suite would make the
    # timestamp older than Slack's five minutes and the request 401 for the wrong reason
    resp = await send(http, body, headers() if callable(headers) else headers)
    assert resp.status in statuses
    assert errors(logs) == []
    assert len(at(logs, logging.WARNING)) == 1
    assert leaks(logs) == []
    assert {c.method for c in fake.calls} == {"auth.test"} and fake.responses == []


@pytest.mark.parametrize("signed", [False, True])
async def test_client_hanging_up_mid_upload_is_not_an_error(logs, http, fake, signed):
    body = ("command=%2Fask&text=" + MARK).encode()
    headers = sign(body) if signed else {"Content-Type": FORM}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    _, writer = await asyncio.open_connection(http.host, http.port)
    writer.write(f"POST /slack/events HTTP/1.1\r\nHost: x\r\n{head}Content-Length: 100000\r\n"
                 f"\r\n".encode() + body)
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    answer = await send_signed(http, form(slash_payload("/ask", "who is Tertitskiy",
                                                        response_url=fake.response_url())))
    assert answer.status == 200  # and the server carries on
    assert errors(logs) == [] and at(logs, logging.WARNING) == [] and leaks(logs) == []


# --- signed, but for nothing of ours -------------------------------------------------------

def _without_command(fake: FakeSlack) -> dict[str, str]:
    fields = slash_payload("/ask", "hello", response_url=fake.response_url())
    del fields["command"]
    return fields


@pytest.mark.parametrize("fields", [
    lambda fake: slash_payload("/nope", "hello", response_url=fake.response_url()),
    lambda fake: slash_payload("/share", "hello", response_url=fake.response_url()),
    _without_command,
], ids=["unknown", "internal-handler-name", "no-command"])
async def test_unknown_or_missing_command_gets_a_private_hint(logs, http, fake, fields):
    resp = await send_signed(http, form(fields(fake)))
    assert resp.status == 200
    message = await resp.json()
    assert message["response_type"] == "ephemeral"
    assert message["text"].startswith("Unknown command")
    assert "/ask help" in json.dumps(message)
    await settle(fake)
    assert errors(logs) == [] and fake.responses == []
    assert {c.method for c in fake.calls} == {"auth.test"}


def _button(action_id: str, value: Any) -> dict[str, Any]:
    return {"action_id": action_id, "type": "button", "text": {"type": "plain_text", "text": "x"},
            "value": value if isinstance(value, str) else json.dumps(value)}


@pytest.mark.parametrize("button", [
    _button(VOTE_UP_ACTION, {"id": "a1", "q": MARK, "i": "who", "cites": [["doc", "two"]]}),
    _button(VOTE_DOWN_ACTION, {"id": "a1", "q": MARK, "cites": "doc"}),
    _button(VOTE_DOWN_ACTION, {"id": "a1", "q": MARK, "cites": [["doc"]]}),
    _button(VOTE_UP_ACTION, "not json " + MARK),
    _button(SHARE_ACTION, "[1, 2]"),
    _button(SHARE_ACTION, "{" + MARK),
], ids=["citation-not-a-number", "cites-not-a-list", "citation-not-a-pair",
        "vote-not-json", "share-not-an-object", "share-not-json"])
async def test_malformed_button_value_is_acked_with_one_warning(logs, http, fake, button):
    seen: list[str] = []

    async def probe(req, ctx):
        seen.append(req.command)
        return Notice(text="done")

    payload = block_action_payload(button, response_url=fake.response_url())
    with handler("vote", probe), handler("share", probe):
        resp = await send_signed(http, form({"payload": json.dumps(payload)}))
        await settle(fake)
    assert resp.status == 200
    assert errors(logs) == []
    [warning] = at(logs, logging.WARNING)
    assert "malformed button" in warning.getMessage()
    assert seen == [] and fake.responses == [] and fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("actions", [
    [_button("someone_elses_button", "1")],
    [_button(["a", "list"], "1")],  # type: ignore[arg-type]
    [],
    "not a list",
], ids=["other-app", "action-id-not-a-string", "no-actions", "actions-not-a-list"])
async def test_click_on_a_button_that_is_not_ours_is_acked(logs, http, fake, actions):
    payload = {**block_action_payload(_button(VOTE_UP_ACTION, "{}"),
                                      response_url=fake.response_url()), "actions": actions}
    resp = await send_signed(http, form({"payload": json.dumps(payload)}))
    assert resp.status == 200 and errors(logs) == [] and len(at(logs, logging.WARNING)) == 1


# --- response_url: Slack's, or nobody's ----------------------------------------------------

FOREIGN = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://hooks.slack.com.evil.example/commands/T1/1/x",
    "http://hooks.slack.com/commands/T1/1/x",  # not https
    "https://hooks.slack.com:8443/commands/T1/1/x",
    "not a url",
]


@pytest.mark.parametrize("where", ["trap", *FOREIGN])
async def test_slow_command_with_foreign_response_url_is_refused(logs, http, fake, trap, where):
    url = trap.response_url(MARK) if where == "trap" else where
    fake.users["U1"] = {"is_admin": True}
    with handler("reload", _fail_if_run):
        resp = await send_signed(http, form(slash_payload("/reload", "", response_url=url)))
        await settle(fake)
    assert resp.status == 400
    assert trap.responses == [] and fake.responses == []
    assert fake.calls_to("users.info") == []  # no work was started for it
    [warning] = at(logs, logging.WARNING)
    assert "response_url" in warning.getMessage()
    assert MARK not in repr(warning.__dict__)  # the host at most, never the path
    assert errors(logs) == []


async def _fail_if_run(req, ctx):
    raise AssertionError("a request with a foreign response_url was run")


async def test_click_with_foreign_response_url_is_refused(logs, http, fake, trap):
    answer = await (await send_signed(http, form(slash_payload(
        "/ask", "who is Tertitskiy", response_url=fake.response_url())))).json()
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    vote = next(e for e in actions["elements"] if e["action_id"] == VOTE_UP_ACTION)
    payload = block_action_payload(vote, response_url=trap.response_url("vote"))
    resp = await send_signed(http, form({"payload": json.dumps(payload)}))
    await settle(fake)
    assert resp.status == 400 and trap.responses == [] and fake.responses == []
    assert len(at(logs, logging.WARNING)) == 1 and errors(logs) == []


async def test_slack_and_fake_response_urls_still_answer(http, fake):
    """The fake's own response_url (the host of SLACK_API_URL) keeps working."""
    with handler("reload", lambda req, ctx: _notice()):
        body = form(slash_payload("/reload", "", response_url=fake.response_url()))
        await send_signed(http, body)
        _, message = await fake.wait_for(lambda: fake.responses and fake.responses[-1])
    assert message["text"] == "ok"


async def _notice() -> Notice:
    return Notice(text="ok")


def test_response_url_origins():
    origins = response_url_origins("https://slack.com/api/")
    assert response_url_allowed("https://hooks.slack.com/commands/T1/2/abc", origins)
    assert response_url_allowed("https://HOOKS.slack.com:443/actions/T1/2/abc", origins)
    assert response_url_allowed("https://slack.com/x", origins)
    for url in [*FOREIGN, "https://slack.com.evil.example/x", None, 5, "https://hooks.slack.com:99999/"]:
        assert not response_url_allowed(url, origins), url
    fake = response_url_origins("http://127.0.0.1:4567/api/")
    assert response_url_allowed("http://127.0.0.1:4567/response/r1", fake)
    assert not response_url_allowed("http://127.0.0.1:4568/response/r1", fake)


def test_response_url_shortcut_agrees_with_the_full_parse():
    """A URL spelled as an allowed origin's `scheme://host[:port]/` is accepted without parsing;
    every other spelling is parsed, and both must always give the same answer."""
    from bot.adapters.slack.edge import _origin

    origins = response_url_origins("http://127.0.0.1:4567/api/")
    ipv6 = response_url_origins("http://[::1]:4567/api/")
    urls = ["https://hooks.slack.com/commands/T1/2/abc", "https://hooks.slack.com:443/x",
            "https://hooks.slack.com/@evil.example/", "https://hooks.slack.com:443@evil.example/",
            "https://hooks.slack.com.evil.example/x", "https://hooks.slack.com\t.evil.example/",
            "http://hooks.slack.com/x", "https://hooks.slack.com:80/x", "HTTPS://Hooks.Slack.com/x",
            " https://hooks.slack.com/x", "https://hooks.slack.com", "https://evil.example/https://hooks.slack.com/",
            "http://127.0.0.1:4567/response/r1", "http://127.0.0.1/response", "http://127.0.0.1:45678/r",
            "http://[::1]:4567/r", "http://[::1]:4568/r", ""]
    for allowed in (origins, ipv6):
        for url in urls:
            assert response_url_allowed(url, allowed) == (_origin(url) in allowed), url
    assert response_url_allowed("https://hooks.slack.com:443/x", origins)
    assert response_url_allowed("http://[::1]:4567/r", ipv6)


async def test_a_retried_delivery_is_acked_empty_and_runs_nothing(logs, http, fake):
    """Slack's retry of a delivery it thinks failed: 200 with no body, no listener, no answer,
    one INFO line; checked before the response_url, so even a foreign one gets the empty ack."""
    for url in (fake.response_url(), FOREIGN[0]):
        body = form(slash_payload("/ask", "who is Tertitskiy", response_url=url))
        headers = {**sign(body.encode()), "X-Slack-Retry-Num": "1",
                   "X-Slack-Retry-Reason": "http_timeout"}
        answer = await send(http, body, headers)
        assert answer.status == 200 and await answer.text() == ""
    await settle(fake)
    assert fake.responses == [] and errors(logs) == [] and at(logs, logging.WARNING) == []
    ignored = [r for r in logs.records if r.getMessage() == "slack: ignoring retried delivery"]
    assert [(r.retry_num, r.reason) for r in ignored] == [("1", "http_timeout")] * 2
    assert not [r for r in logs.records if r.getMessage() == "command"]
