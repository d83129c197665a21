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

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path

import numpy as np

from bot.engine.summarize import mmr

MAX_REASONS = 5
PARAMS_PATH = Path(__file__).with_name("model") / "reasons.json"


@dataclass(frozen=True)
class ReasonParams:
    """The reasons scorer's weights. The defaults were set by hand; `model/reasons.json`,
    written by `scripts/tune_reasons.py` from labelled reasons questions, overrides them."""

    question: float = 0.4
    """Weight of a candidate's cosine to the question in its relevance."""
    topic: float = 0.3
    """Weight of its cosine to the question's topic ("the deal" of "why might the deal
    fail")."""
    context: float = 0.3
    """Weight of its context's cosine (the best of its paragraph and section heading)."""
    ranker: float = 0.0
    """Weight of the learned ranker's probability (scaled to the best candidate's): how much
    the sentence that best answers the question as a fact leads the list."""
    marker_weight: float = 2.0
    """How much a sentence that reads fully like a reason outweighs a plain one of the same
    relevance (1 + marker_weight × the share of marker classes present)."""
    mmr_lambda: float = 0.6
    """Relevance against novelty in MMR: below the summary's 0.7, since a list of reasons
    must not repeat itself."""
    min_share: float = 0.4
    """A reason must score at least this share of the best one's."""
    carry_share: float = 0.7
    """A line carries its next sentence when that one scores at least this share of it: the
    point goes on there ("…could pose a challenge." "Production capacities are limited.")."""
    carry_quote: bool = True
    """Whether a line carries the quotation that follows it in its paragraph (a claim, then
    the source's words for it: "…could pose a challenge." "'Capacities are limited,' X
    said."). Set by hand: neutral on the labelled reasons questions (61.6 % of groups found
    either way), and a user sees what backs the claim."""
    lead: int = 1
    """How many of the ranker's own best sentences (those it would show for the question
    as a fact) lead the list, before the reasons picked by MMR. Set from the 75 labelled
    reasons questions: 64.3 % of their reasons found with one, 63.0 % with none; held-out
    and dev unchanged."""
    why_lists: bool = False
    """Whether a plain why question ("why did X happen") is answered as a list of reasons
    too, or with the ranker's best sentences."""
    version: str = "defaults"

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ReasonParams:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown reasons parameters {sorted(unknown)}; rerun "
                             "scripts/tune_reasons.py")
        kinds = {f.name: f.type for f in fields(cls)}
        cast = {"str": str, "bool": bool, "float": float, "int": int}
        return cls(**{k: cast[str(kinds[k])](v) for k, v in data.items()})  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@cache
def load_reason_params(path: Path = PARAMS_PATH) -> ReasonParams:
    """The tuned weights (read once per process), or the defaults when none were tuned."""
    if not path.is_file():
        return ReasonParams()
    return ReasonParams.from_json(json.loads(path.read_text(encoding="utf-8")))


_trial: ContextVar[ReasonParams | None] = ContextVar("reason_params", default=None)


def reason_params() -> ReasonParams:
    """The weights answering uses: the tuned ones, or those under `trying` (the tuning
    script scores candidate weights through the real answer path this way)."""
    return _trial.get() or load_reason_params()


@contextmanager
def trying(params: ReasonParams) -> Iterator[None]:
    token = _trial.set(params)
    try:
        yield
    finally:
        _trial.reset(token)


_MARKERS = {
    "modal": r"\b(?:could|might|may|would|can(?:not)?|couldn't|wouldn't|won't|can't)\b",
    "negation": r"\b(?:not|no|nothing|never|none|neither|nor|without)\b|n't\b",
    "condition": r"\b(?:unless|if|only if|provided|as long as|without)\b",
    "contrast": r"\b(?:but|however|although|though|yet|despite|whereas|instead)\b",
    "hedge": r"\b(?:doubts?|doubtful|unclear|uncertain|unlikely|unsure|not sure|limited|"
             r"question(?:s|ed)?|concerns?|risks?|difficult|difficulty|hard|"
             r"believes?|believed|thinks?|suggests?|seems?|appears?|probably|possibly|perhaps|"
             r"likely)\b",
    "cause": r"\b(?:because|since|due to|as a result|owing to|so that|therefore|thus|"
             r"lead(?:s|ing)? to|caus(?:e|es|ed|ing)|result(?:s|ed)? in)\b",
}
_MARKER_RX = {name: re.compile(rx, re.IGNORECASE) for name, rx in _MARKERS.items()}


def reason_markers(text: str) -> float:
    """Share of the marker classes (modality, negation, condition, contrast, hedge, cause)
    present in `text`, 0 … 1: how much the sentence reads like a reason or an obstacle."""
    return sum(bool(rx.search(text)) for rx in _MARKER_RX.values()) / len(_MARKER_RX)


def relevance(question_cos: np.ndarray, topic_cos: np.ndarray, context_cos: np.ndarray,
              params: ReasonParams = ReasonParams(),
              ranker: np.ndarray | None = None) -> np.ndarray:
    """How much each candidate is about the question: its own cosine to the question and to
    the question's topic (what the reasons are about), its context's (the best of its
    paragraph and its section heading) and the ranker's probability, weighted by `params`."""
    mix = (params.question * np.asarray(question_cos) + params.topic * np.asarray(topic_cos)
           + params.context * np.asarray(context_cos))
    if ranker is not None and len(ranker) and params.ranker:
        p = np.asarray(ranker, dtype=np.float64)
        mix = mix + params.ranker * p / (float(p.max()) or 1.0)
    return np.maximum(np.asarray(mix, dtype=np.float64), 0.0)


def reason_scores(rel: np.ndarray, markers: np.ndarray,
                  params: ReasonParams = ReasonParams()) -> np.ndarray:
    return np.asarray(rel, dtype=np.float64) * (
        1.0 + params.marker_weight * np.asarray(markers))


def pick_reasons(score: np.ndarray, vectors: np.ndarray, groups: Sequence[object],
                 k: int = MAX_REASONS, params: ReasonParams = ReasonParams(),
                 first: Sequence[int] = ()) -> list[int]:
    """Positions of up to k candidates, best reason first, by MMR over the vectors
    (sentences of one paragraph count as at least half alike, as in summaries), among
    those at least `params.min_share` of the best `score`; the positions `first` lead.
    The share is applied before MMR, so a slot never goes to a sentence too weak to show
    while a stronger one, only less novel, waits."""
    if not len(score):
        return []
    score = np.asarray(score, dtype=np.float64)
    eligible = score >= params.min_share * float(score.max())
    eligible[list(first)] = True
    keep = np.flatnonzero(eligible)
    sub = np.asarray(vectors)[keep]
    sim = np.clip(sub @ sub.T, 0.0, 1.0).astype(np.float64)
    keys = [groups[p] for p in keep]
    same = np.array([[a == b for b in keys] for a in keys], dtype=np.float64)
    sim = np.maximum(sim, 0.5 * same)
    picked = mmr(score[keep], sim, k, lam=params.mmr_lambda,
                 first=[int(np.searchsorted(keep, p)) for p in first])
    return [int(keep[n]) for n in picked]


__all__ = ["MAX_REASONS", "ReasonParams", "load_reason_params", "pick_reasons",
           "reason_markers", "reason_params", "reason_scores", "relevance", "trying"]
