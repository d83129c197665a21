"""The one interface handlers use to reach an answer engine.

Handlers ask and brief through `AnswerEngine`; `KnowledgeIndex` in `bot.engine.engine` (BM25
retrieval, the learned scorer, extracted people) is the engine shipped today, and another engine
can be plugged in behind the same methods without a change to any handler.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.models import Answer, Article, Briefing


@runtime_checkable
class AnswerEngine(Protocol):
    def answer(self, question: str) -> Answer:
        """A grounded answer (verbatim cited sentences) or an abstention; never raises."""
        ...

    def who(self, name: str) -> Answer:
        """A person's card, as `answer("who is <name>")`."""
        ...

    def more(self, question: str, shown: Collection[str]) -> Answer:
        """"Tell me more" after `answer(question)` (for a person's card, `who is <name>`): the
        next-best verbatim, cited sentences for it not among `shown` (the sentence ids cited
        by the answers already given, as in `Citation.sentence_ids`), within the same length
        limit; an abstention ("That's all the articles say about that.") when nothing
        relevant is left, or the question's own abstention when it is not answered at all."""
        ...

    def briefing(self, since: datetime | None = None, known_docs: set[str] | None = None,
                 known_people: set[str] | None = None) -> Briefing:
        """The daily briefing, saying what is new since the channel's last one."""
        ...

    def articles(self) -> list[Article]:
        """The articles the engine answers from, newest first (undated last)."""
        ...

    def people_names(self) -> list[str]:
        """People the engine can describe, most mentioned first (autocomplete, usage)."""
        ...
