"""Rank the candidates, pick the sentences to show, and decide whether to answer at all.

The one place where the learned scorer meets the index: training (`scripts/train_scorer.py`)
and answering both call `decide`, so what is measured is what users get.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.features import QuestionTerms, answer_features
from bot.engine.retrieval import CANDIDATES, Candidates, retrieve
from bot.engine.scorer import Scorer

if TYPE_CHECKING:
    from bot.engine.corpus import Corpus

LINE_OVERHEAD = 8
"""Characters a shown sentence costs beyond its text: bullet, citation marker, newline."""
TEXT_BUDGET = 960
"""Room for sentences in a 1,000-character answer, leaving space for a speaker label."""


@dataclass(frozen=True)
class Decision:
    candidates: Candidates
    probabilities: np.ndarray
    """Ranker probability per candidate, in candidate order."""
    shown: list[int]
    """Sentence indices to show, best first."""
    confidence: float
    """The answer model's probability that the shown sentences answer the question."""
    answer: bool


def select(probabilities: np.ndarray, lengths: list[int], show_ratio: float,
           max_lines: int, budget: int = TEXT_BUDGET, best: float | None = None) -> list[int]:
    """Positions of the candidates to show: best first, while close enough to the best (the
    best given, or `best` when set) and while they fit in the answer."""
    if not len(probabilities):
        return []
    order = np.argsort(-probabilities, kind="stable")
    best = float(probabilities[order[0]]) if best is None else best
    picked: list[int] = []
    for k in order:
        if len(picked) >= max_lines or float(probabilities[k]) < show_ratio * best:
            break
        cost = lengths[k] + LINE_OVERHEAD
        if cost > budget:
            continue
        budget -= cost
        picked.append(int(k))
    return picked


def decide(ix: Corpus, q: QuestionTerms, scorer: Scorer,
           allowed: np.ndarray | None = None, k: int = CANDIDATES) -> Decision:
    """Rank the candidates (`k` from each retrieval list) and decide whether to answer."""
    cands = retrieve(ix, q, allowed, k)
    if not len(cands):
        return Decision(cands, np.zeros(0), [], 0.0, False)
    probs = scorer.ranker.probability(cands.features)
    verified = scorer.verifier.probability(cands.features)
    lengths = [len(ix.texts[i]) for i in cands.indices]
    picked = select(probs, lengths, scorer.show_ratio, scorer.max_lines)
    x = answer_features(q, verified, cands.features, cands.unknown_mass, cands.bm25_top,
                        cands.unknown_names, cands.focus_known, cands.dense_top, probs)
    confidence = float(scorer.answerer.probability(x[None, :])[0])
    shown = [int(cands.indices[k]) for k in picked]
    return Decision(cands, probs, shown, confidence, bool(shown) and confidence >= scorer.threshold)


def more_ratio(scorer: Scorer) -> float:
    """The share of the best candidate's probability a follow-up sentence needs.

    A first answer shows every candidate within `show_ratio` of the best (trained to 0: up to
    `max_lines` of the best pay off). That cannot bound a follow-up, which would then walk all
    the way down the BM25 list; so a further sentence must also be at least `threshold` (the
    confidence the answer model needs before the engine speaks at all) as likely as the best
    one to hold the answer.
    """
    return max(scorer.show_ratio, scorer.threshold)


def decide_more(ix: Corpus, q: QuestionTerms, scorer: Scorer, shown: Collection[int],
                allowed: np.ndarray | None = None) -> Decision | None:
    """The follow-up to `decide` ("tell me more"): None when the question is not answered at
    all (decided as for the first answer: same candidates, probabilities and confidence);
    else a decision whose `shown` are the next-best candidates not in `shown`, measured
    against the best candidate's probability (shown or not) with `more_ratio`. Its `shown`
    is empty, and `answer` false, when nothing relevant is left."""
    first = decide(ix, q, scorer, allowed)
    if not first.answer:
        return None
    cands, probs = first.candidates, first.probabilities
    keep = np.flatnonzero(~np.isin(cands.indices, np.fromiter(shown, dtype=np.int64)))
    lengths = [len(ix.texts[cands.indices[k]]) for k in keep]
    picked = select(probs[keep], lengths, more_ratio(scorer), scorer.max_lines,
                    best=float(probs.max()))
    more = [int(cands.indices[keep[k]]) for k in picked]
    return Decision(cands, probs, more, first.confidence, bool(more))
