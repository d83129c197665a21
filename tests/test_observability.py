"""Log lines, token redaction and GET /metrics, through the real dispatcher and aiohttp."""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import make_web_app
from bot.engine.holder import IndexHolder
from bot.observability import (
    REDACTED,
    briefing_failed,
    briefing_sent,
    info_line,
    make_handler,
    register_secret,
    setup_logging,
    stop_logging,
)
from bot.settings import Settings
from handlers import AppContext, CommandRequest, dispatch

SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
DISCORD = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def light_ctx(tmp_path: Path) -> AppContext:
    """A context without an index: `help` needs none, so these tests stay fast."""
    settings = Settings(seeds_dir=tmp_path, data_dir=tmp_path, _env_file=None)
    return AppContext(settings=settings, index=IndexHolder(version=7))


def _command_lines(buffer: io.StringIO) -> list[str]:
    return [line for line in buffer.getvalue().splitlines() if "msg=command" in line
            or '"msg": "command"' in line]


async def test_one_key_value_line_per_command(light_ctx):
    buffer = io.StringIO()
    handler = make_handler(json_mode=False, stream=buffer)
    logger = logging.getLogger("briefbot.commands")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        req = CommandRequest(command="help", platform="slack", request_id="req-kv-1")
        await dispatch(req, light_ctx)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    [line] = _command_lines(buffer)
    assert "\n" not in line
    fields = dict(part.split("=", 1) for part in line.split(" "))
    assert fields["level"] == "info" and fields["logger"] == "briefbot.commands"
    assert fields["platform"] == "slack" and fields["command"] == "help"
    assert fields["intent"] == "notice" and fields["outcome"] == "ok"
    assert fields["request_id"] == "req-kv-1"
    assert float(fields["latency_ms"]) >= 0
    assert fields["ts"].endswith("Z")


async def test_json_mode_from_environment(light_ctx, monkeypatch):
    monkeypatch.setenv("BRIEFBOT_LOG_JSON", "1")
    buffer = io.StringIO()
    root = logging.getLogger()
    old_level = root.level
    handler = setup_logging("INFO", stream=buffer)
    try:
        await dispatch(CommandRequest(command="nope", platform="discord", request_id="r-j"),
                       light_ctx)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    [record] = [r for r in records if r["msg"] == "command"]
    assert record["platform"] == "discord" and record["command"] == "nope"
    assert record["outcome"] == "user_error" and record["intent"] == "-"
    assert record["request_id"] == "r-j" and isinstance(record["latency_ms"], float)
    assert record["level"] == "info" and record["logger"] == "briefbot.commands"


