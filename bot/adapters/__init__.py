"""The platform registry: every chat platform briefbot can serve, found by name.

Adding a platform is a package under `bot/adapters/` exposing `PLATFORM` (a `Platform`,
below) and one line in `BUILT_IN`. Packages are imported only when their platform is used,
so `briefbot ask` never loads slack or discord.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.platform import PlatformAdapter


@dataclass(frozen=True)
class Platform:
    """A platform as the registry knows it: how to check its settings and make its adapter.

    `check_settings` runs before the index loads, so a missing or malformed token stops
    start-up at once with one line (SettingsError naming the variable).
    """

    name: str
    check_settings: Callable[[Settings], object]
    create: Callable[[AppContext], PlatformAdapter]
    configured: Callable[[Settings], bool]
    """Whether the settings turn this platform on when `serve` is given no platform flag."""


BUILT_IN: dict[str, str] = {
    "slack": "bot.adapters.slack",
    "discord": "bot.adapters.discord",
}
"""Platform name → the package whose `PLATFORM` describes it."""

_registered: dict[str, Platform] = {}


def register(platform: Platform) -> None:
    """Make a platform available by name (tests and plug-ins; built-ins are listed above)."""
    _registered[platform.name] = platform


def unregister(name: str) -> None:
    _registered.pop(name, None)


def names() -> list[str]:
    return sorted({*BUILT_IN, *_registered})


def get(name: str) -> Platform:
    """The platform called `name`, or SettingsError listing the known ones."""
    if name in _registered:
        return _registered[name]
    module = BUILT_IN.get(name)
    if module is None:
        raise SettingsError(f"unknown platform {name!r}; known: {', '.join(names())}")
    platform: Platform = importlib.import_module(module).PLATFORM
    _registered[name] = platform
    return platform


def configured(settings: Settings) -> list[str]:
    """The platforms to serve when none is named: BRIEFBOT_PLATFORMS, else every built-in
    whose token is set."""
    if settings.platforms:
        return list(settings.platforms)
    return [name for name in BUILT_IN if get(name).configured(settings)]
