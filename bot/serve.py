"""`briefbot serve`: one process, one event loop, the platforms asked for.

The entry point only; `bot/app.py` wires the running server (index, store, HTTP, adapters,
scheduler, shutdown) and `bot/platform.py` says what a platform adapter is.
"""

from __future__ import annotations

import asyncio

from bot.app import run_app
from bot.settings import Settings, SettingsError


def serve(settings: Settings, platforms: list[str]) -> int:
    if not platforms:
        raise SettingsError("serve: choose --slack, --discord or both "
                            "(or set BRIEFBOT_PLATFORMS)")
    return asyncio.run(run_app(settings, platforms))