def test_setup_logging_replaces_its_own_handler():
    root = logging.getLogger()
    old_level = root.level
    first = setup_logging("INFO", False, stream=io.StringIO())
    second = setup_logging("WARNING", False, stream=io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
        assert second.level == logging.WARNING
    finally:
        root.removeHandler(second)
        root.setLevel(old_level)


def test_tokens_never_reach_the_output():
    buffer = io.StringIO()
    logger = logging.getLogger("briefbot.test.redaction")
    handler = make_handler(json_mode=False, stream=buffer)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    signing_secret = "8f742231b10e8888abcd99yyyzzz85a5"
    register_secret(SecretStr(signing_secret))
    try:
        logger.info("connecting with %s", SLACK_BOT)
        logger.info("headers: {'Authorization': 'Bot %s'}", DISCORD)
        logger.info("socket mode",
                    extra={"token": SLACK_APP, "secret": SecretStr("hunter2hunter2")})
        logger.info("signature checked with %s", signing_secret)
        logger.info("db at postgresql+asyncpg://briefbot:s3cretpass@db:5432/briefbot")
        logger.info("settings: %s", Settings(slack_bot_token=SLACK_BOT, _env_file=None))
        try:
            raise RuntimeError(f"auth failed for {SLACK_BOT}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = buffer.getvalue()
    for secret in (SLACK_BOT, SLACK_APP, DISCORD, signing_secret, "hunter2", "s3cretpass"):
        assert secret not in output
    assert output.count(REDACTED) >= 7
    assert "Bot [REDACTED]" in output and "briefbot:[REDACTED]@db" in output
    assert len(output.splitlines()) == 7  # the traceback stays on its line


def test_repeated_field_values_render_the_same_and_stay_redacted():
    """logfmt keeps the rendering of short values it has seen: the same value prints the same,
    quoted when it needs to be, and a secret registered later is still hidden in it."""
    buffer = io.StringIO()
    logger = logging.getLogger("briefbot.test.rendered")
    handler = make_handler(json_mode=False, stream=buffer)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    late_secret = "late-secret-0a1b2c3d4e5f6a7b8c9d"
    try:
        for _ in range(2):
            logger.info("line", extra={"plain": "answered", "spaced": "who is kim",
                                       "empty": "", "later": f"key={late_secret}",
                                       "long": "x y " * 40})
        register_secret(late_secret)
        logger.info("line", extra={"later": f"key={late_secret}"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second, third = buffer.getvalue().splitlines()
    assert first.split(" ", 1)[1] == second.split(" ", 1)[1]  # all but the timestamp
    assert ' plain=answered spaced="who is kim" empty="" ' in first
    assert f'later="key={late_secret}"' in first
    assert late_secret not in third and f"later={json.dumps('key=' + REDACTED)}" in third


def test_json_output_is_redacted_too():
    buffer = io.StringIO()
    logger = logging.getLogger("briefbot.test.redaction-json")
    handler = make_handler(json_mode=True, stream=buffer)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("token", extra={"token": SLACK_BOT, "n": 3,
                                    "headers": {"Authorization": f"Bearer {SLACK_BOT}"}})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    record = json.loads(buffer.getvalue())
    assert record["token"] == REDACTED and record["n"] == 3
    assert record["headers"] == {"Authorization": "Bearer [REDACTED]"}


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_endpoint_counts_commands(light_ctx):
    async with TestClient(TestServer(make_web_app(light_ctx, []))) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        before = _samples(await response.text())

        await dispatch(CommandRequest(command="help", platform="discord"), light_ctx)
        await dispatch(CommandRequest(command="nope", platform="discord"), light_ctx)
        briefing_sent("slack")
        briefing_failed("slack")
        light_ctx.index.version = 9

        after = _samples(await (await client.get("/metrics")).text())

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("briefbot_commands_total", platform="discord", outcome="ok") == 1
    assert moved("briefbot_commands_total", platform="discord", outcome="user_error") == 1
    assert moved("briefbot_answer_latency_seconds_count", platform="discord", command="help") == 1
    assert moved("briefbot_answer_latency_seconds_count", platform="discord",
                 command="other") == 1  # unknown names do not grow the label set
    assert moved("briefbot_briefings_sent_total", platform="slack") == 1
    assert moved("briefbot_briefings_failed_total", platform="slack") == 1
    assert _value(after, "briefbot_index_version") == 9


def test_queued_logging_is_redacted_and_written_by_shutdown():
    """serve's handler only queues records; the listener thread redacts and writes every
    line, and stop_logging writes what is still queued, then logs go out directly again."""
    buffer = io.StringIO()
    root = logging.getLogger()
    old_level = root.level
    handler = setup_logging("INFO", False, stream=buffer, queued=True)
    logger = logging.getLogger("briefbot.test.queued")
    try:
        assert isinstance(handler, logging.handlers.QueueHandler)
        for n in range(200):
            logger.info("line %d with %s", n, SLACK_BOT, extra={"token": SLACK_APP})
        stop_logging()
        lines = buffer.getvalue().splitlines()
        assert len(lines) == 200 and all("level=info" in line for line in lines)
        assert SLACK_BOT not in buffer.getvalue() and SLACK_APP not in buffer.getvalue()
        assert lines[-1].count(REDACTED) == 2
        assert handler not in root.handlers
        logger.warning("after shutdown %s", SLACK_BOT)  # written at once, still redacted
        assert buffer.getvalue().splitlines()[-1].endswith(f"msg=\"after shutdown {REDACTED}\"")
    finally:
        stop_logging()
        for h in [h for h in root.handlers if h.get_name() == "briefbot"]:
            root.removeHandler(h)
        root.setLevel(old_level)


@pytest.mark.parametrize("json_mode", [False, True])
def test_a_command_line_queued_as_fields_is_the_same_line(json_mode: bool):
    """info_line (the per-command line) queues only the fields under serve; the listener
    makes the very record logger.info would have (same fields, order, redaction, time),
    in order with the other lines. With any other handler on the way, it is logger.info."""
    buffer = io.StringIO()
    root = logging.getLogger()
    old_level, others = root.level, [h for h in root.handlers if h.get_name() != "briefbot"]
    for h in others:  # pytest's own capture handlers: the deferred path needs serve's setup
        root.removeHandler(h)
    logger = logging.getLogger("briefbot.test.deferred")
    fields = {"platform": "slack", "command": "ask", "latency_ms": 0.25, "outcome": "answered",
              "note": f"token {SLACK_BOT}", "none": None}
    try:
        setup_logging("INFO", json_mode, stream=buffer, queued=True)
        for n in range(50):
            info_line(logger, "command", {**fields, "n": n})
            logger.info("command", extra={**fields, "n": n})
        logger.debug("not written")
        stop_logging()  # writes what is still queued, the deferred lines too
        lines = buffer.getvalue().splitlines()
        assert len(lines) == 100
        if json_mode:
            parsed = [json.loads(line) for line in lines]
            pairs = [((a.pop("ts"), a), (b.pop("ts"), b))
                     for a, b in zip(parsed[::2], parsed[1::2], strict=True)]
            assert list(parsed[0]) == ["level", "logger", "msg", *fields, "n"]
            assert all(a[1]["n"] == n for n, (a, _) in enumerate(pairs))
        else:
            pairs = [(a.split(" ", 1), b.split(" ", 1))
                     for a, b in zip(lines[::2], lines[1::2], strict=True)]
            assert all(f" n={n} " in f"{a[1]} " for n, (a, _) in enumerate(pairs))
            assert ("level=info logger=briefbot.test.deferred msg=command platform=slack"
                    in lines[0])
        assert all(a[1] == b[1] for a, b in pairs)  # everything but the time
        assert all(a[0] <= b[0] for a, b in pairs)  # the time of the call, not of the write
        assert SLACK_BOT not in buffer.getvalue() and REDACTED in lines[0]

        captured: list[logging.LogRecord] = []
        tap = logging.Handler()
        tap.emit = captured.append  # type: ignore[method-assign]
        setup_logging("INFO", json_mode, stream=buffer, queued=True)
        logger.addHandler(tap)
        try:
            info_line(logger, "command", fields)  # someone else listens: a plain record
        finally:
            logger.removeHandler(tap)
        assert [r.getMessage() for r in captured] == ["command"]
        assert captured[0].outcome == "answered"  # type: ignore[attr-defined]
    finally:
        stop_logging()
        for h in [h for h in root.handlers if h.get_name() == "briefbot"]:
            root.removeHandler(h)
        for h in others:
            root.addHandler(h)
        root.setLevel(old_level)


def test_every_registered_command_has_its_own_metrics_label() -> None:
    from bot.observability import _KNOWN_COMMANDS
    from handlers.registry import HANDLERS

    assert set(HANDLERS) <= _KNOWN_COMMANDS


@pytest.mark.parametrize("module", ["redaction", "formatting", "logs", "metrics"])
def test_each_part_of_the_package_imports_alone(module: str) -> None:
    """One job a module, each importable by itself (no cycle through the package)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", f"import bot.observability.{module}"], check=True,
                   timeout=60)


def test_the_package_re_exports_its_parts() -> None:
    import importlib

    import bot.observability as package

    for name in package.__all__:
        value = getattr(package, name)
        homes = [m for m in ("redaction", "formatting", "logs", "metrics")
                 if getattr(importlib.import_module(f"bot.observability.{m}"), name, None)
                 is value]
        assert homes, name
