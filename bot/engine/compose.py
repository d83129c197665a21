"""Composition: chosen sentences → an answer of verbatim lines, each with its citation.

Lines are shown as the seeds have them (a speaker label may follow after a dash), marked
`[n]` for their citation, and the whole answer stays within MAX_ANSWER_CHARS: a line that
does not fit is left out, never cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.models import MAX_ANSWER_CHARS, Answer, Citation

if TYPE_CHECKING:
    from bot.engine.corpus import Corpus


@dataclass
class Line:
    sentence: int
    text: str
    suffix: str = ""
    context: tuple[int, ...] = ()
    """Sentences shown before `sentence` in the same line (an anaphor's antecedent)."""
    after: tuple[int, ...] = ()
    """Sentences shown after it in the same line (one that carries its point on)."""


def compose(ix: Corpus, question: str, intent: str, lines: list[Line],
            head: str | None = None, title: str | None = None, max_lines: int = 6,
            confidence: float | None = None) -> Answer | None:
    """The answer, or None when no line fits and there is no heading to show."""
    if head is not None and len(head) > MAX_ANSWER_CHARS // 2:
        head = head[: MAX_ANSWER_CHARS // 2 - 1].rsplit(" ", 1)[0] + "…"
    parts: list[str] = [head] if head else []
    citations: list[Citation] = []
    budget = MAX_ANSWER_CHARS - (len(head) + 1 if head else 0)
    bullet = len(lines) > 1 or head is not None
    for line in lines[:max_lines]:
        marker = f" [{len(citations) + 1}]"
        rendered = ("• " if bullet else "") + line.text + line.suffix + marker
        if len(rendered) + 1 > budget:
            if line.suffix and len(rendered) - len(line.suffix) + 1 <= budget:
                rendered = rendered.replace(line.suffix, "")
            else:
                continue
        budget -= len(rendered) + 1
        parts.append(rendered)
        s = ix.sentences[line.sentence]
        doc = ix.documents[s.doc]
        ids = [ix.sentences[i].id for i in (*line.context, line.sentence, *line.after)]
        citations.append(Citation(document=doc.title, paragraph=s.paragraph, quote=line.text,
                                  doc_id=doc.id, sentence_ids=ids, url=doc.url))
    if not citations and head is None:
        return None
    return Answer(question=question, text="\n".join(parts), intent=intent,
                  citations=citations, title=title,
                  confidence=None if confidence is None else round(confidence, 3))


def all_said(question: str, intent: str, about: str | None = None) -> Answer:
    """A follow-up with nothing relevant left to show: said plainly, no suggestions."""
    text = f"That's all the articles say about {about or 'that'}."
    if len(text) > MAX_ANSWER_CHARS:
        text = text[: MAX_ANSWER_CHARS - 1] + "…"
    return Answer(question=question, text=text, abstained=True, intent=intent, title=about)


def abstain(question: str, intent: str, reason: str, suggestions: list[str]) -> Answer:
    """Say plainly that the articles don't cover it, and what they do cover."""
    text = reason + " " + "The articles cover: " + "; ".join(suggestions) + "."
    if len(text) > MAX_ANSWER_CHARS:
        text = text[: MAX_ANSWER_CHARS - 1] + "…"
    return Answer(question=question, text=text, abstained=True, intent=intent,
                  suggestions=suggestions)
