"""Stopping the process's background loops (the briefing scheduler, the feed poller) alike."""

from __future__ import annotations

import asyncio
import contextlib


async def stop_gracefully(task: asyncio.Task[None] | None, grace_s: float) -> None:
    """Let `task` finish the work in hand (up to `grace_s`), then cancel it and wait."""
    if task is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), grace_s)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
