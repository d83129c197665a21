"""Turn a question into a grounded answer, or an honest abstention.

Every line shown is a sentence (or a trimmed role phrase) copied from a seed, with a [n]
marker pointing at its citation. Abstention is decided on evidence, not on a score alone:
the question's names must be in the articles, its topic words must be, and the chosen
sentences must hold the kind of answer asked for (a place for where, a time for when...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.extract import Entity, is_role_word
from bot.engine.index import KnowledgeIndex
from bot.engine.intents import Intent, classify
from bot.engine.lexicon import (
    GENERIC_QUESTION_TERMS,
    MONTHS,
    QUESTION_WORDS,
    STOPWORDS_CAPS,
    WEEKDAYS,
)
from bot.engine.text import STOPWORDS, content_tokens, fold, words
from bot.models import MAX_ANSWER_CHARS, Answer, Citation

_TIME = re.compile(
    r"\b(?:(?:early|mid|late)[- ])?(?:" + "|".join(MONTHS + WEEKDAYS) + r")\b|\b(?:1[89]|20)\d\d\b|"
    r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|\b(?:yesterday|today|tomorrow|tonight|last|next|ago|"
    r"since|until|weeks?|months?|years?|decades?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
                     r"thousand|million|billion|dozen|half|percent|per cent)\b", re.IGNORECASE)
_PLACE_PREP = re.compile(r"\b(?:in|at|near|to|from)\s+(?:the\s+)?[A-Z][\w-]+")
_ANAPHOR = re.compile(r"^(?:That|This|These|Those|It|Such)\b")
MIN_COVERAGE = 0.5
NAME_MATCH = 80


def _as_typed(question: str, folded: str) -> str:
    """The words of `question` that fold to `folded`, as the user typed them."""
    raw = question.strip(" ?!.")
    folded_raw = fold(raw)
    at = folded_raw.find(folded)
    if at >= 0 and len(folded_raw) == len(raw):
        return raw[at: at + len(folded)]
    return folded


@dataclass
class Line:
    sentence: int
    text: str
    suffix: str = ""


class Answerer:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.ix = index
        self._section = np.zeros(len(index.sentences), dtype=np.float32)

    # -- entry point ----------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        intent = classify(question)
        if intent.kind == "author":
            return self._author(question)
        if intent.kind in ("who", "quote") and intent.subject:
            person = self.find_person(intent.subject)
            if person is not None:
                return self._quotes(question, person) if intent.kind == "quote" else \
                    self._card(question, person)
            if intent.kind == "who":
                return self._mentions(question, intent.subject)
        return self._ranked(question, intent)

    # -- people ---------------------------------------------------------------------------
    def find_person(self, name: str) -> Entity | None:
        """Exact alias, then a misspelling, then a description such as 'the minister'."""
        q = fold(name).strip(" ?.!")
        q = re.sub(r"(?:'s|s')$", "", q)
        q = re.sub(r"^(?:mr|mrs|ms|dr|prof|professor|president)\.? ", "", q)
        key = self.ix.extraction.alias_index.get(q)
        if key and key.startswith("person:"):
            return self.ix.entities[key]
        people = self.ix.people()
        if not people:
            return None
        choices = self.ix.person_aliases
        hit = process.extractOne(q, choices.keys(), scorer=fuzz.ratio, score_cutoff=NAME_MATCH)
        if hit:
            return self.ix.entities[choices[hit[0]]]
        firsts = self.ix.first_names
        if " " not in q:
            hit = process.extractOne(q, firsts.keys(), scorer=fuzz.ratio, score_cutoff=88)
            if hit:
                return self.ix.entities[firsts[hit[0]]]
        bare = re.sub(r"^(?:the|a|an) ", "", q)
        if any(is_role_word(w) for w in bare.split()):
            best, best_score = None, 0.0
            for p in people:
                for known in filter(None, [p.role, *p.descriptions]):
                    score = fuzz.token_set_ratio(bare, fold(known))
                    if score > best_score:
                        best, best_score = p, score
            if best is not None and best_score >= 70:
                return best
        return None

    def _card(self, question: str, person: Entity) -> Answer:
        lines: list[Line] = []
        head = person.name
        if person.role:
            head = f"{person.name} — {person.role}"
        if person.note and person.role == "author":
            head = f"{person.name} — {person.note}"
        picks: list[int] = []
        if person.role_sentence is not None:
            picks.append(person.role_sentence)
        direct = [i for i in person.quotes if self._direct(i)]
        picks += direct + [i for i in person.quotes if i not in direct]
        picks += person.mentions
        seen: set[int] = set()
        for i in picks:
            if i in seen or not self.ix.answerable[i]:
                continue
            seen.add(i)
            lines.append(Line(i, self.ix.sentences[i].text))
        if not lines and person.role == "author":
            lines = [Line(i, self.ix.sentences[i].text) for i in self._byline_sentences(person)]
        return self._compose(question, "who", lines, head=head, title=person.name)

    def _quotes(self, question: str, person: Entity) -> Answer:
        direct = [i for i in person.quotes if self._direct(i)]
        order = direct + [i for i in person.quotes if i not in direct]
        lines = [Line(i, self.ix.sentences[i].text) for i in order if self.ix.answerable[i]]
        if not lines:
            return self._abstain(question, "quote",
                                 f"The articles quote nothing said by {person.name}.")
        return self._compose(question, "quote", lines, head=f"{person.name} said:",
                             title=person.name, keep_order=True)

    def _author(self, question: str) -> Answer:
        lines: list[Line] = []
        names: list[str] = []
        for doc in self.ix.documents:
            for author in doc.authors:
                names.append(f"{author} (“{doc.title}”)")
                for p in doc.paragraphs:
                    if p.kind in ("byline", "signoff"):
                        lines.append(Line(p.sentences[0], self.ix.sentences[p.sentences[0]].text))
                        break
        if not names:
            return self._abstain(question, "author", "The articles don't name their authors.")
        head = "Written by " + "; ".join(names[:5])
        return self._compose(question, "who", lines, head=head, title="Authors", max_lines=3)

    def _byline_sentences(self, person: Entity) -> list[int]:
        out = []
        for d in self.ix.documents:
            if person.name in d.authors:
                out += [p.sentences[0] for p in d.paragraphs if p.kind in ("byline", "signoff")]
        return out[:2]

    def _mentions(self, question: str, subject: str) -> Answer:
        """`who is X` for a name that is not a person we know: organisations, places, text."""
        q = fold(subject).strip()
        key = self.ix.extraction.alias_index.get(re.sub(r"^the ", "", q))
        if key:
            ent = self.ix.entities[key]
            lines = [Line(i, self.ix.sentences[i].text) for i in ent.mentions
                     if self.ix.answerable[i]]
            if lines:
                return self._compose(question, "who", lines, title=ent.name, max_lines=3)
        return self._abstain(question, "who",
                             f"The articles don't mention {_as_typed(question, subject)}.")

    def _direct(self, i: int) -> bool:
        a = self.ix.extraction.attributions.get(i)
        return bool(a and a.direct)

    # -- ranked sentences -------------------------------------------------------------------
    def _terms(self, question: str) -> tuple[list[str], list[str], list[str]]:
        """(names, topic words, all content words) of the question, folded."""
        raw = words(question)
        names, topics, content = [], [], []
        for pos, w in enumerate(raw):
            f = fold(w)
            f = re.sub(r"(?:'s|’s)$", "", f)
            if f in STOPWORDS or f in QUESTION_WORDS or len(f) < 2:
                continue
            content.append(f)
            if f in GENERIC_QUESTION_TERMS:
                continue
            is_name = (w[:1].isupper() and pos > 0 and f not in STOPWORDS_CAPS) or (
                f in self.ix.extraction.alias_index)
            (names if is_name else topics).append(f)
        return names, topics, content

    def _is_covered(self, term: str) -> bool:
        stems = content_tokens(term)
        if stems and all(self.ix.covered(s) for s in stems):
            return True
        return any(self.ix.covered(s) for s in self.ix.expand(term))

    def _name_known(self, name: str) -> bool:
        if name in self.ix.extraction.alias_index or self._is_covered(name):
            return True
        return process.extractOne(name, self.ix.all_aliases, scorer=fuzz.ratio,
                                  score_cutoff=85) is not None

    def _ranked(self, question: str, intent: Intent) -> Answer:
        kind = intent.kind
        names, topics, content = self._terms(question)
        unknown = [n for n in names if not self._name_known(n)]
        if unknown:
            return self._abstain(question, kind,
                                 f"The articles don't mention {_as_typed(question, unknown[0])}.")
        if intent.kind == "quote" and intent.subject:
            kind = "what"  # "what does Russia say": not a person we know; rank sentences
        if topics and not any(self._is_covered(t) for t in topics):
            return self._abstain(question, kind, "The articles don't cover that.")
        if not content:
            return self._abstain(question, kind, "I couldn't tell what the question is about.")
        q_stems = [s for t in content for s in content_tokens(t)]
        syn_stems = [s for t in content for s in self.ix.expand(t) if s not in q_stems]
        scores = self.ix.scores(q_stems)
        if syn_stems:
            scores = scores + 0.5 * self.ix.scores(syn_stems)
        if self.ix.semantic is not None:
            scores = self.ix.semantic.fuse(question, scores)
        heads = self.ix.section_heading
        section = np.where(heads >= 0, scores[np.maximum(heads, 0)], 0.0)
        self._section = section / (float(section.max()) or 1.0)
        scores = np.where(self.ix.answerable, scores + 0.3 * float(scores.max()) * self._section,
                          0.0)
        if not scores.any():
            return self._abstain(question, kind, "The articles don't cover that.")
        pool = self._pool(scores, kind)
        best = float(scores[pool].max()) or 1.0
        final = {i: self._score(i, scores[i] / best, kind) for i in pool}
        ranked = sorted(pool, key=lambda i: -final[i])
        chosen = self._choose(ranked, final, kind)
        if not chosen:
            return self._abstain(question, kind, self._missing_type(kind))
        coverage = self._coverage(content, chosen)
        if coverage < MIN_COVERAGE and kind not in ("why_obstacle",):
            return self._abstain(question, kind, "The articles don't cover that.")
        lines = [self._line(i, kind) for i in chosen]
        intent_name = {"why_obstacle": "why", "how_much": "what", "yesno": "what",
                       "who_said": "quote"}.get(kind, kind)
        return self._compose(question, intent_name, lines)

    def _pool(self, scores: np.ndarray, kind: str) -> list[int]:
        nonzero = np.flatnonzero(scores > 0)
        k = min(40, len(nonzero))
        if k < len(nonzero):
            nonzero = nonzero[np.argpartition(-scores[nonzero], k - 1)[:k]]
        pool = [int(i) for i in nonzero]
        if kind == "why_obstacle" and pool:
            docs = {self.ix.sentences[i].doc for i in sorted(pool, key=lambda i: -scores[i])[:5]}
            for d in docs:
                for p in self.ix.documents[d].paragraphs:
                    pool += [i for i in p.sentences if self.ix.answerable[i]
                             and self._obstacle(i) >= 0.5 and i not in pool]
        if kind == "who_said":
            pool = [i for i in pool if i in self.ix.extraction.attributions]
        return pool

    def _obstacle(self, i: int) -> float:
        return float(self.ix.obstacle[i])

    def _has_type(self, i: int, kind: str) -> bool:
        text = self.ix.sentences[i].text
        if kind == "when":
            return bool(_TIME.search(text))
        if kind == "where":
            return "place" in self.ix.sentence_kinds[i] or bool(_PLACE_PREP.search(text))
        if kind == "how_much":
            return bool(_NUMBER.search(text))
        if kind == "who_said":
            return i in self.ix.extraction.attributions
        return True

    def _score(self, i: int, rel: float, kind: str) -> float:
        attributed = 0.2 if i in self.ix.extraction.attributions else 0.0
        section = float(self._section[i])
        if kind == "why_obstacle":
            return 0.3 * rel + 0.8 * self._obstacle(i) + attributed + 0.3 * section
        if kind == "why":
            causal = 0.2 if self.ix.causal[i] else 0.0
            return rel + causal + attributed / 2
        typed = 0.3 if kind in ("when", "where", "how_much", "who_said") and self._has_type(
            i, kind) else 0.0
        return rel + typed + 0.1 * section

    def _choose(self, ranked: list[int], final: dict[int, float], kind: str) -> list[int]:
        many = kind in ("why_obstacle",)
        limit = 7 if many else 3
        floor = 0.3 if many else 0.6
        chosen: list[int] = []
        per_para: dict[tuple[int, int], int] = {}
        top_score = None
        for i in ranked:
            s = self.ix.sentences[i]
            score = final[i]
            top_score = score if top_score is None else top_score
            if score < floor * top_score or len(chosen) >= limit:
                break
            if kind in ("when", "where", "how_much") and not self._has_type(i, kind):
                continue
            key = (s.doc, s.paragraph)
            if per_para.get(key, 0) >= (3 if many else 2):
                continue
            toks = set(self.ix.tokens[i])
            if any(len(toks & set(self.ix.tokens[j])) > 0.6 * max(1, len(toks)) for j in chosen):
                continue
            chosen.append(i)
            per_para[key] = per_para.get(key, 0) + 1
        return chosen

    def _coverage(self, content: list[str], chosen: list[int]) -> float:
        """Share of the question's information (IDF-weighted words) the chosen lines hold."""
        have = set().union(*(set(self.ix.tokens[i]) for i in chosen))
        for i in chosen:
            for j in self._context(i):
                have |= set(self.ix.tokens[j])
        total = got = 0.0
        for word in set(content):
            stems = content_tokens(word)
            if not stems:
                continue
            weight = max(self.ix.idf(s) for s in stems)
            total += weight
            if any(s in have for s in stems) or self.ix.expand(word) & have:
                got += weight
        return got / (total or 1.0)

    def _context(self, i: int) -> list[int]:
        """The sentence before an anaphoric one ('That is why…') in the same paragraph."""
        s = self.ix.sentences[i]
        if s.position > 1 and _ANAPHOR.match(s.text):
            return [i - 1]
        return []

    def _line(self, i: int, kind: str) -> Line:
        text = self.ix.sentences[i].text
        before = self._context(i)
        if before:
            text = self.ix.sentences[before[0]].text + " " + text
        suffix = ""
        a = self.ix.extraction.attributions.get(i)
        if a and kind in ("why_obstacle", "why", "who_said", "yesno", "what", "how"):
            suffix = f" — {a.label}"
        return Line(i, text, suffix)

    def _missing_type(self, kind: str) -> str:
        return {
            "when": "The articles don't say when.",
            "where": "The articles don't say where.",
            "how_much": "The articles give no figure for that.",
            "who_said": "The articles attribute nothing like that to anyone.",
        }.get(kind, "The articles don't cover that.")

    # -- output ---------------------------------------------------------------------------
    def _compose(self, question: str, intent: str, lines: list[Line], head: str | None = None,
                 title: str | None = None, max_lines: int = 6, keep_order: bool = False) -> Answer:
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
            s = self.ix.sentences[line.sentence]
            doc = self.ix.documents[s.doc]
            citations.append(Citation(document=doc.title, paragraph=s.paragraph, quote=line.text,
                                      doc_id=doc.id, sentence_ids=[s.id], url=doc.url))
        if not citations and head is None:
            return self._abstain(question, intent, "The articles don't cover that.")
        return Answer(question=question, text="\n".join(parts), intent=intent,
                      citations=citations, title=title)

    def _abstain(self, question: str, intent: str, reason: str) -> Answer:
        suggestions = self.suggestions()
        text = reason + " " + "The articles cover: " + "; ".join(suggestions) + "."
        if len(text) > MAX_ANSWER_CHARS:
            text = text[: MAX_ANSWER_CHARS - 1] + "…"
        return Answer(question=question, text=text, abstained=True, intent=intent,
                      suggestions=suggestions)

    def suggestions(self) -> list[str]:
        cached = self.ix.stats.get("suggestions")
        if cached is None:
            cached = self.ix.stats["suggestions"] = self._suggestions()
        return list(cached)

    def _suggestions(self) -> list[str]:
        titles = [d.title for d in self.ix.documents[:3]]
        people = self.ix.people_names()[:3]
        out = titles + [f"try `who is {p}`" for p in people[:2]]
        quoted = [p for p in self.ix.people() if p.quotes]
        if quoted:
            top = max(quoted, key=lambda p: len(p.quotes))
            out.append(f"`what did {top.name.split()[-1]} say`")
        return out
