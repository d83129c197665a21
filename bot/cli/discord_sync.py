"""`briefbot discord-sync`: register the slash commands with Discord."""

from __future__ import annotations

import argparse

from bot.cli.common import settings_for


def cmd_discord_sync(args: argparse.Namespace) -> int:
    from bot.adapters.discord import sync_commands_cli

    return sync_commands_cli(settings_for(args), guild_id=args.guild)


def register(sub: argparse._SubParsersAction) -> None:
    """discord-sync."""
    p = sub.add_parser("discord-sync", help="register the slash commands with Discord")
    p.add_argument("--guild", metavar="ID", help="sync to one guild (instant) instead of globally")
    p.set_defaults(func=cmd_discord_sync)
