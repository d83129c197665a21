"""Compose the daily briefing from the index: a minute's read, every line cited.

Per article: the headline, the gist (the lede and the strongest claim), the people quoted with
their roles, and the obstacles or open questions it raises. Then what is new since the
channel's previous briefing (articles and people added by a reload).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.engine.lexicon import OBSTACLE_STRONG, OBSTACLE_WEAK
from bot.engine.text import fold, words
from bot.models import Briefing, BriefingSection, Citation

if TYPE_CHECKING:
    from bot.engine.index import KnowledgeIndex

MAX_ARTICLES = 5


def _obstacle_score(text: str) -> float:
    toks = [fold(w) for w in words(text)]
    return sum(t in OBSTACLE_STRONG for t in toks) + 0.3 * sum(t in OBSTACLE_WEAK for t in toks)


def compose_briefing(ix: KnowledgeIndex, since: datetime | None = None,
                     known_docs: set[str] | None = None,
                     known_people: set[str] | None = None) -> Briefing:
    citations: list[Citation] = []
    sections: list[BriefingSection] = []

    def cite(i: int) -> str:
        s = ix.sentences[i]
        doc = ix.documents[s.doc]
        citations.append(Citation(document=doc.title, paragraph=s.paragraph, quote=s.text,
                                  doc_id=doc.id, sentence_ids=[s.id], url=doc.url))
        return f"[{len(citations)}]"

    for doc in ix.documents[:MAX_ARTICLES]:
        body = [i for p in doc.paragraphs if p.kind == "body" for i in p.sentences
                if ix.answerable[i] and ix.sentences[i].kind == "body"]
        if not body:
            continue
        lines: list[str] = []
        used: set[int] = set()
        lede = body[0]
        lines.append(f"{ix.sentences[lede].text} {cite(lede)}")
        used.add(lede)
        quoted = [e for e in ix.people() if doc.idx in e.docs and e.quotes and e.role
                  and any(ix.sentences[q].doc == doc.idx for q in e.quotes)]
        for person in sorted(quoted, key=lambda e: -len(e.quotes))[:3]:
            mine = [q for q in person.quotes if ix.sentences[q].doc == doc.idx]
            attributions = ix.extraction.attributions
            quote = next((q for q in mine if attributions[q].direct), mine[0])
            role = person.role if len(person.role or "") <= 120 else None
            who = f"{person.name} ({role})" if role else person.name
            lines.append(f"{who}: {ix.sentences[quote].text} {cite(quote)}")
            used.add(quote)
        obstacles = sorted((i for i in body if i not in used),
                           key=lambda i: -_obstacle_score(ix.sentences[i].text))
        for i in obstacles[:2]:
            if _obstacle_score(ix.sentences[i].text) >= 1:
                lines.append(f"Open question: {ix.sentences[i].text} {cite(i)}")
                used.add(i)
        sections.append(BriefingSection(heading=doc.title, lines=lines))

    if since is not None or known_docs is not None:
        when = since.strftime("%d %b %Y") if since else "the previous briefing"
        new_docs = [d.title for d in ix.documents if known_docs is not None
                    and d.id not in known_docs]
        new_people = [e.name for e in ix.people() if known_people is not None
                      and e.name not in known_people]
        if new_docs or new_people:
            news = []
            if new_docs:
                news.append("New articles: " + "; ".join(new_docs[:5]))
            if new_people:
                news.append("New people: " + ", ".join(new_people[:8]))
            sections.append(BriefingSection(heading=f"New since {when}", lines=news))
        else:
            sections.append(BriefingSection(heading="What's new",
                                            lines=[f"Nothing new since {when}."]))
    if len(ix.documents) > MAX_ARTICLES:
        sections.append(BriefingSection(
            heading="More", lines=[f"{len(ix.documents) - MAX_ARTICLES} more articles in the "
                                   "index; ask about them with /ask."]))
    title = "Daily briefing"
    text_lines = [title]
    for section in sections:
        text_lines.append(f"\n{section.heading}")
        text_lines += [f"• {ln}" for ln in section.lines]
    return Briefing(title=title, text="\n".join(text_lines), sections=sections,
                    citations=citations)
