"""The buttons under answers: 'Share in channel' and 👍 / 👎.

They are dynamic items, dispatched by custom id, so a click works on any replica and after a
restart; each click is answered only by the replica that claims it.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.adapters.discord.interactions import claim_interaction, served_by

CUSTOM_ID_MAX = 100


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"bb:share:(?P<source>ask|who):(?P<answer_id>\w+):(?P<text>.*)", re.S),
):
    """'Share in channel': carries the question when it fits in the custom id (100 chars)."""

    def __init__(self, source: str, answer_id: str, text: str = "") -> None:
        custom_id = f"bb:share:{source}:{answer_id}:{text}"
        if len(custom_id) > CUSTOM_ID_MAX:
            custom_id = f"bb:share:{source}:{answer_id}:"  # the question waits in memory
        super().__init__(discord.ui.Button(
            label="Share in channel", style=discord.ButtonStyle.primary, custom_id=custom_id))
        self.source, self.answer_id, self.text = source, answer_id, text

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> ShareButton:
        return cls(match["source"], match["answer_id"], match["text"])

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter = served_by(interaction)
        await adapter.guarded(interaction, adapter.share(interaction, self.source,
                                                         self.answer_id, self.text))


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"bb:vote:(?P<direction>up|down):(?P<answer_id>\w+)"),
):
    """👍 / 👎 on an answer, for the curators' gap report."""

    def __init__(self, direction: str, answer_id: str) -> None:
        super().__init__(discord.ui.Button(
            emoji="👍" if direction == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"bb:vote:{direction}:{answer_id}"))
        self.direction, self.answer_id = direction, answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> VoteButton:
        return cls(match["direction"], match["answer_id"])

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter = served_by(interaction)
        await adapter.guarded(interaction, adapter.vote(interaction, self.direction,
                                                        self.answer_id))


def answer_view(answer_id: str, share: ShareButton | None = None) -> discord.ui.View:
    """The buttons under an answer: Share (when given), then 👍 and 👎."""
    view = discord.ui.View(timeout=None)
    if share is not None:
        view.add_item(share)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    # The buttons are dispatched by custom id (add_dynamic_items), so the view itself need
    # not be kept listening: stopping it keeps discord.py from holding a timer per message.
    view.stop()
    return view
