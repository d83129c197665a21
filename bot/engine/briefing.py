"""Compose the daily briefing from the index: a minute's read, every line cited.

Per article (the first five): the headline; who is involved, with the role the article gives
each (people with a role, most mentioned first, each role cited to the sentence it comes from);
then a summary of three to six verbatim sentences chosen by centrality and coverage of the
article's distinct points over its sentence vectors (`bot.engine.summarize`), in reading
order. A direct quote whose sentence does not name its
speaker gets "— Name"; "Open question:" marks only a sentence that is one (it ends with "?").
Then what is new since the channel's previous briefing (articles and people added by a reload).
The whole text stays under about 3,500 characters: each article gets an equal share.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.engine.summarize import summarize
from bot.engine.text import fold, truncate, words
from bot.models import Briefing, BriefingSection, Citation

if TYPE_CHECKING:
    from bot.engine.corpus import Corpus
    from bot.engine.documents import Paragraph
    from bot.engine.extract import Entity

MAX_ARTICLES = 5
MAX_PEOPLE = 4
MAX_CHARS = 3500
"""Soft bound on the briefing text: about a minute's read."""
SUMMARY_MIN, SUMMARY_MAX = 3, 6
SENTENCES_PER_PICK = 6
"""A summary sentence per this many candidate sentences (about a sixth of the article),
between SUMMARY_MIN and SUMMARY_MAX."""
MIN_TOKENS = 3
"""Sentences with fewer content tokens carry no thread of their own."""
ROLE_CHARS = 120
MARKER_CHARS = 8
"""Room kept for a line's bullet and ` [nn]` marker when budgeting."""
_CLOSERS = " \"'”’)]»"


def is_question(text: str) -> bool:
    return text.rstrip(_CLOSERS).endswith("?")


def compose_briefing(ix: Corpus, since: datetime | None = None,
                     known_docs: set[str] | None = None,
                     known_people: set[str] | None = None) -> Briefing:
    citations: list[Citation] = []
    cited: dict[int, int] = {}

    def cite(i: int) -> str:
        if i not in cited:
            s = ix.sentences[i]
            doc = ix.documents[s.doc]
            citations.append(Citation(document=doc.title, paragraph=s.paragraph, quote=s.text,
                                      doc_id=doc.id, sentence_ids=[s.id], url=doc.url))
            cited[i] = len(citations)
        return f"[{cited[i]}]"

    tail = _tail_sections(ix, since, known_docs, known_people)
    title = "Daily briefing"
    articles = [(doc, body) for doc in ix.documents[:MAX_ARTICLES]
                if (body := _candidates(ix, doc.idx, doc.paragraphs))]
    room = MAX_CHARS - len(title) - len(_render(tail))
    share = room // max(1, len(articles))

    sections: list[BriefingSection] = []
    for doc, body in articles:
        lines: list[str] = []
        used = len(doc.title) + 2
        who = _who_line(ix, doc.idx, cite, share // 2)
        if who:
            lines.append(who)
            used += len(who) + 3
        k = min(len(body), max(SUMMARY_MIN, min(SUMMARY_MAX,
                                                math.ceil(len(body) / SENTENCES_PER_PICK))))
        texts = [_line_text(ix, i) for i in body]
        picks = summarize([ix.tokens[i] for i in body], k, vectors=ix.dense[body],
                          groups=[ix.sentences[i].paragraph for i in body],
                          costs=[len(t) + MARKER_CHARS for t in texts], budget=share - used)
        lines += [f"{texts[p]} {cite(body[p])}" for p in picks]
        sections.append(BriefingSection(heading=doc.title, lines=lines))
    sections += tail

    return Briefing(title=title, text=title + _render(sections), sections=sections,
                    citations=citations)


def _render(sections: list[BriefingSection]) -> str:
    out = []
    for section in sections:
        out.append(f"\n\n{section.heading}")
        out += [f"\n• {ln}" for ln in section.lines]
    return "".join(out)


def _candidates(ix: Corpus, doc: int, paragraphs: list[Paragraph]) -> list[int]:
    """The article's body sentences that may be shown, in reading order."""
    return [i for p in paragraphs if p.kind == "body" for i in p.sentences
            if ix.answerable[i] and ix.sentences[i].kind == "body"
            and ix.sentences[i].doc == doc and len(ix.tokens[i]) >= MIN_TOKENS]


def _line_text(ix: Corpus, i: int) -> str:
    """The sentence verbatim, marked as a question only when it is one, and followed by its
    speaker when it is a direct quote that does not name them."""
    text = ix.sentences[i].text
    if is_question(text):
        text = f"Open question: {text}"
    attribution = ix.extraction.attributions.get(i)
    if attribution and attribution.direct and attribution.person and attribution.label:
        named = {fold(w) for w in words(ix.sentences[i].text)}
        if not any(fold(w) in named for w in words(attribution.label) if len(w) > 2):
            text = f"{text} — {attribution.label}"
    return text


def _who_line(ix: Corpus, doc: int, cite: Callable[[int], str],
              budget: int) -> str | None:
    """The people the article involves who have a role, most mentioned first, each with the
    role cited to the sentence it was read from, preferring one of this article that states it
    (a person may be in several articles), else to their first mention here (a curated role)."""
    mine: list[tuple[int, int, Entity, int]] = []
    for person in ix.people():
        here = [i for i in person.mentions if ix.sentences[i].doc == doc and ix.answerable[i]]
        if not person.role or not here:
            continue
        source = person.role_sentence
        if source is None or not ix.answerable[source] or ix.sentences[source].doc != doc:
            role = fold(person.role)
            source = next((i for i in here if role in fold(ix.sentences[i].text)),
                          source if source is not None and ix.answerable[source] else here[0])
        mine.append((-len(here), here[0], person, source))
    mine.sort(key=lambda m: (m[0], m[1]))
    parts: list[str] = []
    length = len("Who: ")
    for _, _, person, source in mine[:MAX_PEOPLE]:
        part = f"{person.name}, {truncate(person.role or '', ROLE_CHARS)}"
        if parts and length + len(part) + MARKER_CHARS > budget:
            break
        parts.append(f"{part} {cite(source)}")
        length += len(parts[-1]) + 2
    return "Who: " + "; ".join(parts) if parts else None


def _tail_sections(ix: Corpus, since: datetime | None, known_docs: set[str] | None,
                   known_people: set[str] | None) -> list[BriefingSection]:
    sections: list[BriefingSection] = []
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
    return sections
