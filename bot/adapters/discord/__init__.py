"""Discord: discord.py 2.x application commands and messages over the platform-neutral
handlers.

One job a module: `settings` (the token's shape, URL overrides), `requests` (events →
requests, pure), `render` (results → embeds, pure), `interactions` (the replica claim and
error sentence every callback shares), `buttons`, `commands` (the command tree), `sync`
(registering the commands), `client` (the discord.py client and its intents), `messages`
(mentions, DMs and replies: the conversation part), `adapter` (DiscordAdapter, the
PlatformAdapter).
"""

from __future__ import annotations

from bot.adapters import Platform
from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.settings import apply_urls, discord_token
from bot.adapters.discord.sync import sync_commands_cli

__all__ = ["PLATFORM", "DiscordAdapter", "apply_urls", "discord_token", "sync_commands_cli"]

PLATFORM = Platform(
    name="discord",
    check_settings=discord_token,
    create=DiscordAdapter.from_settings,
    configured=lambda settings: settings.discord_token is not None,
)
