"""Discord embeds stay within Discord's limits; long text is split, never cut."""

from __future__ import annotations

import discord

from bot.adapters.discord.render import (
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    TITLE_MAX,
    render_embeds,
    render_messages,
    split_text,
)
from bot.models import Answer, Briefing, BriefingSection, Citation, Notice, UserError

SENTENCE = "Fyodor Tertitskiy said the talks could resume within weeks of the summit. "


def within_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= TITLE_MAX
    assert len(embed.description or "") <= DESCRIPTION_MAX
    assert len(embed.fields) <= FIELDS_MAX
    for f in embed.fields:
        assert f.name and f.value
        assert len(f.name) <= FIELD_NAME_MAX and len(f.value) <= FIELD_VALUE_MAX
    assert len(embed) <= EMBED_TOTAL_MAX


def check_messages(messages: list[list[discord.Embed]]) -> None:
    for embeds in messages:
        assert 1 <= len(embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in embeds) <= EMBED_TOTAL_MAX
        for embed in embeds:
            within_limits(embed)


def words(text: str) -> list[str]:
    return text.split()


def test_split_text_keeps_every_word_and_prefers_sentence_ends() -> None:
    text = SENTENCE * 100
    pieces = split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert words(" ".join(pieces)) == words(text)
    assert all(p.endswith(".") for p in pieces)


def test_split_text_prefers_paragraphs_and_hard_splits_a_giant_word() -> None:
    assert split_text("one two.\n\nthree four.", 15) == ["one two.", "three four."]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("   ", 10) == []


def test_a_long_answer_with_many_citations_is_split_across_embeds_and_messages() -> None:
    citations = [Citation(document=f"Article {i}", paragraph=i, quote=SENTENCE * 20)
                 for i in range(1, 41)]
    answer = Answer(question="what happened?", text=SENTENCE * 200, intent="summary",
                    citations=citations, shared_by="Alice")
    embeds = render_embeds(answer)
    messages = render_messages(answer)
    check_messages(messages)
    assert len(messages) > 1
    assert [e for m in messages for e in m] == embeds
    assert embeds[0].title == "what happened?"
    assert embeds[0].author.name == "Shared by Alice"
    description = " ".join(e.description for e in embeds if e.description)
    assert words(description) == words(answer.text)
    for i, citation in enumerate(citations, 1):
        parts = [f.value for e in embeds for f in e.fields
                 if f.name.startswith(f"[{i}] Article {i}, ¶{i}")]
        assert words(" ".join(parts)) == words(citation.quote)


def test_a_question_too_long_for_a_title_moves_into_the_description() -> None:
    question = "why " * 100
    [embed] = render_embeds(Answer(question=question, text="Because.", intent="why"))
    assert embed.title is None
    assert embed.description == f"**{question.strip()}**\n\nBecause."


def test_abstained_answer_lists_what_the_articles_cover() -> None:
    [embed] = render_embeds(Answer(question="weather?", text="The articles don't say.",
                                   intent="abstain", abstained=True,
                                   suggestions=["the summit", "sanctions"]))
    assert embed.fields[0].name == "The articles cover"
    assert "• sanctions" in embed.fields[0].value


def test_a_briefing_with_many_long_sections_stays_within_limits() -> None:
    briefing = Briefing(
        title="Briefing " + "x" * 300, text=SENTENCE * 80,
        sections=[BriefingSection(heading=f"Section {i}", lines=[SENTENCE * 5] * 6)
                  for i in range(30)],
        citations=[Citation(document="A", paragraph=1, quote="q")])
    messages = render_messages(briefing)
    check_messages(messages)
    first = messages[0][0]
    assert first.title is not None and first.title.endswith("…")
    lines = [f.value for m in messages for e in m for f in e.fields]
    assert words(" ".join(lines)).count("Tertitskiy") == 30 * 6 * 5


def test_notice_and_error() -> None:
    [notice] = render_embeds(Notice(title="Subscribed", text="Every day at 08:30.",
                                    lines=["Next: tomorrow"]))
    assert notice.title == "Subscribed" and notice.description.endswith("Next: tomorrow")
    [error] = render_embeds(UserError(message="No.", hint="Try /ask help."))
    assert error.colour == discord.Colour.red()
    assert error.description == "No.\n\nTry /ask help."
