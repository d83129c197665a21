"""The answer engine shipped today: the built corpus plus answering, people cards and briefings.

`KnowledgeIndex` is a `Corpus` (so code that reads sentences, documents or entities off the
live index keeps working) that also implements `AnswerEngine`. The import graph goes one way:
this module imports `corpus`, `answer` and `briefing`, and they import `corpus`, never this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from functools import cached_property

from bot.engine.answer import Answerer
from bot.engine.blas import limit_blas_threads
from bot.engine.briefing import compose_briefing
from bot.engine.corpus import Corpus
from bot.ids import new_id
from bot.models import Answer, Article, Briefing

ANSWER_MEMO_SIZE = 4096
"""Distinct questions remembered per index; a team asks far fewer between two reloads."""


class KnowledgeIndex(Corpus):
    """A corpus that answers: `build_index` returns one, `IndexHolder.current` holds one."""

    @classmethod
    def from_corpus(cls, corpus: Corpus) -> KnowledgeIndex:
        """The engine over `corpus`'s data (shared, not copied)."""
        return cls(**{f.name: getattr(corpus, f.name) for f in fields(Corpus)})

    def articles(self) -> list[Article]:
        listed = [Article(doc_id=d.id, title=d.title, date=d.date, url=d.url)
                  for d in self.documents]
        listed.sort(key=lambda a: a.title)
        listed.sort(key=lambda a: a.date or "", reverse=True)  # undated ones last
        return listed

    # -- answering ----------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        return self._fresh(self._memo("ask", question))

    def who(self, name: str) -> Answer:
        return self._fresh(self._memo("who", name))

    def more(self, question: str, shown: Collection[str]) -> Answer:
        """The next-best sentences for `question` (asked with `answer`) that are not among
        the sentence ids `shown`, or an abstention when nothing relevant is left. Not
        memoized: the shown set differs with every follow-up."""
        limit_blas_threads()
        return Answerer(self, shown=shown).answer(question)

    @staticmethod
    def _fresh(answer: Answer) -> Answer:
        """A copy with its own answer_id: share-once and votes are per answer shown."""
        return answer.model_copy(update={"answer_id": new_id()})

    @cached_property
    def _answers(self) -> OrderedDict[tuple[str, str], Answer]:
        return OrderedDict()

    def _memo(self, command: str, text: str) -> Answer:
        """An answer is a pure function of this index and the text asked, so it is computed
        once per distinct question (least recently asked forgotten first). A reload builds a
        new index and so starts afresh. Plain data, no reference back to the index: the old
        index is freed as soon as a reload drops it."""
        key = (command, text)
        answers = self._answers
        found = answers.get(key)
        if found is None:
            found = answers[key] = self.compute(command, text)
            if len(answers) > ANSWER_MEMO_SIZE:
                answers.popitem(last=False)
        else:
            answers.move_to_end(key)
        return found

    def compute(self, command: str, text: str) -> Answer:
        """Answer `text` for `ask` or `who` without the memo (benchmarks time this)."""
        limit_blas_threads()
        if command == "ask":
            return Answerer(self).answer(text)
        answer = Answerer(self).answer(f"who is {text}")
        answer.source_command = "who"
        answer.question = text
        return answer

    def briefing(self, since: datetime | None = None, known_docs: set[str] | None = None,
                 known_people: set[str] | None = None) -> Briefing:
        return compose_briefing(self, since=since, known_docs=known_docs,
                                known_people=known_people)


__all__ = ["ANSWER_MEMO_SIZE", "KnowledgeIndex"]
