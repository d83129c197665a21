"""Render handler results as Discord embeds, within Discord's limits.

Pure: no network, no client. Text longer than a limit is split across fields, embeds and
messages (at paragraph, line, sentence or word boundaries), never cut off.
"""

from __future__ import annotations

import re

import discord

from bot.models import Answer, Briefing, Citation, Notice, Result, UserError

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10

COLOR_ANSWER = discord.Colour.blurple()
COLOR_ABSTAINED = discord.Colour.light_grey()
COLOR_BRIEFING = discord.Colour.teal()
COLOR_NOTICE = discord.Colour.dark_grey()
COLOR_ERROR = discord.Colour.red()

# Boundaries to split at, best first: paragraph, line, sentence end, any whitespace.
_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"),
           re.compile(r"\s+"))


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into stripped pieces of at most `limit` characters, losing no words."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = 0
        for pattern in _BREAKS:
            spots = [m for m in pattern.finditer(text, 0, limit + 1) if 0 < m.start() <= limit]
            if spots:
                last = spots[-1]
                pieces.append(text[: last.start()].rstrip())
                cut = last.end()
                break
        if not cut:  # one word longer than the limit: a hard split is all that is left
            pieces.append(text[:limit])
            cut = limit
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _label(text: str, limit: int) -> str:
    """Headings and field names are labels, not content: shorten them with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Embeds:
    """Fills embeds in order, opening a continuation embed whenever a limit would be broken."""

    def __init__(self, colour: discord.Colour, title: str | None = None,
                 author: str | None = None) -> None:
        self.colour = colour
        first = discord.Embed(colour=colour, title=_label(title, TITLE_MAX) if title else None)
        if author:
            first.set_author(name=_label(author, AUTHOR_MAX))
        self.embeds = [first]

    @property
    def current(self) -> discord.Embed:
        return self.embeds[-1]

    def _new(self) -> discord.Embed:
        self.embeds.append(discord.Embed(colour=self.colour))
        return self.current

    def text(self, text: str) -> None:
        for piece in split_text(text, DESCRIPTION_MAX):
            embed = self.current
            if embed.description or embed.fields or len(embed) + len(piece) > EMBED_TOTAL_MAX:
                embed = self._new()
            embed.description = piece

    def field(self, name: str, value: str) -> None:
        for i, piece in enumerate(split_text(value, FIELD_VALUE_MAX)):
            label = _label(name if i == 0 else f"{name} (continued)", FIELD_NAME_MAX)
            embed = self.current
            if (len(embed.fields) >= FIELDS_MAX
                    or len(embed) + len(label) + len(piece) > EMBED_TOTAL_MAX):
                embed = self._new()
            embed.add_field(name=label, value=piece, inline=False)


def _citation_name(number: int, citation: Citation) -> str:
    return f"[{number}] {citation.document}, ¶{citation.paragraph}"


def _citations(out: _Embeds, citations: list[Citation]) -> None:
    for number, citation in enumerate(citations, 1):
        out.field(_citation_name(number, citation), citation.quote or "—")


def render_embeds(result: Result) -> list[discord.Embed]:
    """One result as a list of embeds, each within Discord's per-embed limits."""
    if isinstance(result, Answer):
        question = " ".join(result.question.split())
        heading = result.title or question
        fits = len(heading) <= TITLE_MAX
        out = _Embeds(COLOR_ABSTAINED if result.abstained else COLOR_ANSWER,
                      title=heading if fits else None,
                      author=f"Shared by {result.shared_by}" if result.shared_by else None)
        out.text(result.text if fits else f"**{question}**\n\n{result.text}")
        _citations(out, result.citations)
        if result.abstained and result.suggestions:
            out.field("The articles cover", "\n".join(f"• {s}" for s in result.suggestions))
        return out.embeds
    if isinstance(result, Briefing):
        out = _Embeds(COLOR_BRIEFING, title=result.title)
        out.text(result.text)
        for section in result.sections:
            out.field(section.heading, "\n".join(f"• {line}" for line in section.lines) or "—")
        _citations(out, result.citations)
        return out.embeds
    if isinstance(result, Notice):
        out = _Embeds(COLOR_NOTICE, title=result.title)
        out.text("\n".join([result.text, *result.lines]))
        return out.embeds
    if isinstance(result, UserError):
        out = _Embeds(COLOR_ERROR)
        out.text(result.message + (f"\n\n{result.hint}" if result.hint else ""))
        return out.embeds
    raise TypeError(f"cannot render {type(result).__name__}")


def pack_messages(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 embeds and 6,000 characters per message."""
    messages: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if not messages or len(messages[-1]) >= EMBEDS_PER_MESSAGE \
                or size + len(embed) > EMBED_TOTAL_MAX:
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += len(embed)
    return messages


def render_messages(result: Result) -> list[list[discord.Embed]]:
    """A result as the messages to send, each a list of embeds within Discord's limits."""
    return pack_messages(render_embeds(result))


NO_MENTIONS = discord.AllowedMentions.none()
"""Used on everything the bot sends: no seed or question text can ping anyone."""
