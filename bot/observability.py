"""Logs and metrics: one structured line per command, Prometheus counters, no secrets.

`setup_logging` puts one handler on the root logger that prints key=value text (or JSON
when BRIEFBOT_LOG_JSON=1) and runs every record through `RedactingFilter`, so a token
never reaches the output even when a library logs a header. For `serve` (`queued=True`)
that handler only queues the record: a listener thread redacts, formats and writes it, off
the request path; `stop_logging` writes what is queued (at shutdown). The metrics live in
their own registry and are served by `metrics_handler` at GET /metrics; per command they
are plain counters, turned into Prometheus samples at scrape time.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import logging.handlers
import os
import queue
import re
import sys
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from pydantic import SecretStr

if TYPE_CHECKING:
    from bot.models import Result
    from bot.settings import Settings
    from handlers.context import AppContext
    from handlers.requests import CommandRequest

REDACTED = "[REDACTED]"

# --- redaction -------------------------------------------------------------------------

_TOKEN_PATTERNS = [
    re.compile(r"\bxox[a-z]-[A-Za-z0-9-]{6,}"),  # Slack bot/user/config tokens (xoxb-, xoxp-...)
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),  # Slack app-level token (Socket Mode)
    # Discord bot token: base64 user id . timestamp . HMAC
    re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"),
]
_AUTH_HEADER = re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]{16,}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+@")
_known_secrets: set[str] = set()
_SHORTEST_SECRET = 8  # nothing shorter matches a pattern above or is registered


def register_secret(value: str | SecretStr | None) -> None:
    """Redact this exact value too (signing secrets have no recognisable shape)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value and len(value) >= _SHORTEST_SECRET:
        _known_secrets.add(value)


