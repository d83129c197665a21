"""Render handler results as Slack Block Kit messages (pure: no slack imports, no I/O).

Everything that comes from the seeds or the user is escaped for mrkdwn (`&`, `<`, `>`) and
`@channel`/`@here`/`@everyone` are broken with a word joiner, so nothing the bot posts can
ping anybody. Messages stay within Slack's limits: 3,000 characters a section text, 10
elements a context block, 50 blocks a message, 2,000 characters a button value.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.models import Answer, Briefing, Citation, Notice, Result, UserError

MAX_SECTION_CHARS = 3000
MAX_BLOCKS = 50
MAX_CONTEXT_ELEMENTS = 10
MAX_VALUE_CHARS = 2000
MAX_FALLBACK_CHARS = 3000

SHARE_ACTION = "briefbot_share"
VOTE_UP_ACTION = "briefbot_vote_up"
VOTE_DOWN_ACTION = "briefbot_vote_down"

_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]+$")
WORD_JOINER = "\u2060"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Make arbitrary text inert in mrkdwn: no links, no mentions, no broadcasts."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + WORD_JOINER, text) if "@" in text else text


def _cut(text: str, limit: int) -> int:
    """Where to cut escaped `text` to keep at most `limit` chars: a space, never mid-entity."""
    cut = text.rfind(" ", limit // 2, limit + 1)
    if cut <= 0:
        cut = limit
        amp = text.rfind("&", max(0, cut - 5), cut)
        if amp != -1 and ";" not in text[amp:cut]:
            cut = amp
    return cut


def chunks(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split already-escaped text into pieces of at most `limit` characters."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = _cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def shorten(text: str, limit: int) -> str:
    """Escaped text trimmed to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: _cut(text, limit - 1)].rstrip() + "…"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def sections(text: str) -> list[Block]:
    return [{"type": "section", "text": _mrkdwn(piece)} for piece in chunks(text)]


def context(parts: list[str], sep: str = "  ·  ") -> list[Block]:
    """Context blocks holding `parts` (escaped mrkdwn), packed into few elements."""
    elements: list[str] = []
    for part in parts:
        part = shorten(part, MAX_SECTION_CHARS)
        if elements and len(elements[-1]) + len(sep) + len(part) <= MAX_SECTION_CHARS:
            elements[-1] += sep + part
        else:
            elements.append(part)
    return [
        {"type": "context",
         "elements": [_mrkdwn(e) for e in elements[i:i + MAX_CONTEXT_ELEMENTS]]}
        for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)
    ]


def cite(n: int, c: Citation) -> str:
    doc = f"*{escape(c.document)}*"
    if c.url and c.url.startswith(("http://", "https://")):
        doc = f"<{escape(c.url).replace('|', '%7C')}|{escape(c.document)}>"
    return f"[{n}] {doc}, ¶{c.paragraph}"


def _citations(citations: list[Citation]) -> list[Block]:
    return context([cite(i, c) for i, c in enumerate(citations, 1)]) if citations else []


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def button_value(data: dict[str, Any]) -> str:
    """Compact JSON within the button-value limit: drop citations, then trim the question."""
    value = _compact(data)
    while len(value) > MAX_VALUE_CHARS and data.get("cites"):
        data["cites"].pop()
        value = _compact(data)
    while len(value) > MAX_VALUE_CHARS and data["q"]:
        data["q"] = data["q"][: len(data["q"]) - (len(value) - MAX_VALUE_CHARS)]
        value = _compact(data)
    return value


def share_value(answer: Answer) -> str:
    """What Share needs to recompute the answer: question, command, answer id."""
    return button_value({"q": answer.question, "c": answer.source_command,
                         "id": answer.answer_id})


def vote_value(answer: Answer) -> str:
    """What a vote records: answer id, question, intent, cited (document, paragraph)s."""
    return button_value({"id": answer.answer_id, "q": answer.question, "i": answer.intent,
                         "cites": [[c.document, c.paragraph] for c in answer.citations]})


def _button(text: str, action_id: str, value: str) -> Block:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": text, "emoji": True}}


