"""Logging setup: briefbot's root handler, and for `serve` a queue written by a thread.

`setup_logging` puts one handler on the root logger that prints key=value text (or JSON
when BRIEFBOT_LOG_JSON=1) and runs every record through `RedactingFilter`, so a token
never reaches the output even when a library logs a header. For `serve` (`queued=True`)
that handler only queues the record: a listener thread redacts, formats and writes it, off
the request path; `stop_logging` writes what is queued (at shutdown). `info_line` is
`logger.info(msg, extra=fields)` for the per-command line: when that queue is where the line
goes, even the LogRecord is made on the listener thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import logging.handlers
import os
import queue
import sys
import time
from typing import IO, Any

from bot.observability.formatting import JsonFormatter, KeyValueFormatter
from bot.observability.redaction import RedactingFilter, clean_fields


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


class _Deferred:
    """An INFO line whose LogRecord the listener makes (see `info_line`)."""

    __slots__ = ("created", "fields", "logger", "msg")

    def __init__(self, logger: logging.Logger, msg: str, fields: dict[str, Any],
                 created: float) -> None:
        self.logger, self.msg, self.fields, self.created = logger, msg, fields, created

    def line(self, formatter: KeyValueFormatter | JsonFormatter) -> str | None:
        """The line, straight from the fields: what RedactingFilter and `formatter` make of
        `record()` (None when only the record can tell, see `clean_fields`)."""
        cleaned = clean_fields(self.msg, self.fields)
        if cleaned is None:
            return None
        return formatter.format_info(self.logger.name, cleaned[0], cleaned[1], self.created)

    def record(self) -> logging.LogRecord:
        """The record `logger.info(msg, extra=fields)` would have made at `created`."""
        logger, ct = self.logger, self.created
        record = logger.makeRecord(logger.name, logging.INFO, "(unknown file)", 0, self.msg,
                                   (), None, "(unknown function)", self.fields)
        record.created = ct
        record.msecs = int((ct - int(ct)) * 1000) + 0.0
        record.relativeCreated = (ct - logging._startTime) * 1000  # type: ignore[attr-defined]
        return record


_queued: _QueueHandler | None = None
"""serve's root handler while its listener runs: `info_line` may queue a `_Deferred`."""


def _only_to(logger: logging.Logger, handler: _QueueHandler) -> bool:
    """Whether a record of `logger` would reach `handler` and nothing else, untouched: no
    filters or other handlers on the way (a test's caplog, a library's handler)."""
    node: logging.Logger | None = logger
    while node is not None:
        if node.filters or node.disabled:
            return False
        if node.handlers:
            return (node.parent is None and len(node.handlers) == 1
                    and node.handlers[0] is handler)
        if not node.propagate:
            return False
        node = node.parent
    return False


def info_line(logger: logging.Logger, msg: str, fields: dict[str, Any]) -> None:
    """`logger.info(msg, extra=fields)`, for a line written once per command.

    Under `serve` the LogRecord (about 15 µs on the event loop, more in cache misses) is
    made on the listener thread from the fields queued here, when the queue is the only
    place the line would go; it is the same record, filtered and formatted the same way,
    with the time of this call. Anywhere else, a plain `logger.info`.
    """
    handler = _queued
    if (handler is not None and logger.isEnabledFor(logging.INFO)
            and handler.level <= logging.INFO and not handler.filters
            and logging.getLogRecordFactory() is logging.LogRecord
            and _only_to(logger, handler)):
        handler.queue.put_nowait(_Deferred(logger, msg, fields, time.time()))
        return
    logger.info(msg, extra=fields)


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

    def _write(self, records: list[logging.LogRecord | _Deferred]) -> None:
        handler, lines = self.target, []
        direct = _direct_formatter(handler)
        for item in records:
            try:
                if type(item) is _Deferred:
                    line = item.line(direct) if direct is not None else None
                    if line is not None:
                        lines.append(line)
                        continue
                    record = item.record()
                else:
                    record = item  # type: ignore[assignment]
            except Exception:  # a field clashing with a LogRecord attribute, say
                handler.handleError(logging.makeLogRecord({"msg": "could not log a line"}))
                continue
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
                handler.handleError(record)


def _direct_formatter(handler: logging.Handler) -> KeyValueFormatter | JsonFormatter | None:
    """The formatter that may write a `_Deferred` line without its record: briefbot's own
    handler (INFO lines pass, one RedactingFilter, our formatter), else None."""
    formatter = handler.formatter
    if (handler.level <= logging.INFO and len(handler.filters) == 1
            and type(handler.filters[0]) is RedactingFilter
            and type(formatter) in (KeyValueFormatter, JsonFormatter)):
        return formatter  # type: ignore[return-value]
    return None


_listener: BatchingListener | None = None


def stop_logging() -> None:
    """Write every queued line and go back to writing on the caller's thread (shutdown).

    Safe to call more than once, and when logging was never queued.
    """
    global _listener, _queued
    _queued = None  # info_line logs directly from now on
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
        global _listener, _queued
        _lean_records()
        writer = handler
        handler = _QueueHandler(writer)
        handler.set_name("briefbot")
        handler.setLevel(numeric)
        _listener = BatchingListener(handler.queue, writer)
        _listener.start()
        _queued = handler
    root.addHandler(handler)
    if root.level > numeric:
        root.setLevel(numeric)
    # our own namespace follows the level asked for, whatever a library set on it before
    logging.getLogger("briefbot").setLevel(numeric)
    return handler


__all__ = ["LOG_BATCH_S", "BatchingListener", "info_line", "make_handler", "setup_logging",
           "stop_logging"]