def register_settings_secrets(settings: Settings) -> None:
    """Every SecretStr field of the settings (URL passwords are caught by pattern)."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            register_secret(value)


_ANY_TOKEN = re.compile("|".join(
    p.pattern for p in (*_TOKEN_PATTERNS, _AUTH_HEADER, _URL_PASSWORD)))


def redact(text: str) -> str:
    """Replace anything that looks like a token, password in a URL, or known secret."""
    if len(text) < _SHORTEST_SECRET:  # most log fields ("slack", "ask", "ok"): nothing to hide
        return text
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if _ANY_TOKEN.search(text) is None:  # one scan instead of five for the usual line
        return text
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def _clean_value(value: Any) -> Any:
    """An extra field without secrets; containers are cleaned item by item."""
    kind = type(value)
    if kind is str:  # the usual field first
        return redact(value)
    if kind is int or kind is float or value is None:
        return value
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {key: _clean_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean_value(item) for item in value]
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Rewrites each record so the message, extras and traceback carry no secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep the raw text
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key in _extra_keys(record):
            record.__dict__[key] = _clean_value(record.__dict__[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# --- formatting ------------------------------------------------------------------------

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName"}


def _extra_keys(record: logging.LogRecord) -> list[str]:
    """The `extra=` fields of a record (found once, by the filter, and kept on the record)."""
    keys = record.__dict__.get("_extra_keys")
    if keys is None:
        keys = [k for k in record.__dict__ if k not in _STANDARD_ATTRS and not k.startswith("_")]
        record.__dict__["_extra_keys"] = keys
    return keys


_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second."""
    global _second
    whole = int(record.created)
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{_second[1]}{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    """The record as ordered fields: ts, level, logger, msg, the extras, then exc."""
    fields: dict[str, Any] = {
        "ts": _timestamp(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key in _extra_keys(record):
        fields[key] = record.__dict__[key]
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    if record.exc_text:
        fields["exc"] = record.exc_text
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


_BARE = re.compile(r"^[A-Za-z0-9_.:/@+-]+$")


_bare = _BARE.match


def _logfmt_value(value: Any) -> str:
    kind = type(value)
    if kind is int or kind is float:  # digits, '.', '-', 'e', 'inf', 'nan': always bare
        return str(value)
    if value is None:
        return "-"
    if kind is bool:
        return "true" if value else "false"
    text = value if kind is str else str(value)
    if text and _bare(text):
        return text
    return json.dumps(text, ensure_ascii=False)  # quoted, newlines escaped: stays one line


_RENDERED_MAX = 4096
_rendered: dict[str, str] = {}
"""Short text values as logfmt writes them: most fields repeat ("slack", "ask", "answered"),
so each is matched and quoted once (cleared when full; safe to share between threads)."""


def _logfmt_text(text: str) -> str:
    out = _rendered.get(text)
    if out is None:
        out = text if text and _bare(text) else json.dumps(text, ensure_ascii=False)
        if len(text) <= 64:
            if len(_rendered) >= _RENDERED_MAX:
                _rendered.clear()
            _rendered[text] = out
    return out


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=briefbot.commands msg=command platform=slack ...`"""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join([f"{key}={_logfmt_text(value)}" if type(value) is str
                         else f"{key}={_logfmt_value(value)}"
                         for key, value in _fields(record, self).items()])


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers (BRIEFBOT_LOG_JSON=1)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def make_handler(*, json_mode: bool, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler with the right formatter and the redaction filter."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if json_mode else KeyValueFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("briefbot")
    return handler


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class _QueueHandler(logging.handlers.QueueHandler):
    """Puts the record itself on the queue: nothing is formatted on the caller's thread.

    The stock QueueHandler formats the message (and traceback) in `prepare`, on the request
    path; here the listener's handler does it, redaction filter first, as for every line.
    """

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(queue.SimpleQueue())
        self.target = target  # what the listener writes through (filter, formatter, stream)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


LOG_BATCH_S = 0.05
"""How long the listener lets lines pile up after the first one: one wake-up per batch."""


class BatchingListener(logging.handlers.QueueListener):
    """A QueueListener that writes in batches.

    The stock listener wakes for every record: with the server on one core that is a thread
    switch and two GIL hand-overs a request, which cost more than the line itself. This one
    waits LOG_BATCH_S after the first record, then redacts and formats everything queued
    (the target handler's filters and formatter, as for any line) and writes it at once.
    """

    def __init__(self, queue: queue.SimpleQueue[Any], handler: logging.StreamHandler,  # type: ignore[type-arg]
                 *, batch_s: float = LOG_BATCH_S) -> None:
        super().__init__(queue, handler, respect_handler_level=True)
        self.target = handler
        self.batch_s = batch_s

    def _monitor(self) -> None:
        q = self.queue
        while True:
            record = q.get()
            if record is not self._sentinel:
                time.sleep(self.batch_s)
            batch = [record]
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(q.get_nowait())
            done = any(r is self._sentinel for r in batch)
            self._write([r for r in batch if r is not self._sentinel])
            if done:
                return

    def _write(self, records: list[logging.LogRecord]) -> None:
        handler, lines = self.target, []
        for record in records:
            if record.levelno < handler.level or not handler.filter(record):
                continue
            try:
                lines.append(handler.format(record))
            except Exception:
                handler.handleError(record)
        if not lines:
            return
        with handler.lock:  # type: ignore[union-attr]
            try:
                stream = handler.stream
                stream.write("\n".join(lines) + handler.terminator)
                stream.flush()
            except Exception:
                handler.handleError(records[-1])


_listener: BatchingListener | None = None


def stop_logging() -> None:
    """Write every queued line and go back to writing on the caller's thread (shutdown).

    Safe to call more than once, and when logging was never queued.
    """
    global _listener
    listener, _listener = _listener, None
    if listener is None:
        return
    if listener._thread is not None:  # type: ignore[attr-defined]
        listener.stop()  # the thread writes what is queued, then exits
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _QueueHandler)]:
        root.removeHandler(old)
        root.addHandler(old.target)  # later lines (a test, an atexit hook) still print


atexit.register(stop_logging)


def _lean_records() -> None:
    """Skip what LogRecord looks up that no line of ours prints (the caller's file and line,
    a stack walk per record; thread and process names): the logging HOWTO's optimizations."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def setup_logging(
    level: str | None = None,
    json_mode: bool | None = None,
    *,
    stream: IO[str] | None = None,
    default_level: str = "INFO",
    queued: bool = False,
) -> logging.Handler:
    """Install (or replace) briefbot's root handler; safe to call more than once.

    Arguments left None come from BRIEFBOT_LOG_LEVEL / BRIEFBOT_LOG_JSON, so the CLI can
    set up logging before the settings (and their .env file) are loaded. The level goes on
    the handler; the root logger is only ever lowered, so other handlers lose nothing.
    `queued` (serve): the root handler only queues records, a listener thread writes them;
    call `stop_logging` at shutdown (also run at exit).
    """
    if level is None:
        level = os.environ.get("BRIEFBOT_LOG_LEVEL") or default_level
    if json_mode is None:
        json_mode = _env_flag("BRIEFBOT_LOG_JSON")
    stop_logging()
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "briefbot"]:
        root.removeHandler(old)
    numeric = logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):  # a typo in the environment must not stop the CLI
        numeric = logging.getLevelName(default_level.upper())
    handler = make_handler(json_mode=json_mode, stream=stream)
    handler.setLevel(numeric)
    if queued:
        global _listener
        _lean_records()
        writer = handler
        handler = _QueueHandler(writer)
        handler.set_name("briefbot")
        handler.setLevel(numeric)
        _listener = BatchingListener(handler.queue, writer)
        _listener.start()
    root.addHandler(handler)
    if root.level > numeric:
        root.setLevel(numeric)
    # our own namespace follows the level asked for, whatever a library set on it before
    logging.getLogger("briefbot").setLevel(numeric)
    return handler


# --- metrics ---------------------------------------------------------------------------

REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class CommandMetrics(Collector):
    """`briefbot_commands_total` and `briefbot_answer_latency_seconds` as plain counters.

    prometheus_client's Counter and Histogram take a lock and look up the labelled child on
    every call (about 5 µs a command here); these are dict and list increments on the event
    loop's thread (every dispatch runs there), turned into samples only when scraped.
    """

    def __init__(self) -> None:
        self.commands: dict[tuple[str, str], int] = {}
        # (platform, command) -> [count per bucket..., count above the last, sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}

    def observe(self, platform: str, command: str, outcome: str, seconds: float) -> None:
        key = (platform, outcome)
        self.commands[key] = self.commands.get(key, 0) + 1
        row = self.latency.get((platform, command))
        if row is None:
            row = self.latency[(platform, command)] = [0] * (len(LATENCY_BUCKETS) + 2)
        row[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # the first bucket with le >= seconds
        row[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        commands = CounterMetricFamily(
            "briefbot_commands",
            "Commands handled, by platform and outcome "
            "(answered, abstained, ok, user_error, error, refused).",
            labels=["platform", "outcome"])
        for (platform, outcome), count in sorted(self.commands.items()):
            commands.add_metric([platform, outcome], count)
        yield commands
        latency = HistogramMetricFamily(
            "briefbot_answer_latency_seconds",
            "Time from receiving a command to having its result, by platform and command.",
            labels=["platform", "command"])
        bounds = [*map(floatToGoString, LATENCY_BUCKETS), "+Inf"]
        for labels, row in sorted(self.latency.items()):
            counts, total, cumulative = row[:-1], row[-1], 0
            buckets = []
            for bound, count in zip(bounds, counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric(list(labels), buckets, total)
        yield latency


COMMAND_METRICS = CommandMetrics()
REGISTRY.register(COMMAND_METRICS)
BRIEFINGS_SENT = Counter(
    "briefbot_briefings_sent", "Scheduled briefings posted.", ["platform"], registry=REGISTRY
)
BRIEFINGS_FAILED = Counter(
    "briefbot_briefings_failed",
    "Scheduled briefings that could not be posted.",
    ["platform"],
    registry=REGISTRY,
)
INDEX_VERSION = Gauge(
    "briefbot_index_version", "Version of the live seed index (goes up on reload).",
    registry=REGISTRY,
)

_KNOWN_COMMANDS: frozenset[str] = frozenset(
    {"ask", "who", "brief", "reload", "gaps", "share", "vote", "help", "add"}
)


def briefing_sent(platform: str) -> None:
    """Count one posted briefing (called by the scheduler)."""
    BRIEFINGS_SENT.labels(platform=platform).inc()


def briefing_failed(platform: str) -> None:
    """Count one briefing that could not be posted (called by the scheduler)."""
    BRIEFINGS_FAILED.labels(platform=platform).inc()


def set_index_version(version: int) -> None:
    INDEX_VERSION.set(version)


def observe_command(req: CommandRequest, result: Result, outcome: str, latency_ms: float) -> None:
    """After-hook for `handlers.registry.dispatch`: count and time every command.

    Unknown command names are folded into "other" so a typo cannot grow the label set.
    """
    command = req.command if req.command in _KNOWN_COMMANDS else "other"
    COMMAND_METRICS.observe(req.platform, command, outcome, latency_ms / 1000)


_hook_installed = False


def install_command_metrics() -> None:
    """Register `observe_command` with the dispatcher once per process."""
    global _hook_installed
    if _hook_installed:
        return
    from handlers.registry import add_after_hook

    add_after_hook(observe_command)
    _hook_installed = True


def metrics_handler(ctx: AppContext) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics in the Prometheus text format; reads the index version at scrape time."""

    async def metrics(_: web.Request) -> web.Response:
        set_index_version(ctx.index.version)
        response = web.Response(body=generate_latest(REGISTRY))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return metrics


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """Current value of one sample (0 when absent); for tests and `briefbot doctor`."""
    value = REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


__all__ = [
    "REGISTRY",
    "JsonFormatter",
    "KeyValueFormatter",
    "RedactingFilter",
    "briefing_failed",
    "briefing_sent",
    "install_command_metrics",
    "metrics_handler",
    "redact",
    "register_secret",
    "register_settings_secrets",
    "setup_logging",
    "stop_logging",
]
