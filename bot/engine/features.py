"""Features of (question, candidate sentence) pairs and of a question's best candidates.

The learned scorer (`scorer.py`) weighs these; nothing here decides anything. Every feature
is general: lexical overlap weighted by the corpus's own IDF, BM25 and its rank, proximity,
and whether the sentence holds the kind of thing asked for (a time, a figure, a name). No
word list is tied to any article.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.engine.dense_search import LazyCosines
from bot.engine.lexicon import QUANTITY_NOUNS
from bot.engine.text import content_tokens, term

RANK_FEATURES = (
    "bias", "bm25_rel", "bm25_log", "rank_inv", "cover", "cover_ctx", "cover_para",
    "cover_count", "bigram", "density", "length_log", "first_in_para", "proximity",
    "type_match", "new_names", "new_numbers", "para_rel", "missing_max_idf", "early_doc",
    "missing_count", "substituted", "neg_mismatch", "focus_here", "dense_cos", "dense_rel",
    "soft_cover", "dense_rank_inv", "bm25_rank_inv", "rrf", "nb_cos", "para_cos",
    "heading_cos", "in_bm25",
)
ANSWER_FEATURES = (
    "bias", "p1", "p2", "margin", "cover1", "cover_best_ctx", "unknown_mass", "missing_top_idf",
    "n_terms_log", "bm25_top_log", "type_found", "wh_who", "wh_what", "wh_when", "wh_where",
    "wh_why", "wh_how", "wh_howmuch", "wh_which", "wh_other", "negated", "p_sum3",
    "missing_count1", "substituted1", "neg_mismatch1", "cover_max", "unknown_name",
    "focus_unknown", "focus_here1", "focus_here_any", "dense_best", "soft_cover1",
    "soft_cover_max", "dense1", "dense_margin", "in_bm25_1", "p_max",
)

_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|"
                     r"half|percent|per cent)\b", re.IGNORECASE)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_TIME = re.compile(
    rf"\b(?:{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
    r"\b(?:1[0-9]|20)\d\d(?:s)?\b|\b\d{1,2}(?:st|nd|rd|th)?[- ]centur|\bcentur(?:y|ies)\b|"
    r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.)|\b(?:yesterday|today|tomorrow|tonight|"
    r"ago|era|period|decade|years?|months?|weeks?|days?)\b",
    re.IGNORECASE)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’\-]+")
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|without)\b|n't\b", re.IGNORECASE)

WH_TYPES = ("who", "what", "when", "where", "why", "how", "howmuch", "which", "other")


_HOW_MUCH = re.compile(r"\bhow (much|many|long|far|big|large|old|often|tall|high|deep)\b")
_WHAT_TIME = re.compile(r"\b(?:what|which) (year|date|day|month|time|century|decade|period|era)\b")
_WHAT_AMOUNT = re.compile(
    r"\bwhat(?:'s|’s| is| was| are| were| will be| would be)? (?:the |its |their |his |her )?"
    r"(?:(?:total|average|estimated|approximate|annual|nominal|current|new) )?"
    r"(" + "|".join(sorted(QUANTITY_NOUNS)) + r")\b(?! groups?\b)")
"""`what is the population of X`, `what's the total cost`: a question for an amount, like
`how much`/`how many`; the noun stays a term (answers say "a population of 900,000")."""


_SPATIAL = re.compile(r"\b(?:outside|inside|near|nearby|north|south|east|west|northern|southern|"
                      r"eastern|western|across|along|beyond|abroad|overseas|upstream|"
                      r"downstream|offshore|rural|neighbou?ring)\b", re.IGNORECASE)
"""A place given without a name ("farmers outside the city", "in the north"): what a where
question can be answered with besides a capitalised name."""


def wh_type(question: str) -> str:
    """The question's wh-word class, looked for anywhere (SQuAD-style and chat-style)."""
    q = question.casefold()
    if _HOW_MUCH.search(q) or _WHAT_AMOUNT.search(q):
        return "howmuch"
    if _WHAT_TIME.search(q):
        return "when"
    for wh in ("who", "whom", "whose", "when", "where", "why", "which", "how", "what"):
        if re.search(rf"\b{wh}\b", q):
            return {"whom": "who", "whose": "who"}.get(wh, wh)
    return "other"


def _wh_phrase(question: str) -> str | None:
    """The term of the word that makes a wh-phrase ("old" of "how old", "year" of "what
    year"): it names the kind of answer, not a word the answer holds ("Webb, 51")."""
    q = question.casefold()
    m = _HOW_MUCH.search(q) or _WHAT_TIME.search(q)
    return term(m.group(1)) if m else None


def expects(wh: str) -> str | None:
    """The kind of token an answer to this wh-class holds, if any."""
    return {"who": "name", "when": "time", "where": "place", "howmuch": "number"}.get(wh)


