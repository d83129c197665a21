"""Metrics: briefbot's Prometheus registry, its counters, and GET /metrics.

The metrics live in their own registry (with the process, platform and GC collectors) and
are served by `metrics_handler`; per command they are plain counters, turned into
Prometheus samples at scrape time (`CommandMetrics`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Protocol

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

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.models import Result


class Command(Protocol):
    """What the metrics read of a command (a `handlers.requests.CommandRequest`)."""

    platform: str
    command: str


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
    {"ask", "who", "brief", "reload", "gaps", "share", "vote", "help", "add", "remove",
     "message"}
)


def briefing_sent(platform: str) -> None:
    """Count one posted briefing (called by the scheduler)."""
    BRIEFINGS_SENT.labels(platform=platform).inc()


def briefing_failed(platform: str) -> None:
    """Count one briefing that could not be posted (called by the scheduler)."""
    BRIEFINGS_FAILED.labels(platform=platform).inc()


def set_index_version(version: int) -> None:
    INDEX_VERSION.set(version)


def observe_command(req: Command, result: Result, outcome: str, latency_ms: float) -> None:
    """After-hook for `handlers.registry.dispatch`: count and time every command.

    Unknown command names are folded into "other" so a typo cannot grow the label set.
    """
    command = req.command if req.command in _KNOWN_COMMANDS else "other"
    COMMAND_METRICS.observe(req.platform, command, outcome, latency_ms / 1000)


ObserveCommand = Callable[[Command, "Result", str, float], None]
_hook_installed = False


def install_command_metrics(add_after_hook: Callable[[ObserveCommand], None]) -> None:
    """Register `observe_command` with the dispatcher once per process (the wiring passes
    `handlers.registry.add_after_hook`: metrics sit below the handlers they count)."""
    global _hook_installed
    if _hook_installed:
        return
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


__all__ = ["BRIEFINGS_FAILED", "BRIEFINGS_SENT", "COMMAND_METRICS", "INDEX_VERSION",
           "LATENCY_BUCKETS", "REGISTRY", "CommandMetrics", "briefing_failed", "briefing_sent",
           "install_command_metrics", "metrics_handler", "observe_command", "sample",
           "set_index_version"]
