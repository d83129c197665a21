"""The slash commands (/ask, /who, /brief …, /reload, /add, /remove, /gaps), their
autocomplete, and the tree that turns every command error into a sentence."""

from __future__ import annotations

import logging
import zoneinfo
from functools import cache
from typing import Any

import discord
from discord import app_commands
from rapidfuzz import fuzz, process, utils

from bot.adapters.discord.interactions import claim_interaction, send_error, served_by
from handlers.errors import APOLOGY
from handlers.usage import MAX_QUESTION_CHARS

log = logging.getLogger("briefbot.discord")

DEFERRED = frozenset({"reload", "gaps", "brief", "add", "remove"})
"""Commands that may take longer than Discord's 3 s: "thinking…" first, then a follow-up."""
MAX_URL_CHARS = 2000


def best_matches(current: str, choices: list[str], limit: int = 25) -> list[str]:
    """Autocomplete: fuzzy substring matches (`ter` finds Fyodor Tertitskiy), best first."""
    current = current.strip()
    if not current:
        return choices[:limit]
    hits = process.extract(current, choices, scorer=fuzz.partial_ratio,
                           processor=utils.default_process, score_cutoff=75, limit=None)
    needle = current.casefold()

    def rank(hit: tuple[str, float, int]) -> tuple[float, bool, int]:
        words = hit[0].casefold().split()
        return (-hit[1], not any(w.startswith(needle) for w in words), hit[2])

    return [hit[0] for hit in sorted(hits, key=rank)[:limit]]


@cache
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _choices(names: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]


async def _who_autocomplete(interaction: discord.Interaction[Any],
                            current: str) -> list[app_commands.Choice[str]]:
    names = served_by(interaction).ctx.index.current.people_names()
    return _choices(best_matches(current, names))


async def _zone_autocomplete(interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
    return _choices(best_matches(current, _zones()))


def add_commands(tree: app_commands.CommandTree[Any]) -> None:
    """The command set: /ask, /who, /brief today|subscribe|unsubscribe|status, /reload, /add,
    /remove, /gaps."""

    async def run(interaction: discord.Interaction[Any], command: str, text: str) -> None:
        await served_by(interaction).run(interaction, command, text)

    @tree.command(name="ask", description="Ask a question about the articles")
    @app_commands.describe(question="e.g. who is <name> · summarize the articles · help")
    async def ask(interaction: discord.Interaction[Any],
                  question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        await run(interaction, "ask", question)

    @tree.command(name="who", description="A person's card: role, quotes, citations")
    @app_commands.describe(name="A name from the articles (type a few letters to pick one)")
    @app_commands.autocomplete(name=_who_autocomplete)
    async def who(interaction: discord.Interaction[Any],
                  name: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        await run(interaction, "who", name)

    brief = app_commands.Group(name="brief", description="The daily briefing for this channel")

    @brief.command(name="today", description="Show today's briefing")
    async def today(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "")

    @brief.command(name="subscribe", description="Post the briefing here every day")
    @app_commands.describe(time="Local time, HH:MM (24 h), e.g. 08:30",
                           zone="IANA time zone, e.g. Europe/Berlin (default: the server's)")
    @app_commands.autocomplete(zone=_zone_autocomplete)
    async def subscribe(interaction: discord.Interaction[Any], time: str,
                        zone: str | None = None) -> None:
        await run(interaction, "brief", " ".join(["subscribe", time.strip(), (zone or "").strip()])
                  .strip())

    @brief.command(name="unsubscribe", description="Stop the daily briefing in this channel")
    async def unsubscribe(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "unsubscribe")

    @brief.command(name="status", description="When the next briefing is posted here")
    async def status(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "status")

    tree.add_command(brief)

    @tree.command(name="reload", description="Admins: re-read the seed articles")
    @app_commands.default_permissions(manage_guild=True)
    async def reload(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "reload", "")

    @tree.command(name="add", description="Admins: add an article by its URL")
    @app_commands.describe(url="The article's address, e.g. https://www.example.com/news/…")
    @app_commands.default_permissions(manage_guild=True)
    async def add(interaction: discord.Interaction[Any],
                  url: app_commands.Range[str, 1, MAX_URL_CHARS]) -> None:
        await run(interaction, "add", url)

    @tree.command(name="remove", description="Admins: remove an article from the seeds")
    @app_commands.describe(article="Its URL, or its file in the seeds, e.g. harbour-bridge.md")
    @app_commands.default_permissions(manage_guild=True)
    async def remove(interaction: discord.Interaction[Any],
                     article: app_commands.Range[str, 1, MAX_URL_CHARS]) -> None:
        await run(interaction, "remove", article)

    @tree.command(name="gaps", description="Admins: questions the articles could not answer")
    @app_commands.default_permissions(manage_guild=True)
    async def gaps(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "gaps", "")


class BriefTree(app_commands.CommandTree):
    """Turns every command error into a sentence instead of "The application did not respond".

    Commands and autocomplete alike are answered only by the replica that claims them.
    """

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            message = ("This command changed since it was registered with Discord; "
                       "an admin should run `briefbot discord-sync`.")
        elif isinstance(error, app_commands.TransformerError):
            message = f"I could not read one of the options: {error}"
        else:
            log.error("discord command failed", exc_info=error,
                      extra={"platform": "discord", "interaction": interaction.id})
            message = APOLOGY
        await send_error(interaction, message)