@dataclass(frozen=True)
class QuestionTerms:
    """What the scorer needs of a question: stems with their IDF, names typed, wh-class."""

    stems: tuple[str, ...]
    weights: tuple[float, ...]
    surface: frozenset[str]
    wh: str
    negated: bool
    names: tuple[tuple[str, ...], ...] = ()
    """Stems of each capitalised word typed after the first: the names asked about."""
    text: str = ""
    """The question as asked (for the word-vector features)."""
    focus: str | None = None
    """The first content stem that is not a name: what is asked about the names
    ("population" in "what is the population of Hamburg")."""

    @property
    def total(self) -> float:
        return sum(self.weights) or 1.0


def question_terms(question: str, idf: Callable[[str], float]) -> QuestionTerms:
    """The question's distinct content stems in order, each weighted by its IDF here."""
    stems: list[str] = []
    asked = _wh_phrase(question)
    for s in content_tokens(question):
        if s not in stems and s != asked:
            stems.append(s)
    weights = tuple(idf(s) for s in stems)
    typed = re.findall(r"[\w'’\-]+", question)
    surface = frozenset(w.casefold() for w in typed)
    names = tuple(t for t in (tuple(content_tokens(w)) for w in typed[1:]
                              if w[:1].isupper()) if t)
    named = {s for name in names for s in name}
    focus = next((s for s in stems if s not in named), None)
    return QuestionTerms(tuple(stems), weights, surface, wh_type(question),
                         bool(_NEGATION.search(question)), names, question, focus)


def _has_type(text: str, kind: str | None, surface: frozenset[str]) -> tuple[float, float, float]:
    """(type match, new capitalised words, new numbers) of a sentence for a question."""
    names = [w for w in _CAPITAL.findall(text) if w.casefold() not in surface]
    numbers = [m for m in re.findall(r"\d[\d,.]*", text) if m.casefold() not in surface]
    new_names = min(len(names), 5) / 5.0
    new_numbers = min(len(numbers), 3) / 3.0
    if kind == "time":
        match = 1.0 if _TIME.search(text) else 0.0
    elif kind == "number":
        match = 1.0 if (numbers or _NUMBER.search(text)) else 0.0
    elif kind == "name":
        match = 1.0 if names else 0.0
    elif kind == "place":
        match = 1.0 if names or _SPATIAL.search(text) else 0.0
    else:
        match = 0.5
    return match, new_names, new_numbers


def _proximity(tokens: list[str], wanted: set[str]) -> float:
    """How tightly the question's words sit together in the sentence (1 = adjacent)."""
    pos = [k for k, t in enumerate(tokens) if t in wanted]
    if len(pos) < 2:
        return 0.0
    found = len({tokens[k] for k in pos})
    span = pos[-1] - pos[0] + 1
    return found / span


@dataclass(frozen=True)
class DenseView:
    """What the dense side knows of a question's candidates (see retrieval.py)."""

    cos: np.ndarray | LazyCosines
    """Per sentence of the corpus: MiniLM cosine to the question."""
    para_cos: np.ndarray
    """Per sentence: the best cosine in its paragraph."""
    heading_cos: np.ndarray
    """Per sentence: its section heading's cosine (0 without a heading)."""
    top: float
    """The best cosine of any usable sentence."""
    bm25_rank: dict[int, int]
    dense_rank: dict[int, int]
    fused: dict[int, float]
    """Reciprocal rank fusion of the two lists, 1 for first in both."""
    soft: np.ndarray
    """Per candidate (in candidate order): word-vector soft coverage of the question."""


def _substituted(q_stems: tuple[str, ...], toks: list[str], missing: set[str]) -> float:
    """Question words missing from the sentence whose neighbours in the question are there,
    next to some other word: the sentence says the same about something else."""
    pos = {t: k for k, t in enumerate(toks)}
    count = 0
    for k, w in enumerate(q_stems):
        if w not in missing:
            continue
        left = q_stems[k - 1] if k > 0 else None
        right = q_stems[k + 1] if k + 1 < len(q_stems) else None
        if (left in pos and pos[left] + 1 < len(toks) and toks[pos[left] + 1] not in q_stems) or (
                right in pos and pos[right] > 0 and toks[pos[right] - 1] not in q_stems):
            count += 1
    return float(min(count, 3)) / 3.0


