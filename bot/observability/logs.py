"""Logging setup: briefbot's root handler, and for `serve` a queue written by a thread.

`setup_logging` puts one handler on the root logger that prints key=value text (or JSON
when BRIEFBOT_LOG_JSON=1) and runs every record through `RedactingFilter`, so a token
never reaches the output even when a library logs a header. For `serve` (`queued=True`)
that handler only queues the record: a listener thread redacts, formats and writes it, off
the request path; `stop_logging` writes what is queued (at shutdown).
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
from bot.observability.redaction import RedactingFilter


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


__all__ = ["LOG_BATCH_S", "BatchingListener", "make_handler", "setup_logging", "stop_logging"]
