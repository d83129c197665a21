"""DISCORD_TOKEN's shape and the URL overrides (DISCORD_API_URL, DISCORD_GATEWAY_URL)."""

from __future__ import annotations

import re

import discord
import yarl

from bot.settings import Settings, SettingsError

# A bot token is three base64url parts: user id, timestamp, HMAC.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}")


def discord_token(settings: Settings) -> str:
    """DISCORD_TOKEN, checked for shape so a pasted mistake stops start-up with one line."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise SettingsError(
            "DISCORD_TOKEN: not set (copy the bot token from the Discord developer portal, "
            "Bot → Reset Token)"
        )
    token = settings.discord_token.get_secret_value().strip()
    if not TOKEN_RE.fullmatch(token):
        raise SettingsError(
            "DISCORD_TOKEN: malformed (expected the bot token from the developer portal's Bot "
            "page: three dot-separated parts, without a 'Bot ' prefix)"
        )
    return token


def apply_urls(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL (class-wide, before connecting)."""
    discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
