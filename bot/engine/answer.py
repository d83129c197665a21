"""Turn a question into a grounded answer, or an honest abstention.

Every line shown is a sentence (or a trimmed role phrase) copied from a seed, with a [n]
marker pointing at its citation. Abstention is decided on evidence, not on a score alone:
the question's names must be in the articles, its topic words must be, and the chosen
sentences must hold the kind of answer asked for (a place for where, a time for when...).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.compose import Line, abstain, all_said, compose
from bot.engine.corpus import Corpus
from bot.engine.decide import Decision, decide, decide_more
from bot.engine.extract import Entity, is_role_word
from bot.engine.features import RANK_FEATURES, QuestionTerms, question_terms
from bot.engine.intents import Intent, classify
from bot.engine.lexicon import GENERIC_QUESTION_TERMS, QUESTION_WORDS, STOPWORDS_CAPS
from bot.engine.markup import clean_question
from bot.engine.reasons import (
    MAX_REASONS,
    pick_reasons,
    reason_markers,
    reason_params,
    reason_scores,
    relevance,
)
from bot.engine.retrieval import CANDIDATES
from bot.engine.scorer import Scorer, load_scorer
from bot.engine.summarize import summarize
from bot.engine.text import STOPWORDS, content_tokens, fold, words
from bot.models import Answer

_ANAPHOR = re.compile(r"^(?:That|This|These|Those|It|Such)\b")
_CONTINUES = re.compile(  # "In addition, …", "This could…", "The front suspension was also…"
    r"^(?:In addition|Additionally|Also|Moreover|Furthermore|Besides|"
    r"This|That|These|Those|It|Such|Then|So)\b|^(?:[\w’'-]+,? ){1,5}also\b")
NAME_MATCH = 80
PASSAGE_CHARS = 420
"""A line carries its next sentence only while the two stay this short (two sentences)."""
REASON_POOL = 50
"""Candidates drawn from each retrieval list for a reasons question: reasons are spread wider
than the one sentence a factual question needs."""


def _as_typed(question: str, folded: str) -> str:
    """The words of `question` that fold to `folded`, as the user typed them."""
    raw = question.strip(" ?!.")
    folded_raw = fold(raw)
    at = folded_raw.find(folded)
    if at >= 0 and len(folded_raw) == len(raw):
        return raw[at: at + len(folded)]
    return folded


class Answerer:
    """Answers one question; with `shown` (sentence ids of earlier answers to it), answers the
    follow-up "tell me more": the same path, its next-best sentences not among `shown`, or
    `all_said` when nothing relevant is left."""

    def __init__(self, index: Corpus, shown: Collection[str] | None = None) -> None:
        self.ix = index
        self.more = shown is not None
        at = index.sentence_at
        self.shown = frozenset(at[i] for i in shown or () if i in at)

    # -- entry point ----------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        """Understand the question, then take the one path that fits it.

        Chat markup and control characters are removed first, so `<@U1> who is X` is `who is
        X` and nothing raw is echoed back. Names and authors are lookups in the extracted
        entities; summaries and "who is involved" are built from the articles as a whole;
        everything else is retrieved, scored by the learned model, and shown or abstained on.
        """
        question = clean_question(question)
        intent = classify(question)
        if intent.kind == "author":
            return self._author(question)
        if intent.kind == "summary":
            return self._summary(question)
        if intent.kind == "people":
            return self._involved(question)
        if not self.more and (intent.kind == "reasons" or (
                intent.kind == "why" and reason_params().why_lists)):
            return self._ranked(question, intent, reasons=True)
        if intent.kind in ("who", "quote") and intent.subject:
            person = self.find_person(intent.subject)
            if person is not None and intent.kind == "who":
                return self._card(question, person)
            if person is not None and intent.kind == "quote":
                return self._said(question, intent, person)
            if intent.kind == "who":
                found = self._mentions(question, intent.subject)
                if found is not None:
                    return found
                unknown = self._unknown_name(question, intent.subject)
                if unknown:
                    return self._abstain(question, "who",
                                         f"The articles don't mention {unknown}.")
        return self._ranked(question, intent)

    # -- the articles as a whole ------------------------------------------------------------
    def _summary(self, question: str) -> Answer:
        """The most central sentences of the most recent articles (LexRank + MMR)."""
        lines: list[Line] = []
        for doc in self.ix.documents[:3]:
            body = [i for p in doc.paragraphs if p.kind == "body" for i in p.sentences
                    if self.ix.answerable[i]]
            if not body:
                continue
            k = (3 if len(self.ix.documents) == 1 else 2) + sum(i in self.shown for i in body)
            picks = summarize([self.ix.tokens[i] for i in body], k=min(k, len(body)),
                              vectors=self.ix.dense[body])
            lines += [Line(body[k], self.ix.texts[body[k]]) for k in picks]
        if not lines:
            return self._abstain(question, "summary", "The articles have no text to summarise.")
        title = self.ix.documents[0].title if len(self.ix.documents) == 1 else "Summary"
        return self._compose(question, "summary", lines, title=title)

    def _involved(self, question: str) -> Answer:
        """The people the articles name with a role, most mentioned first."""
        people = [p for p in sorted(self.ix.people(), key=lambda e: (-len(e.mentions), e.name))
                  if p.role and p.role != "author"]
        if self.more:  # the next people: those whose line was not shown yet
            people = [p for p in people if self._role_line(p) not in self.shown]
            if not people:
                return all_said(question, "who", "the people involved")
        lines: list[Line] = []
        for p in people[:6]:
            i = self._role_line(p)
            if i is not None and self.ix.answerable[i]:
                lines.append(Line(i, self.ix.texts[i]))
        if not lines:
            return self._abstain(question, "who", "The articles name nobody with a role.")
        head = ("More people in the articles: " if self.more else "People in the articles: ") \
            + "; ".join(f"{p.name} ({p.role})" for p in people[:6])
        return self._compose(question, "who", lines, head=head, title="People")

    @staticmethod
    def _role_line(p: Entity) -> int | None:
        return p.role_sentence if p.role_sentence is not None else (
            p.mentions[0] if p.mentions else None)

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
            return self._by_description(bare, people)
        return None

    def _by_description(self, bare: str, people: list[Entity]) -> Entity | None:
        """`the mayor of Springfield`: a person whose role has the same role noun, and whose
        role or articles hold the other words too (a mayor of another town does not match);
        ties go to the closer wording."""
        nouns = [w for w in bare.split() if is_role_word(w)]
        others = [w for w in bare.split() if w not in STOPWORDS and not is_role_word(w)]
        best: tuple[float, float] | None = None
        found: Entity | None = None
        for p in people:
            docs = " ".join(fold(self.ix.texts[i]) for i in p.mentions)
            for known in filter(None, [p.role, *p.descriptions]):
                text = fold(known)
                if not all(re.search(rf"\b{re.escape(n)}", text) for n in nouns):
                    continue
                if not all(re.search(rf"\b{re.escape(w)}", text + " " + docs) for w in others):
                    continue
                score = (fuzz.token_set_ratio(bare, text), fuzz.token_sort_ratio(bare, text))
                if score[0] >= 70 and (best is None or score > best):
                    best, found = score, p
        return found

    def _card(self, question: str, person: Entity) -> Answer:
        lines: list[Line] = []
        head: str | None = None  # the title names the person; a head only adds a role
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
        return self._compose(question, "who", lines, head=head, title=person.name,
                             about=person.name)

    def _said(self, question: str, intent: Intent, person: Entity) -> Answer:
        """`what did X say (about Y)`: X's quotes, closest to Y first; an abstention naming Y
        when the articles lack it; the ranked sentences when X is quoted nowhere extraction
        could tell (their words may be reported some other way)."""
        absent = self._absent_name(question, self._names(_as_typed(question, intent.rest)))
        if absent:
            return self._abstain(question, "quote", f"The articles don't mention {absent}.")
        if person.quotes:
            return self._quotes(question, person, intent.rest)
        ranked = self._ranked(question, intent)
        return self._quotes(question, person) if ranked.abstained else ranked

    def _quotes(self, question: str, person: Entity, about: str = "") -> Answer:
        """What the person is quoted saying: direct quotations first, or, for `what did X
        say about Y`, those closest in meaning to Y first."""
        direct = [i for i in person.quotes if self._direct(i)]
        order = direct + [i for i in person.quotes if i not in direct]
        if content_tokens(about):
            closeness = self.ix.cosines(about)
            order.sort(key=lambda i: -float(closeness[i]))
        lines = [Line(i, self.ix.sentences[i].text) for i in order if self.ix.answerable[i]]
        if not lines:
            return self._abstain(question, "quote",
                                 f"The articles quote nothing said by {person.name}.")
        return self._compose(question, "quote", lines, head=f"{person.name} said:",
                             title=person.name, about=person.name)

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
        """The byline of each article by this author or, when the byline is only in the front
        matter, the article's first sentence: what they wrote, with something to cite."""
        out = []
        for d in self.ix.documents:
            if person.name in d.authors:
                byline = [p.sentences[0] for p in d.paragraphs
                          if p.kind in ("byline", "signoff") and p.sentences]
                lead = [i for p in d.paragraphs if p.kind == "body" for i in p.sentences
                        if self.ix.answerable[i]][:1]
                out += byline or lead
        return out[:2]

    def _unknown_name(self, question: str, subject: str) -> str | None:
        """`who is Olaf Scholz` asks for someone by name: when a word of that name is in no
        article, the person is not covered (a namesake "Olaf" is no answer)."""
        typed = _as_typed(question, fold(subject).strip())
        capitals = [w for w in words(typed) if w[:1].isupper()]
        if not capitals:
            return None
        for w in capitals:
            if not self._name_known(fold(w)):
                return typed
        return None

    def _mentions(self, question: str, subject: str) -> Answer | None:
        """`who is X` for a name that is not a person we know: organisations and places.
        None when X is no entity: the question is then ranked like any other."""
        q = fold(subject).strip()
        key = self.ix.extraction.alias_index.get(re.sub(r"^the ", "", q))
        if key:
            ent = self.ix.entities[key]
            lines = [Line(i, self.ix.sentences[i].text) for i in ent.mentions
                     if self.ix.answerable[i]]
            if lines:
                return self._compose(question, "who", lines, title=ent.name, max_lines=3,
                                     about=ent.name)
        return None

    def _direct(self, i: int) -> bool:
        a = self.ix.extraction.attributions.get(i)
        return bool(a and a.direct)

    # -- ranked sentences -------------------------------------------------------------------
    def _names(self, question: str) -> list[str]:
        """The names typed in the question, folded: capitalised after the first word, or
        known to the index (to say which one the articles lack when abstaining)."""
        names = []
        for pos, w in enumerate(words(question)):
            f = re.sub(r"(?:'s|’s)$", "", fold(w))
            if f in STOPWORDS or f in QUESTION_WORDS or f in GENERIC_QUESTION_TERMS or len(f) < 2:
                continue
            if (w[:1].isupper() and pos > 0 and f not in STOPWORDS_CAPS) or (
                    f in self.ix.extraction.alias_index):
                names.append(f)
        return names

    def _is_covered(self, term: str) -> bool:
        stems = content_tokens(term)
        if stems and all(self.ix.covered(s) for s in stems):
            return True
        return any(self.ix.covered(s) for s in self.ix.expand(term))

    def _absent_name(self, question: str, names: list[str]) -> str | None:
        """The first of `names` (folded) no article knows, as the user typed it."""
        unknown = next((n for n in names if not self._name_known(n)), None)
        return None if unknown is None else _as_typed(question, unknown)

    def _name_known(self, name: str) -> bool:
        if name in self.ix.extraction.alias_index or self._is_covered(name):
            return True
        return process.extractOne(name, self.ix.all_aliases, scorer=fuzz.ratio,
                                  score_cutoff=85) is not None

    def _ranked(self, question: str, intent: Intent, reasons: bool = False) -> Answer:
        """Retrieve, score with the learned model, and show the best sentences or abstain;
        with `reasons`, the distinct reasons among a wider pool (`reasons.py`)."""
        kind = "why" if intent.kind == "reasons" else intent.kind
        names = self._names(question)
        synonyms = self.ix.synonyms  # an admin's, from seeds/curation.yaml
        curated = [syn for w in words(question) for syn in sorted(synonyms.get(fold(w), ()))]
        q = question_terms(" ".join([question, *curated]), self.ix.idf)
        if not q.stems:
            return self._abstain(question, kind, "I couldn't tell what the question is about.")
        scorer = load_scorer()
        allowed = self.ix.attributed if kind == "who_said" else None
        if reasons:
            decision = self._decide_reasons(q, intent, scorer)
        else:
            decision = self._decide(q, scorer, allowed)
        if allowed is not None and decision is None:
            decision = self._decide(q, scorer, None)
        if decision is None:
            absent = self._absent_name(question, names)
            if absent:
                return self._abstain(question, kind, f"The articles don't mention {absent}.")
            return self._abstain(question, kind, self._missing_type(kind))
        if not decision.shown:  # a follow-up with nothing relevant left
            return all_said(question, kind)
        carried: dict[int, int] = {}
        shown = self._reasons(decision, intent, q, carried) if reasons else decision.shown
        lines = self._lines(shown, kind, carried)
        intent_name = {"how_much": "what", "yesno": "what", "who_said": "quote"}.get(kind, kind)
        return self._compose(question, intent_name, lines, confidence=decision.confidence,
                             max_lines=MAX_REASONS if reasons else 6)

    def _decide_reasons(self, q: QuestionTerms, intent: Intent,
                        scorer: Scorer) -> Decision | None:
        """A wide pool of candidates for the question's reasons, or None when the articles
        don't cover it: answered when the answer model would answer the question, or its
        topic ("the deal" of "what stands in the way of the deal") asked as a factual
        question, since the model knows when the articles cover a thing better than when
        they list reasons for it."""
        pool = decide(self.ix, q, scorer, None, REASON_POOL)
        if pool.answer:
            return pool
        topic = question_terms(intent.subject, self.ix.idf) if intent.subject else q
        if topic.stems and topic != q and decide(self.ix, topic, scorer).answer:
            return pool
        return None

    def _reasons(self, decision: Decision, intent: Intent, q: QuestionTerms,
                 carried: dict[int, int]) -> list[int]:
        """The distinct reasons among the decision's candidates (see reasons.py); `carried`
        gets, per reason, the next sentence its line carries on to."""
        cands = decision.candidates
        idx = cands.indices
        col = {name: k for k, name in enumerate(RANK_FEATURES)}
        feats = cands.features
        params = reason_params()
        # without a topic ("what could go wrong"), the question is its own topic
        topic = self.ix.cosines(intent.subject or q.text)
        rel = relevance(feats[:, col["dense_cos"]], topic[idx],
                        np.maximum(feats[:, col["para_cos"]], feats[:, col["heading_cos"]]),
                        params, decision.probabilities)
        attributions = self.ix.extraction.attributions
        score = reason_scores(rel, np.array([reason_markers(self.ix.texts[i]) for i in idx]),
                              params)
        position = {int(i): k for k, i in enumerate(idx)}
        lead = [position[i] for i in decision.shown[:params.lead]]
        picks = pick_reasons(score, self.ix.dense[idx],
                             [int(self.ix.para_start[i]) for i in idx], params=params,
                             first=lead)
        by_sentence = {int(i): float(v) for i, v in zip(idx, score, strict=True)}
        shown = [int(idx[p]) for p in picks]
        for i in shown:
            j = i + 1
            if j >= int(self.ix.para_end[i]) or j in shown:
                continue
            quote = attributions.get(j)
            if by_sentence.get(j, 0.0) >= params.carry_share * by_sentence[i] or (
                    params.carry_quote and quote is not None and quote.direct
                    and attributions.get(i) is None):
                carried[i] = j
        return shown or decision.shown

    def _decide(self, q: QuestionTerms, scorer: Scorer, allowed: np.ndarray | None,
                k: int = CANDIDATES) -> Decision | None:
        """The decision, None when the question is not answered; for a follow-up, its next
        sentences (`decide_more`)."""
        if self.more:
            return decide_more(self.ix, q, scorer, self.shown, allowed)
        decision = decide(self.ix, q, scorer, allowed, k)
        return decision if decision.answer else None

    def _context(self, i: int) -> list[int]:
        """The sentence before an anaphoric one ('That is why…') in the same paragraph."""
        s = self.ix.sentences[i]
        if s.position > 1 and _ANAPHOR.match(s.text):
            return [i - 1]
        return []

    def _lines(self, shown: list[int], kind: str,
               carried: dict[int, int] | None = None) -> list[Line]:
        """One line per sentence shown, as a passage: the sentence an anaphor needs before
        it, and the next sentence when it carries the point on ("In addition…", "This
        could…", or one the reasons scorer found holds the same point). A next sentence
        that was to be shown on its own joins the line instead."""
        texts, out = self.ix.texts, []
        carried = carried or {}
        merged: set[int] = set()
        emitted: set[int] = set()
        for i in shown:
            if i in merged or i in emitted:
                continue
            line = self._line(i, kind, exclude=emitted)
            emitted.update((i, *line.context))
            j = carried.get(i, i + 1)
            announces = texts[i].rstrip().endswith(":")  # "We do see risks:" + the first
            if ((j < int(self.ix.para_end[i]) or (announces and self._same_doc(i, j)))
                    and self.ix.answerable[j]
                    and j not in line.context and j not in merged and j not in emitted
                    and (announces or j in carried.values() or _CONTINUES.match(texts[j]))
                    and len(line.text) + len(texts[j]) < PASSAGE_CHARS):
                line.text = f"{line.text} {texts[j]}"
                line.after = (j,)
                merged.add(j)
            out.append(line)
        return out

    def _same_doc(self, i: int, j: int) -> bool:
        return j < len(self.ix.sentences) and self.ix.sentences[j].doc == self.ix.sentences[i].doc

    def _line(self, i: int, kind: str, exclude: Collection[int] = ()) -> Line:
        """Sentence `i` as a line, after its anaphor's antecedent unless that is in `exclude`
        (already shown on a line of its own)."""
        text = self.ix.sentences[i].text
        before = [b for b in self._context(i) if b not in exclude]
        if before:
            text = self.ix.sentences[before[0]].text + " " + text
        suffix = ""
        a = self.ix.extraction.attributions.get(i)
        speaker_missing = a is not None and not a.direct and bool(a.person) and (
            a.label.split()[-1] not in text)
        quoted = a is not None and a.direct and kind in ("why", "who_said", "what", "how")
        if a is not None and (speaker_missing or quoted):
            suffix = f" — {a.label}"
        return Line(i, text, suffix, context=tuple(before))

    def _missing_type(self, kind: str) -> str:
        return {
            "when": "The articles don't say when.",
            "where": "The articles don't say where.",
            "how_much": "The articles give no figure for that.",
            "who_said": "The articles attribute nothing like that to anyone.",
        }.get(kind, "The articles don't cover that.")

    # -- output ---------------------------------------------------------------------------
    def _compose(self, question: str, intent: str, lines: list[Line], head: str | None = None,
                 title: str | None = None, max_lines: int = 6,
                 confidence: float | None = None, about: str | None = None) -> Answer:
        if self.more:
            lines = [ln for ln in lines if ln.sentence not in self.shown]
            answer = compose(self.ix, question, intent, lines, head=head, title=title,
                             max_lines=max_lines) if lines else None
            if answer is None or not answer.citations:
                return all_said(question, intent, about)
            return answer
        answer = compose(self.ix, question, intent, lines, head=head, title=title,
                         max_lines=max_lines, confidence=confidence)
        return answer or self._abstain(question, intent, "The articles don't cover that.")

    def _abstain(self, question: str, intent: str, reason: str) -> Answer:
        return abstain(question, intent, reason, self.suggestions())

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
