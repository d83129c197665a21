"""Registering the commands with Discord: explicitly (`briefbot discord-sync [--guild ID]`),
or at start only when the command set changed since the last sync (Discord rate-limits
syncs). What was synced last is kept in `BRIEFBOT_DATA_DIR/discord-commands.json`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.client import BriefClient, login
from bot.adapters.discord.settings import apply_urls, discord_token
from bot.errors import UserFacingError
from bot.settings import Settings

SYNC_STATE_FILE = "discord-commands.json"


def command_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A fingerprint of what would be synced, to skip syncing an unchanged command set."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _state_path(data_dir: Path) -> Path:
    return data_dir / SYNC_STATE_FILE


def read_sync_state(data_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(_state_path(data_dir).read_text()))
    except (OSError, ValueError):
        return {}


def write_sync_state(data_dir: Path, state: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    _state_path(data_dir).write_text(json.dumps(state, indent=2) + "\n")


def is_synced(client: BriefClient, data_dir: Path) -> tuple[bool, str | None]:
    """Whether this application's command set is the one synced last, and the guild the last
    sync went to (None: globally, or another application's state)."""
    state = read_sync_state(data_dir)
    same_app = state.get("application_id") == str(client.application_id)
    if not same_app:
        return False, None
    return state.get("hash") == command_hash(client.tree), state.get("guild_id")


async def sync_commands(client: BriefClient, data_dir: Path, guild_id: str | None) -> int:
    """Register the commands (globally, or in one guild: instant) and remember the hash."""
    guild = discord.Object(int(guild_id)) if guild_id else None
    if guild is not None:
        client.tree.copy_global_to(guild=guild)
    synced = await client.tree.sync(guild=guild)
    write_sync_state(data_dir, {"application_id": str(client.application_id),
                                "guild_id": guild_id, "hash": command_hash(client.tree)})
    return len(synced)


def sync_commands_cli(settings: Settings, guild_id: str | None = None) -> int:
    """`briefbot discord-sync [--guild ID]`."""
    token = discord_token(settings)
    if guild_id is not None and not guild_id.isdigit():
        raise UserFacingError(
            f"--guild: expected a numeric guild id, got {guild_id!r}",
            hint="Turn on Developer Mode, right-click the server → Copy Server ID.")
    return asyncio.run(_sync_cli(settings, token, guild_id))


async def _sync_cli(settings: Settings, token: str, guild_id: str | None) -> int:
    apply_urls(settings)
    client = BriefClient(None)
    try:
        await login(client, token)
        count = await sync_commands(client, settings.data_dir, guild_id)
    except discord.Forbidden:
        print(f"briefbot: Discord refused the sync for guild {guild_id}: invite the bot there "
              "with the applications.commands scope first.", file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(f"briefbot: Discord refused the command sync ({exc.status}): {exc.text}",
              file=sys.stderr)
        return 1
    finally:
        await client.close()
    where = f"to guild {guild_id}" if guild_id else "globally"
    print(f"Synced {count} commands {where}.")
    return 0