def _actions(answer: Answer, share: bool = True) -> list[Block]:
    buttons = []
    if share and not answer.abstained:
        buttons.append(_button("Share in channel", SHARE_ACTION, share_value(answer)))
    vote = vote_value(answer)
    buttons += [_button("👍", VOTE_UP_ACTION, vote), _button("👎", VOTE_DOWN_ACTION, vote)]
    return [{"type": "actions", "block_id": "briefbot_answer_actions", "elements": buttons}]


def shared_by_line(shared_by: str) -> str:
    """'Shared by <@U…>' for a Slack user id; any other name is shown as text."""
    who = f"<@{shared_by}>" if _SLACK_ID.match(shared_by) else escape(shared_by)
    return f"Shared by {who}"


def _fit(body: list[Block], tail: list[Block]) -> list[Block]:
    """At most MAX_BLOCKS blocks: keep the tail (citations, buttons), trim the body."""
    room = MAX_BLOCKS - len(tail)
    if len(body) > room:
        dropped = len(body) - room + 1
        body = [*body[: room - 1],
                *context([f"_…{dropped} more part(s) left out to fit Slack's limits._"])]
    return [*body, *tail][:MAX_BLOCKS]


def _answer(answer: Answer, interactive: bool, shared_by: str | None,
            share: bool) -> tuple[list, list, str]:
    body: list[Block] = []
    if answer.title:
        body += sections(f"*{shorten(escape(answer.title), 200)}*")
    if answer.question:
        body += context([f"*Q:* {shorten(escape(answer.question), 600)}"])
    body += sections(escape(answer.text))
    if answer.abstained and answer.suggestions:
        body += context(["The articles cover: " + "; ".join(escape(s) for s in answer.suggestions)])
    tail = _citations(answer.citations)
    if shared_by:
        tail += context([shared_by_line(shared_by)])
    if interactive:
        tail += _actions(answer, share)
    head = f"{answer.title}: " if answer.title else ""
    return body, tail, head + answer.text


def _briefing(briefing: Briefing) -> tuple[list, list, str]:
    body = sections(f"*{shorten(escape(briefing.title), 200)}*")
    if briefing.text:
        body += sections(escape(briefing.text))
    for section in briefing.sections:
        lines = "\n".join(f"• {escape(line)}" for line in section.lines)
        body += sections(f"*{escape(section.heading)}*\n{lines}".rstrip())
    return body, _citations(briefing.citations), f"{briefing.title}: {briefing.text}"


def _notice(notice: Notice) -> tuple[list, list, str]:
    head = f"*{escape(notice.title)}*\n" if notice.title else ""
    body = sections(head + escape(notice.text))
    if notice.lines:
        body += sections("\n".join(f"• {escape(line)}" for line in notice.lines))
    title = f"{notice.title}: " if notice.title else ""
    return body, [], title + notice.text


def _error(error: UserError) -> tuple[list, list, str]:
    body = sections(f":warning: {escape(error.message)}")
    tail = context([escape(error.hint)]) if error.hint else []
    return body, tail, error.message


def render(result: Result, *, interactive: bool = True, shared_by: str | None = None,
           share: bool = True) -> dict[str, Any]:
    """Block Kit message for `result`: {"text": fallback, "blocks": [...]}.

    `interactive` adds Share and vote buttons to answers (the private copy); `share=False`
    leaves Share out (an answer already in the open: a thread, a DM); `shared_by` (a Slack
    user id) says who shared the public copy.
    """
    if isinstance(result, Answer):
        body, tail, plain = _answer(result, interactive, shared_by, share)
    elif isinstance(result, Briefing):
        body, tail, plain = _briefing(result)
    elif isinstance(result, Notice):
        body, tail, plain = _notice(result)
    elif isinstance(result, UserError):
        body, tail, plain = _error(result)
    else:
        raise TypeError(f"cannot render {type(result).__name__}")
    text = shorten(escape(" ".join(plain.split())), MAX_FALLBACK_CHARS) or "briefbot"
    return {"text": text, "blocks": _fit(body, tail)}
