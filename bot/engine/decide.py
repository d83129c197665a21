"""Rank the candidates, pick the sentences to show, and decide whether to answer at all.

The one place where the learned scorer meets the index: training (`scripts/train_scorer.py`)
and answering both call `decide`, so what is measured is what users get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.features import QuestionTerms, answer_features
from bot.engine.retrieval import Candidates, retrieve
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
           max_lines: int, budget: int = TEXT_BUDGET) -> list[int]:
    """Positions of the candidates to show: best first, while close enough to the best and
    while they fit in the answer."""
    if not len(probabilities):
        return []
    order = np.argsort(-probabilities, kind="stable")
    best = float(probabilities[order[0]])
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
           allowed: np.ndarray | None = None) -> Decision:
    cands = retrieve(ix, q, allowed)
    if not len(cands):
        return Decision(cands, np.zeros(0), [], 0.0, False)
    probs = scorer.ranker.probability(cands.features)
    lengths = [len(ix.texts[i]) for i in cands.indices]
    picked = select(probs, lengths, scorer.show_ratio, scorer.max_lines)
    x = answer_features(q, probs, cands.features, cands.unknown_mass, cands.bm25_top,
                        cands.unknown_names, cands.focus_known)
    confidence = float(scorer.answerer.probability(x[None, :])[0])
    shown = [int(cands.indices[k]) for k in picked]
    return Decision(cands, probs, shown, confidence, bool(shown) and confidence >= scorer.threshold)
