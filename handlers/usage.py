"""Usage texts shown for `help`, an empty question or a malformed command."""

from __future__ import annotations

from bot.models import Notice

MAX_QUESTION_CHARS = 500

ASK_EXAMPLES = [
    "who is Tertitskiy",
    "why might the deal fail",
    "what did Frank say",
    "where is the meeting planned",
]


def usage_notice() -> Notice:
    return Notice(
        title="How to use briefbot",
        text=(
            "Ask a question about the articles the team follows. Every answer quotes the "
            "articles and cites them; when they don't cover a question, briefbot says so."
        ),
        lines=[
            "/ask <question> — e.g. " + ", ".join(f"`{q}`" for q in ASK_EXAMPLES[:3]),
            "/who <name> — a person's card: role, quotes, citations",
            "/brief — today's briefing; "
            "/brief subscribe 08:30 Europe/Berlin · unsubscribe · status",
            "/reload — admins: re-read the seed articles",
            "/gaps — admins: questions the articles could not answer",
        ],
    )
