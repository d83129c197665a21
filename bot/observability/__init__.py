"""Logs and metrics: one structured line per command, Prometheus counters, no secrets.

One job a module:

- `redaction`: what must never be logged (token shapes, registered secrets) and the filter
  that removes it from every record;
- `formatting`: the key=value and JSON line formats;
- `logs`: briefbot's root handler, the queue and batching writer thread for `serve`,
  `setup_logging` / `stop_logging`;
- `metrics`: the Prometheus registry, command counters and latency, GET /metrics.

The names other modules use are re-exported here, so `from bot.observability import ...`
is the one import callers need. The metrics' names load on first use: they bring aiohttp and
prometheus_client, which the command line's logging does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.observability.formatting import JsonFormatter, KeyValueFormatter
from bot.observability.logs import (
    LOG_BATCH_S,
    BatchingListener,
    info_line,
    make_handler,
    setup_logging,
    stop_logging,
)
from bot.observability.redaction import (
    REDACTED,
    RedactingFilter,
    redact,
    register_secret,
    register_settings_secrets,
)

if TYPE_CHECKING:
    from bot.observability.metrics import (
        _KNOWN_COMMANDS,
        BRIEFINGS_FAILED,
        BRIEFINGS_SENT,
        COMMAND_METRICS,
        INDEX_VERSION,
        LATENCY_BUCKETS,
        REGISTRY,
        CommandMetrics,
        briefing_failed,
        briefing_sent,
        install_command_metrics,
        metrics_handler,
        observe_command,
        sample,
        set_index_version,
    )

_METRICS = frozenset({
    "_KNOWN_COMMANDS",
    "BRIEFINGS_FAILED",
    "BRIEFINGS_SENT",
    "COMMAND_METRICS",
    "INDEX_VERSION",
    "LATENCY_BUCKETS",
    "REGISTRY",
    "CommandMetrics",
    "briefing_failed",
    "briefing_sent",
    "install_command_metrics",
    "metrics_handler",
    "observe_command",
    "sample",
    "set_index_version",
})


def __getattr__(name: str) -> Any:
    """The metrics' names, imported from `metrics` on first use."""
    if name not in _METRICS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("bot.observability.metrics"), name)
    globals()[name] = value
    return value


__all__ = [
    "BRIEFINGS_FAILED",
    "BRIEFINGS_SENT",
    "COMMAND_METRICS",
    "INDEX_VERSION",
    "LATENCY_BUCKETS",
    "LOG_BATCH_S",
    "REDACTED",
    "REGISTRY",
    "_KNOWN_COMMANDS",
    "BatchingListener",
    "CommandMetrics",
    "JsonFormatter",
    "KeyValueFormatter",
    "RedactingFilter",
    "briefing_failed",
    "briefing_sent",
    "info_line",
    "install_command_metrics",
    "make_handler",
    "metrics_handler",
    "observe_command",
    "redact",
    "register_secret",
    "register_settings_secrets",
    "sample",
    "set_index_version",
    "setup_logging",
    "stop_logging",
]
