"""Discord events as the handlers understand them (pure: no network, no client state)."""

from __future__ import annotations

import re
from typing import Any

import discord

from handlers.conversation import MessageRequest
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


ANSWERED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
"""What people type; joins, pins, boosts and the like are Discord's own (system) messages."""


def message_key(message_id: int) -> str:
    """The conversation key of one channel message."""
    return f"discord:msg:{message_id}"


def conversation_keys(message: discord.Message, bot_id: int) -> tuple[str, str]:
    """Where a message's conversation is read from, and where it is kept afterwards.

    A DM is one conversation. In a channel every message of a chain is a key: the context
    after question U is kept under U's id, and (once posted, see messages.py) under the id
    of each part of the bot's answer A. So a reply to any message of the chain, U or A,
    continues from there by the id it replies to, whichever replica gets it, and keeps the
    new context under its own id for the replies to come. When Discord resolved A and says
    which question A replied to, U's id is read instead: the same context, and no wait for
    A's copy (an answer posted a moment ago, or by an older briefbot).
    """
    if is_dm(message):
        key = f"discord:dm:{message.channel.id}"
        return key, key
    own = message_key(message.id)
    ref = message.reference
    if ref is None or ref.message_id is None:
        return own, own
    replied = ref.resolved
    if (isinstance(replied, discord.Message) and replied.author.id == bot_id
            and replied.reference is not None and replied.reference.message_id is not None):
        return message_key(replied.reference.message_id), own
    return message_key(ref.message_id), own


def guild_id_of(message: discord.Message) -> int | None:
    """The message's server; None in a DM. The channel knows it even when the guild itself
    is not (yet) in discord.py's cache."""
    if message.guild is not None:
        return message.guild.id
    channel = message.channel
    return channel.guild_id if isinstance(channel, discord.PartialMessageable) else None


def is_dm(message: discord.Message) -> bool:
    return isinstance(message.channel, discord.DMChannel) or guild_id_of(message) is None


def without_mention(text: str, bot_id: int) -> str:
    """The text with the bot's own mentions (`<@ID>`, `<@!ID>`) taken out."""
    return " ".join(re.sub(rf"<@!?{bot_id}>", " ", text).split())


def message_request(message: discord.Message, bot_id: int) -> MessageRequest | None:
    """The request for a message addressed to the bot, or None for one it must not answer:
    from a bot (itself included) or a webhook, a system message, a channel message that does
    not mention the bot, or one whose content Discord did not send (a reply that did not
    ping the bot: without the message-content intent its text is withheld)."""
    if message.author.bot or message.webhook_id is not None:
        return None
    if message.type not in ANSWERED_TYPES or not message.content:
        return None
    dm = is_dm(message)
    if not dm and not any(user.id == bot_id for user in message.mentions):
        return None
    conversation, remember_as = conversation_keys(message, bot_id)
    guild_id = guild_id_of(message)
    return MessageRequest(
        text=without_mention(message.content, bot_id),
        platform="discord",
        user_id=str(message.author.id),
        user_name=message.author.display_name,
        channel_id=str(message.channel.id),
        workspace_id=str(guild_id) if guild_id is not None else None,
        conversation=conversation,
        remember_as=remember_as,
        message_key=f"discord:{message.id}",
    )
