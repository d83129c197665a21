"""The discord.py client (our intents, command tree, buttons and message event) and logging in
with one-line errors."""

from __future__ import annotations

import aiohttp
import discord

from bot.adapters.discord.buttons import ShareButton, VoteButton
from bot.adapters.discord.commands import BriefTree, add_commands
from bot.adapters.discord.interactions import Serving
from bot.adapters.discord.render import NO_MENTIONS
from bot.errors import UserFacingError
from bot.settings import SettingsError

INTENTS = discord.Intents(guilds=True, guild_messages=True, dm_messages=True)
"""No privileged intent: interactions need none, and Discord sends the text of messages that
mention the bot and of DMs without message_content (the rest arrive empty)."""


class BriefClient(discord.Client):
    """A plain client with our command tree, buttons and message replies.

    `adapter` is None for a client that only syncs commands (`briefbot discord-sync`).
    """

    def __init__(self, adapter: Serving | None) -> None:
        # The bot never joins voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # No message cache: replies read what they need from the event itself.
        super().__init__(intents=INTENTS, allowed_mentions=NO_MENTIONS, max_messages=None)
        self.adapter = adapter
        self.tree = BriefTree(self)
        add_commands(self.tree)
        self.add_dynamic_items(ShareButton, VoteButton)

    async def on_message(self, message: discord.Message) -> None:
        if self.adapter is not None:
            await self.adapter.on_message(message)


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST, turning a rejected token or an unreachable API into one sentence."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise SettingsError(
            "DISCORD_TOKEN: Discord rejected the token (401); reset it on the developer "
            "portal's Bot page and set it again"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise UserFacingError(
            f"Cannot reach Discord's API at {discord.http.Route.BASE}: {exc}",
            hint="Check the network, or DISCORD_API_URL if you set it.",
        ) from None
