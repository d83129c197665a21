"""Reasons as a list: the distinct reasons, risks or obstacles the articles give for something.

"Why might the deal fail" is rarely answered by the one sentence that repeats its words
("experts question the deal"); the articles give several reasons, often in their own
words and spread over a section ("production capacities are limited", "problems with
transport", "nothing will happen unless…"). So a reasons question is answered with up to five
cited lines, chosen by:

- **relevance**: each candidate's cosine to the question and to its topic, and its context's
  (a heading or a paragraph close to the question makes its sentences candidates for a
  reason, since a heading is context, never an answer alone);
- **what marks a reason**, in general English, not in any article's words: modality (could,
  might, would), negation (not, no, nothing, without), conditions (unless, if), contrast
  (but, however, although), hedges (doubt, unclear, unlikely, limited) and causation
  (because, since, due to);
- **diversity**: Maximal Marginal Relevance over the sentence vectors (Carbonell & Goldstein,
  1998), so each line is a different reason, not the same one twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bot.engine.summarize import mmr

MAX_REASONS = 5
MMR_LAMBDA = 0.6
"""Relevance against novelty: below the summary's 0.7, since a list of reasons must not
repeat itself."""
MIN_SHARE = 0.4
"""A reason must score at least this share of the best one's."""
MARKER_WEIGHT = 2.0
"""How much a sentence that reads fully like a reason outweighs a plain one of the same
relevance (1 + 2 × the share of marker classes present)."""
CARRY_SHARE = 0.7
"""A line carries its next sentence when that one scores at least this share of it: the
point goes on there ("…could pose a challenge." "Production capacities are limited.")."""

_MARKERS = {
    "modal": r"\b(?:could|might|may|would|can(?:not)?|couldn't|wouldn't|won't|can't)\b",
    "negation": r"\b(?:not|no|nothing|never|none|neither|nor|without)\b|n't\b",
    "condition": r"\b(?:unless|if|only if|provided|as long as)\b",
    "contrast": r"\b(?:but|however|although|though|yet|despite|whereas|instead)\b",
    "hedge": r"\b(?:doubts?|doubtful|unclear|uncertain|unlikely|unsure|not sure|limited|"
             r"question(?:s|ed)?|concerns?|risks?|difficult|difficulty|hard)\b",
    "cause": r"\b(?:because|since|due to|as a result|owing to|so that|therefore|thus|"
             r"lead(?:s|ing)? to|caus(?:e|es|ed|ing)|result(?:s|ed)? in)\b",
}
_MARKER_RX = {name: re.compile(rx, re.IGNORECASE) for name, rx in _MARKERS.items()}


def reason_markers(text: str) -> float:
    """Share of the marker classes (modality, negation, condition, contrast, hedge, cause)
    present in `text`, 0 … 1: how much the sentence reads like a reason or an obstacle."""
    return sum(bool(rx.search(text)) for rx in _MARKER_RX.values()) / len(_MARKER_RX)


def relevance(question_cos: np.ndarray, topic_cos: np.ndarray,
              context_cos: np.ndarray) -> np.ndarray:
    """How much each candidate is about the question: its own cosine to the question and to
    the question's topic (what the reasons are about), and its context's (the best of its
    paragraph and its section heading), in equal parts but the first."""
    mix = 0.4 * question_cos + 0.3 * topic_cos + 0.3 * context_cos
    return np.maximum(np.asarray(mix, dtype=np.float64), 0.0)


def reason_scores(rel: np.ndarray, markers: np.ndarray) -> np.ndarray:
    return np.asarray(rel, dtype=np.float64) * (1.0 + MARKER_WEIGHT * np.asarray(markers))


def pick_reasons(score: np.ndarray, vectors: np.ndarray, groups: Sequence[object],
                 k: int = MAX_REASONS) -> list[int]:
    """Positions of up to k candidates, best reason first, by MMR over the vectors
    (sentences of one paragraph count as at least half alike, as in summaries), keeping
    those at least MIN_SHARE of the best `score`."""
    if not len(score):
        return []
    score = np.asarray(score, dtype=np.float64)
    sim = np.clip(vectors @ vectors.T, 0.0, 1.0).astype(np.float64)
    keys = list(groups)
    same = np.array([[a == b for b in keys] for a in keys], dtype=np.float64)
    sim = np.maximum(sim, 0.5 * same)
    picked = mmr(score, sim, k, lam=MMR_LAMBDA)
    best = float(score.max())
    return [p for p in picked if score[p] >= MIN_SHARE * best]


__all__ = ["CARRY_SHARE", "MAX_REASONS", "pick_reasons", "reason_markers", "reason_scores",
           "relevance"]
