"""Typed results that handlers return and adapters render.

Handlers never format for a platform: they return one of these models, and the Slack,
Discord and CLI renderers turn it into Block Kit, an embed or plain text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.ids import new_id

MAX_ANSWER_CHARS = 1000


class Citation(BaseModel):
    """Where a sentence shown to the user comes from."""

    document: str = Field(description="Title of the seed document.")
    paragraph: int = Field(ge=1, description="1-based paragraph number within the document.")
    quote: str = Field(description="The verbatim sentence (or sentences) cited.")
    doc_id: str = ""
    sentence_ids: list[str] = Field(default_factory=list)
    url: str | None = None


class Answer(BaseModel):
    """A grounded answer: every sentence in `text` is verbatim from a seed."""

    kind: Literal["answer"] = "answer"
    question: str
    text: str
    abstained: bool = False
    intent: str
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list, description="Topics the seeds cover.")
    title: str | None = Field(default=None, description="Heading, e.g. the person's name.")
    confidence: float | None = Field(
        default=None, description="The learned answer model's probability that the sentences "
        "shown answer the question (ranked answers only).")
    answer_id: str = Field(default_factory=new_id)
    index_version: int = 0
    source_command: str = Field(default="ask", description="ask or who: how to recompute it.")
    shared_by: str | None = Field(default=None, description="Set when posted via Share.")


class Article(BaseModel):
    """One seed article, as listed to users (App Home, doctor)."""

    doc_id: str
    title: str
    date: str | None = Field(default=None, description="As the article gives it (ISO when known).")
    url: str | None = None


class BriefingSection(BaseModel):
    """One part of a briefing: usually one article, or the 'what is new' part."""

    heading: str
    lines: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)


class Briefing(BaseModel):
    kind: Literal["briefing"] = "briefing"
    title: str
    text: str
    sections: list[BriefingSection] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)


class Notice(BaseModel):
    """A short confirmation or report (subscribed, reload report, gaps...)."""

    kind: Literal["notice"] = "notice"
    title: str | None = None
    text: str
    lines: list[str] = Field(default_factory=list)
    public: bool = False
    data: dict[str, object] = Field(default_factory=dict)


class UserError(BaseModel):
    """An error meant for the user: what went wrong and what to do."""

    kind: Literal["error"] = "error"
    message: str
    hint: str | None = None


Result = Answer | Briefing | Notice | UserError