def rank_features(q: QuestionTerms, candidates: np.ndarray, bm25: np.ndarray,
                  tokens: list[list[str]], texts: list[str], para_start: np.ndarray,
                  para_end: np.ndarray, para_score: np.ndarray, doc_position: np.ndarray,
                  heading: np.ndarray, dense: DenseView | None = None) -> np.ndarray:
    """One row of RANK_FEATURES per candidate sentence index (best fused rank first)."""
    n = len(candidates)
    out = np.zeros((n, len(RANK_FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    top = float(bm25[candidates].max()) or 1.0
    weight = dict(zip(q.stems, q.weights, strict=True))
    total = q.total
    wanted = set(q.stems)
    bigrams = set(zip(q.stems, q.stems[1:], strict=False))
    kind = expects(q.wh)
    top_para = float(para_score.max()) if len(para_score) else 0.0
    for r, i in enumerate(candidates):
        toks = tokens[i]
        tset = set(toks)
        start, end = int(para_start[i]), int(para_end[i])
        ctx = set(tset)
        for j in (i - 1, i + 1):
            if start <= j < end:
                ctx.update(tokens[j])
        para = set()
        for j in range(start, end):
            para.update(tokens[j])
        if heading[i] >= 0:
            para.update(tokens[int(heading[i])])
        # sums in the question's order, never a set's: a set's order changes with the
        # process's hash seed, and 1.0 against 1.0000000000000002 can cross a tree's split
        hit = tset & wanted
        cover = sum(weight[s] for s in q.stems if s in tset) / total
        cover_ctx = sum(weight[s] for s in q.stems if s in ctx) / total
        cover_para = sum(weight[s] for s in q.stems if s in para) / total
        missing = [weight[s] for s in q.stems if s not in ctx]
        sb = set(itertools.pairwise(toks))
        match, new_names, new_numbers = _has_type(texts[i], kind, q.surface)
        out[r] = (
            1.0,
            float(bm25[i]) / top,
            math.log1p(float(bm25[i])),
            1.0 / (r + 1),
            cover,
            cover_ctx,
            cover_para,
            len(hit) / max(1, len(wanted)),
            len(sb & bigrams) / max(1, len(bigrams)),
            len([t for t in toks if t in wanted]) / max(1, len(toks)),
            math.log1p(len(toks)),
            1.0 if i == start else 0.0,
            _proximity(toks, wanted),
            match,
            new_names,
            new_numbers,
            float(para_score[i]) / top_para if top_para else 0.0,
            max(missing, default=0.0) / (max(q.weights, default=1.0) or 1.0),
            float(doc_position[i]),
            min(len(missing), 5) / 5.0,
            _substituted(q.stems, toks, wanted - tset),
            1.0 if q.negated != bool(_NEGATION.search(texts[i])) else 0.0,
            1.0 if q.focus is not None and q.focus in ctx else 0.0,
            *_dense_row(dense, int(i), start, end, r),
        )
    return out


_DENSE_WIDTH = len(RANK_FEATURES) - RANK_FEATURES.index("dense_cos")


def _dense_row(d: DenseView | None, i: int, start: int, end: int, r: int) -> tuple[float, ...]:
    """The dense and fusion features of candidate `i` (at position r), zeros without them."""
    if d is None:
        return (0.0,) * _DENSE_WIDTH
    cos = float(d.cos[i])
    neighbours = [float(d.cos[j]) for j in (i - 1, i + 1) if start <= j < end]
    dr, br = d.dense_rank.get(i), d.bm25_rank.get(i)
    return (
        cos,
        cos - d.top,
        float(d.soft[r]),
        1.0 / (dr + 1) if dr is not None else 0.0,
        1.0 / (br + 1) if br is not None else 0.0,
        d.fused.get(i, 0.0),
        max(neighbours, default=0.0),
        float(d.para_cos[i]),
        float(d.heading_cos[i]),
        1.0 if br is not None else 0.0,
    )


def answer_features(q: QuestionTerms, probs: np.ndarray, feats: np.ndarray,
                    unknown_mass: float, bm25_top: float, unknown_names: float = 0.0,
                    focus_known: bool = True, dense_top: float = 0.0,
                    order_by: np.ndarray | None = None) -> np.ndarray:
    """One row of ANSWER_FEATURES: should the best candidates be shown at all? `probs` are
    the verifier's absolute probabilities; the candidates are taken in the order of
    `order_by` (the ranker's), or of `probs` when it is None."""
    col = {name: k for k, name in enumerate(RANK_FEATURES)}
    order = np.argsort(-(probs if order_by is None else order_by), kind="stable")
    p1 = float(probs[order[0]]) if len(order) else 0.0
    p2 = float(probs[order[1]]) if len(order) > 1 else 0.0
    best = feats[order[0]] if len(order) else np.zeros(len(RANK_FEATURES))
    top3 = order[:3]
    wh = [1.0 if q.wh == w else 0.0 for w in WH_TYPES]
    return np.array([
        1.0, p1, p2, p1 - p2,
        float(best[col["cover"]]),
        float(feats[top3, col["cover_ctx"]].max()) if len(top3) else 0.0,
        unknown_mass,
        float(best[col["missing_max_idf"]]),
        math.log1p(len(q.stems)),
        math.log1p(bm25_top),
        float(best[col["type_match"]]),
        *wh,
        1.0 if q.negated else 0.0,
        float(probs[top3].sum()) if len(top3) else 0.0,
        float(best[col["missing_count"]]),
        float(best[col["substituted"]]),
        float(best[col["neg_mismatch"]]),
        float(feats[:, col["cover"]].max()) if len(feats) else 0.0,
        unknown_names,
        0.0 if focus_known else 1.0,
        float(best[col["focus_here"]]),
        float(feats[top3, col["focus_here"]].max()) if len(top3) else 0.0,
        float(feats[:, col["dense_cos"]].max()) if len(feats) else 0.0,
        float(best[col["soft_cover"]]),
        float(feats[:, col["soft_cover"]].max()) if len(feats) else 0.0,
        float(best[col["dense_cos"]]),
        dense_top - float(best[col["dense_cos"]]),
        float(best[col["in_bm25"]]),
        float(probs.max()) if len(probs) else 0.0,
    ], dtype=np.float64)
