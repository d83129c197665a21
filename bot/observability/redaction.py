"""Redaction: no token, URL password or registered secret reaches a log line.

`RedactingFilter` runs on every record before it is formatted (on the handler, so a library's
records are cleaned too): message, `extra=` fields, traceback and stack. Tokens are caught by
their shape (Slack, Discord, `Bot`/`Bearer` headers, `scheme://user:password@`); secrets with
no shape (signing secrets) are registered from the settings with `register_settings_secrets`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "[REDACTED]"

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


def clean_fields(msg: str, extra: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """What `RedactingFilter` makes of `msg` and the `extra=` fields of a plain record (no
    arguments, traceback or stack), or None if a key is one a LogRecord would not take as
    an extra field (the record path decides then)."""
    for key in extra:
        if key in _STANDARD_ATTRS or key.startswith("_"):
            return None
    return redact(msg), {key: _clean_value(value) for key, value in extra.items()}


class RedactingFilter(logging.Filter):
    """Rewrites each record so the message, extras and traceback carry no secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep the raw text
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key in extra_keys(record):
            record.__dict__[key] = _clean_value(record.__dict__[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName"}


def extra_keys(record: logging.LogRecord) -> list[str]:
    """The `extra=` fields of a record (found once, by the filter, and kept on the record)."""
    keys = record.__dict__.get("_extra_keys")
    if keys is None:
        keys = [k for k in record.__dict__ if k not in _STANDARD_ATTRS and not k.startswith("_")]
        record.__dict__["_extra_keys"] = keys
    return keys


__all__ = ["REDACTED", "RedactingFilter", "clean_fields", "extra_keys", "redact", "register_secret",
           "register_settings_secrets"]
