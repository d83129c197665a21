"""Discord events as the handlers understand them (pure: no network, no client state)."""

from __future__ import annotations

from typing import Any

import discord

from handlers.requests import CommandRequest


def to_request(
    interaction: discord.Interaction[Any], command: str, text: str,
    options: dict[str, str] | None = None,
) -> CommandRequest:
    """Who asked, where and with which rights, as the handlers understand it."""
    perms = interaction.permissions  # resolved in the channel, sent with the interaction
    user = interaction.user
    return CommandRequest(
        command=command,
        text=text,
        platform="discord",
        user_id=str(user.id),
        user_name=user.display_name,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        workspace_id=str(interaction.guild_id) if interaction.guild_id else None,
        platform_admin=perms.administrator or perms.manage_guild,
        can_manage_channel=perms.administrator or perms.manage_channels,
        options=options or {},
    )
