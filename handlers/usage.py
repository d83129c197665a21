"""Usage texts shown for `help`, an empty question or a malformed command."""

from __future__ import annotations

from bot.models import Notice

MAX_QUESTION_CHARS = 500

GENERAL_EXAMPLES = ["summarize the articles", "who is involved?"]
"""Questions every set of articles answers (the summary and people intents)."""


def examples(people: list[str]) -> list[str]:
    """Example questions for these articles: about the people they name, then general ones
    (never examples written for one particular article)."""
    named = [f"who is {people[0]}"] if people else []
    if len(people) > 1:
        named.append(f"what did {people[1].split()[-1]} say")
    return [*named, *GENERAL_EXAMPLES]


def who_examples(people: list[str]) -> list[str]:
    """`/who` examples for these articles: a surname alone, then a full name (both find the
    person)."""
    shown = [f"/who {people[0].split()[-1]}"] if people else []
    if len(people) > 1:
        shown.append(f"/who {people[1]}")
    return shown


def usage_notice(people: list[str]) -> Notice:
    """How to use briefbot, with examples drawn from `people` (the engine's names)."""
    return Notice(
        title="How to use briefbot",
        text=(
            "Ask a question about the articles the team follows. Every answer quotes the "
            "articles and cites them; when they don't cover a question, briefbot says so."
        ),
        lines=[
            "/ask <question> — e.g. " + ", ".join(f"`{q}`" for q in examples(people)[:3]),
            "/who <name> — a person's card: role, quotes, citations",
            "/brief — today's briefing; "
            "/brief subscribe 08:30 Europe/Berlin · unsubscribe · status",
            "/reload — admins: re-read the seed articles",
            "/gaps — admins: questions the articles could not answer",
        ],
    )
