"""What every interaction callback shares: the adapter serving it, the replica claim, and the
ephemeral error sentence.

Commands and buttons reach the adapter through `Serving`, the few methods they call, so they
never import the adapter module (which imports them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.adapters.discord.render import NO_MENTIONS, render_embeds
from bot.models import UserError

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger("briefbot.discord")

CLAIM_TIMEOUT = 1.5  # seconds of Discord's 3 a claim may take before we answer regardless


class Serving(Protocol):
    """The adapter as the client's commands, buttons and message event see it."""

    ctx: AppContext

    async def run(self, interaction: discord.Interaction[Any], command: str,
                  text: str) -> None: ...

    async def share(self, interaction: discord.Interaction[Any], source: str, answer_id: str,
                    text: str) -> None: ...

    async def vote(self, interaction: discord.Interaction[Any], direction: str,
                   answer_id: str) -> None: ...

    async def guarded(self, interaction: discord.Interaction[Any],
                      work: Awaitable[None]) -> None: ...

    async def on_message(self, message: discord.Message) -> None: ...


def served_by(interaction: discord.Interaction[Any]) -> Serving:
    """The adapter whose client received `interaction`."""
    adapter: Serving | None = getattr(interaction.client, "adapter", None)
    if adapter is None:
        raise RuntimeError("this client only syncs commands; it does not serve them")
    return adapter


async def claim_interaction(interaction: discord.Interaction[Any]) -> bool:
    """Whether this replica handles the interaction: the one that claims its id in a shared
    store first. Without a store, or with one only this process uses (SQLite), there is no
    one to race and no write is spent. A store that fails or is slow must not lose the
    user's interaction, so then we answer (another replica may too; Discord keeps the first).
    """
    adapter: Serving | None = getattr(interaction.client, "adapter", None)
    store = adapter.ctx.store if adapter is not None else None
    if store is None or not store.shared:  # no store, or one only this process uses
        return True
    try:
        won = await asyncio.wait_for(store.claim_once(f"interaction:discord:{interaction.id}"),
                                     CLAIM_TIMEOUT)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200] or "no detail"
        log.warning("could not claim a discord interaction in the store (%s: %s); "
                    "answering it anyway", type(exc).__name__, reason,
                    extra={"platform": "discord", "interaction": interaction.id})
        return True
    if not won:
        log.debug("discord interaction %s is answered by another replica", interaction.id)
    return bool(won)


async def send_error(interaction: discord.Interaction[Any], message: str) -> None:
    """A short ephemeral sentence, whether or not the interaction was answered already."""
    embeds = render_embeds(UserError(message=message))
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embeds=embeds, ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(embeds=embeds, ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
    except Exception:  # the last resort: nothing more can reach this user
        log.warning("could not tell the user about an error", exc_info=True)
