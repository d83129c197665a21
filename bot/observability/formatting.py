"""Log line formats: logfmt `key=value` text by default, one JSON object a line on request.

Both print the same ordered fields: ts (ISO 8601 UTC, milliseconds), level, logger, msg, the
record's `extra=` fields, then exc/stack. Values are written once per distinct short text.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from bot.observability.redaction import extra_keys

_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    return _timestamp_of(record.created, record.msecs)


def _timestamp_of(created: float, msecs: float) -> str:
    """ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{_second[1]}{int(msecs):03d}Z"


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    """The record as ordered fields: ts, level, logger, msg, the extras, then exc."""
    fields: dict[str, Any] = {
        "ts": _timestamp(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key in extra_keys(record):
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


def _info_fields(name: str, msg: str, extra: dict[str, Any], created: float) -> dict[str, Any]:
    """What `_fields` gives for the record of `logging.getLogger(name).info(msg, extra=extra)`
    made at `created`, once redacted (the caller has redacted msg and the extras)."""
    msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes it
    return {"ts": _timestamp_of(created, msecs), "level": "info", "logger": name, "msg": msg,
            **extra}


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=briefbot.commands msg=command platform=slack ...`"""

    def format(self, record: logging.LogRecord) -> str:
        return self.join(_fields(record, self))

    @staticmethod
    def join(fields: dict[str, Any]) -> str:
        return " ".join([f"{key}={_logfmt_text(value)}" if type(value) is str
                         else f"{key}={_logfmt_value(value)}"
                         for key, value in fields.items()])

    def format_info(self, name: str, msg: str, extra: dict[str, Any], created: float) -> str:
        """The line of an INFO record (msg and extras already redacted), without the record."""
        return self.join(_info_fields(name, msg, extra, created))


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers (BRIEFBOT_LOG_JSON=1)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), ensure_ascii=False, default=str)

    def format_info(self, name: str, msg: str, extra: dict[str, Any], created: float) -> str:
        """The line of an INFO record (msg and extras already redacted), without the record."""
        return json.dumps(_info_fields(name, msg, extra, created), ensure_ascii=False,
                          default=str)


__all__ = ["JsonFormatter", "KeyValueFormatter"]
