"""Chat markup and unsafe characters, removed from text before it is understood or printed.

Slack and Discord deliver a question wrapped in their own syntax (`<@U123>` mentions,
`<https://x|label>` links, HTML entities, `**bold**`...), and anything typed or pasted may
carry control characters, ANSI escapes or invisible Unicode. None of that is part of the
question, and some of it could drive a terminal. Pure functions, no platform imports, so the
engine, the handlers and the CLI can all call them.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_question", "printable"]

# -- terminal escapes and invisible characters ---------------------------------------------
_ANSI = re.compile(
    r"""
    (?: \x1b\[ | \x9b ) [0-?]* [ -/]* [@-~]                     # CSI: colours, cursor moves
  | (?: \x1b[\]PX^_] | [\x90\x98\x9d\x9e\x9f] )                 # OSC, DCS, SOS, PM, APC ...
        [^\x07\x1b\x9c]* (?: \x07 | \x1b\\ | \x9c )?            # ... up to BEL or ST
  | \x1b [ -/]* [0-~]                                           # other ESC sequences
    """,
    re.VERBOSE,
)
"""ANSI/ECMA-48 escape sequences, removed whole: `\x1b[31m` leaves no `[31m` behind."""

_SPACE_CONTROLS = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85"
"""Controls that separate words (str.split treats them as whitespace): they become spaces."""

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Embeddings, overrides and isolates: they reorder what a terminal shows (Trojan Source)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _invisible(ch: str) -> bool:
    """Control (Cc, not a word separator), format (Cf: zero-width, bidi, soft hyphen, tags)
    or lone surrogate (Cs, from undecodable bytes): nothing a question needs."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in _SPACE_CONTROLS


def _drop_invisible(text: str) -> str:
    if text.isprintable():  # no Cc, Cf, Cs (nor spaces other than ' '): the usual case
        return text
    return "".join(ch for ch in text if not _invisible(ch))


# -- Slack: entities and <...> markup -------------------------------------------------------
_ENTITY = re.compile(r"&(?:amp;)*(amp|lt|gt);")
"""Slack escapes only &, < and >. A chain (`&amp;lt;`) decodes in one go, so decoding twice
gives what decoding once does."""
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}

_SLACK_SPECIAL = re.compile(r"<!([^<>|]*)(?:\|([^<>]*))?>")
"""`<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^S1|@team>`; `<!date^…|fallback>`."""
_USER_OR_ROLE = re.compile(r"<@[!&]?[A-Za-z0-9]+(?:\|[^<>]*)?>")
"""Slack `<@U123>`/`<@U123|name>`, Discord `<@123>`, `<@!123>` and roles `<@&123>`."""
_CHANNEL = re.compile(r"<#[A-Za-z0-9]+(?:\|([^<>]*))?>")
"""Slack `<#C123|general>` (the label may stay) and `<#C123>`, Discord `<#123>`."""
_DISCORD_TOKEN = re.compile(
    r"</[^<>:]+:\d+>"  # slash command mention </ask:123>
    r"|<a?:\w+:\d+>"  # custom emoji <:name:123>, animated <a:name:123>
    r"|<t:-?\d+(?::[tTdDfFR])?>"  # timestamp <t:1700000000:R>
    r"|<id:\w+>"  # guild navigation <id:customize>
)
_LINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^<>|\s]*)(?:\|([^<>]*))?>")
"""`<https://x|label>` keeps the label, `<https://x>` (Discord: no embed) the URL."""
_BROADCAST = re.compile(
    r"(?:(?<![\w@.])|(?<=@here)|(?<=@channel)|(?<=@everyone))@(?:channel|here|everyone)\b",
    re.IGNORECASE,
)
"""Typed `@channel`, `@here`, `@everyone` (and Discord's own, which are plain text)."""

# -- markdown (Discord markdown, Slack mrkdwn) ----------------------------------------------
_LINE_MARKER = re.compile(r"(?m)^(?:[ \t]*(?:>{1,3}|#{1,3}|-#)[ \t]+)+")
"""Block quotes (`> `, `>>> `), Discord headings (`# `) and subtext (`-# `) at a line start."""
_CODE_BLOCK = re.compile(r"```(?:[A-Za-z0-9_+-]*\n)?(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_DOUBLE = re.compile(r"(\*\*|__|~~|\|\|)(.+?)\1", re.DOTALL)
"""`**bold**`, `__underline__`, `~~strike~~`, `||spoiler||`."""
_SINGLE = re.compile(r"(?<![\w*_~])([*_~])(?=\S)((?:(?!\1)[^\n])+?)(?<=\S)\1(?![\w*_~])")
"""`*bold*`/`*italic*`, `_italic_`, `~strike~`: only around words, so `snake_case` and
`2 * 3 * 4` survive."""

_MAX_PASSES = 8
_MARKUP_CHARACTERS = re.compile(r"[<>*_~`|&@#]")


def _slack_special(match: re.Match[str]) -> str:
    name, label = match.group(1), match.group(2)
    return f" {label} " if name.startswith("date^") and label else " "


def _clean_once(text: str) -> str:
    text = unicodedata.normalize("NFC", text)  # first: it maps U+037E to ';', U+1FEF to '`'
    text = _ANSI.sub("", text)
    text = _drop_invisible(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)  # before markup: Slack's quotes
    text = _LINE_MARKER.sub("", text)  # arrive as `&gt; `, and `&lt;` is a typed `<`
    text = _SLACK_SPECIAL.sub(_slack_special, text)
    text = _USER_OR_ROLE.sub(" ", text)
    text = _CHANNEL.sub(lambda m: f" {(m.group(1) or '').lstrip('#')} ", text)
    text = _DISCORD_TOKEN.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _BROADCAST.sub(" ", text)
    text = _CODE_BLOCK.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\2", text)
    text = _DOUBLE.sub(r"\2", text)
    text = _SINGLE.sub(r"\2", text)
    text = unicodedata.normalize("NFC", text)  # removals may have put a mark after a letter
    return " ".join(text.split())


def clean_question(text: str) -> str:
    """The question a person meant, without the chat's markup around it.

    Mentions (users, roles, channels, @here/@channel/@everyone, Slack user groups), Discord
    emoji, timestamps and command mentions are removed; a channel keeps its label and a link
    its label or URL; Slack's &amp;/&lt;/&gt; are decoded; markdown markers go, their text
    stays; control, zero-width and bidi characters and ANSI escapes go; the result is NFC with
    single spaces. Idempotent: removing markup can expose more (`&<x>lt;`), so it repeats
    until nothing changes, and cleaning a cleaned question changes nothing.
    """
    for _ in range(_MAX_PASSES):
        cleaned = _clean_once(text)
        if cleaned == text:
            return text
        text = cleaned
    # Markup nested deeper than any person types: drop every markup character, which leaves
    # nothing for another pass to find, so idempotence holds on any input (and in linear time).
    text = unicodedata.normalize("NFC", _MARKUP_CHARACTERS.sub(" ", text))
    return " ".join(text.split())


def printable(text: str) -> str:
    """`text` safe to write to a terminal: ANSI escapes and control characters removed (a
    seed or a question must not move the cursor, recolour or retitle the terminal), tabs
    become spaces, CR LF and CR become newlines, bidi overrides go, and lone surrogates (which
    `print` cannot encode) become U+FFFD. Newlines stay."""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _TERMINAL_CONTROLS.sub("", text)
    text = _BIDI_CONTROLS.sub("", text)
    return _SURROGATE.sub("\ufffd", text)
