"""Extractive summarisation: which sentences of an article carry its main threads.

Standard, general methods, nothing tuned to a particular article:

- **TF-IDF vectors** over the index's stemmed content tokens, idf computed over the sentences
  given (an article's), rows L2-normalised, so a dot product is a cosine similarity.
- **LexRank centrality** (Erkan & Radev, 2004, the continuous variant): PageRank over the
  cosine-similarity graph of the sentences, damping 0.85, power iteration with a bounded number
  of steps. A sentence similar to many others — a thread the article keeps returning to — ranks
  high.
- **A mild lead prior** as the teleport distribution (biased PageRank, as in PositionRank,
  Florescu & Caragea 2017): news is written as an inverted pyramid, so earlier sentences carry
  more. Half of the teleport mass is uniform and half falls off as 1/(position+1); with damping
  0.85 that prior shapes at most 15 % of the score, so a central sentence late in the article
  still wins over a peripheral lead.
- **MMR selection** (Carbonell & Goldstein, 1998), lambda 0.7: each pick maximises
  lambda·relevance − (1−lambda)·(highest similarity to what is already picked), so the summary
  covers different threads instead of repeating the central one; an optional length budget.
  Sentences of one paragraph count as at least `GROUP_OVERLAP` similar for this purpose: a
  paragraph develops one thread (the paragraph as the unit of topic, Hearst 1997), so a
  summary should rather draw from different paragraphs than from one twice.

Everything is deterministic: ties go to the lower sentence index (numpy's argmax takes the first).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-9
MMR_LAMBDA = 0.7
LEAD_SHARE = 0.5
"""Share of the teleport distribution that follows the lead prior (the rest is uniform)."""
GROUP_OVERLAP = 0.5
"""Redundancy MMR assumes between two sentences of the same paragraph, at least."""
COVERAGE_LAMBDA = 0.4
"""Centrality against new coverage in `coverage_pick`: coverage leads, since a briefing that
states the central point five times says one thing."""


def tfidf(token_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """One L2-normalised TF-IDF row per sentence (an all-zero row for a sentence without tokens).

    Term frequency is the raw count; idf is the smoothed `log((n + 1) / (df + 1)) + 1` over the
    sentences given, so a term in every sentence still counts a little.
    """
    n = len(token_lists)
    vocab: dict[str, int] = {}
    df: Counter[str] = Counter()
    for toks in token_lists:
        for t in toks:
            vocab.setdefault(t, len(vocab))
        df.update(set(toks))
    matrix = np.zeros((n, len(vocab)), dtype=np.float64)
    for row, toks in enumerate(token_lists):
        for t, count in Counter(toks).items():
            matrix[row, vocab[t]] = count * (math.log((n + 1) / (df[t] + 1)) + 1.0)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def similarity(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between the rows (rows are normalised here; zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) == 0:
        return np.zeros((len(vectors), len(vectors)))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return np.clip(unit @ unit.T, 0.0, 1.0)


def lead_prior(n: int, share: float = LEAD_SHARE) -> np.ndarray:
    """Teleport distribution over n sentences in reading order: (1 − share) uniform plus share
    falling off as 1/(position + 1). Sums to 1."""
    if n <= 0:
        return np.zeros(0)
    decay = 1.0 / np.arange(1, n + 1, dtype=np.float64)
    return (1.0 - share) / n + share * decay / decay.sum()


def centrality(vectors: np.ndarray, prior: np.ndarray | None = None,
               damping: float = DAMPING, max_iterations: int = MAX_ITERATIONS,
               tolerance: float = TOLERANCE) -> np.ndarray:
    """LexRank scores (summing to 1) of the sentences whose vectors are the rows.

    The graph is the continuous cosine similarity without self-loops, each row normalised into
    transition probabilities; a sentence similar to nothing jumps by the prior. `prior` is the
    teleport distribution (uniform when None).
    """
    sim = similarity(vectors)
    n = len(sim)
    if n == 0:
        return np.zeros(0)
    np.fill_diagonal(sim, 0.0)
    p = np.full(n, 1.0 / n) if prior is None else np.asarray(prior, dtype=np.float64)
    p = p / p.sum()
    rows = sim.sum(axis=1, keepdims=True)
    transition = np.where(rows > 0, sim / np.where(rows > 0, rows, 1.0), p[None, :])
    scores = p.copy()
    for _ in range(max_iterations):
        nxt = damping * (transition.T @ scores) + (1.0 - damping) * p
        nxt /= nxt.sum()
        done = np.abs(nxt - scores).sum() < tolerance
        scores = nxt
        if done:
            break
    return scores


def _greedy(scores: np.ndarray, k: int, costs: Sequence[float] | None, budget: float | None,
            value: Callable[[np.ndarray], np.ndarray],
            picked_one: Callable[[int], None], first: Sequence[int] = ()) -> list[int]:
    """The greedy selection `mmr` and `coverage_pick` share: up to k indices, in the order
    picked, each the argmax of `value(relevance)` (relevance: `scores` scaled to a maximum of
    1) among those not picked and, with `costs` and `budget`, still within what is left of
    the budget; `picked_one` updates the caller's state. Ties go to the lower index. The
    indices `first` are taken first, as they are (within k and the budget)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    top = scores.max()
    rel = scores / top if top > 0 else np.zeros(n)
    budgeted = costs is not None and budget is not None
    cost = np.asarray(costs, dtype=np.float64) if budgeted else np.zeros(n)
    left = float(budget) if budgeted else float("inf")  # type: ignore[arg-type]
    available = cost <= left
    picked: list[int] = []
    forced = iter(first)
    while len(picked) < k and available.any():
        best = next(forced, None)
        if best is None or not available[best]:
            best = int(np.argmax(np.where(available, value(rel), -np.inf)))
        picked.append(best)
        available[best] = False
        picked_one(best)
        left -= float(cost[best])
        available &= cost <= left
    return picked


def mmr(scores: np.ndarray, sim: np.ndarray, k: int, lam: float = MMR_LAMBDA,
        costs: Sequence[float] | None = None, budget: float | None = None,
        first: Sequence[int] = ()) -> list[int]:
    """Maximal Marginal Relevance: up to k indices, in the order picked.

    Relevance is `scores` scaled to a maximum of 1, redundancy the highest similarity to an
    index already picked. With `costs` and `budget`, a candidate that would take the running
    cost over the budget is passed over. Ties go to the lower index. `first` are picked
    first, whatever their score (what the list must lead with).
    """
    sim = np.asarray(sim, dtype=np.float64)
    redundancy = np.zeros(len(scores))

    def picked_one(best: int) -> None:
        np.maximum(redundancy, sim[best], out=redundancy)

    return _greedy(scores, k, costs, budget,
                   lambda rel: lam * rel - (1.0 - lam) * redundancy, picked_one, first)


def coverage_pick(scores: np.ndarray, sim: np.ndarray, k: int, lam: float = COVERAGE_LAMBDA,
                  costs: Sequence[float] | None = None,
                  budget: float | None = None) -> list[int]:
    """Greedy centrality plus coverage (Lin & Bilmes, 2011): each pick maximises
    lam·relevance + (1 − lam)·(how much it adds to the coverage of every sentence, where a
    sentence is covered as much as its most similar pick is similar to it). Picks that
    repeat a covered point add nothing, so the summary reaches the article's distinct points.
    Ties go to the lower index; `costs`/`budget` as in `mmr`."""
    sim = np.asarray(sim, dtype=np.float64)
    covered = np.zeros(len(scores))

    def value(rel: np.ndarray) -> np.ndarray:
        gain = np.maximum(sim - covered[None, :], 0.0).mean(axis=1)
        return lam * rel + (1.0 - lam) * gain / (gain.max() or 1.0)

    def picked_one(best: int) -> None:
        np.maximum(covered, sim[best], out=covered)

    return _greedy(scores, k, costs, budget, value, picked_one)


def summarize(token_lists: Sequence[Sequence[str]], k: int, lam: float = MMR_LAMBDA,
              groups: Sequence[object] | None = None, costs: Sequence[float] | None = None,
              budget: float | None = None, lead: bool = True,
              vectors: np.ndarray | None = None) -> list[int]:
    """Indices of up to k sentences (given in reading order) that summarise them, returned in
    reading order. Without `vectors`: LexRank over TF-IDF with the lead prior, then MMR, with
    `groups` (e.g. paragraph numbers) counting as overlap. With `vectors` (the sentences'
    MiniLM vectors, which see that "problems with transport" and "limited production" are
    both obstacles): LexRank over their cosines with the lead prior, then centrality plus
    coverage (`coverage_pick`), so the picks span the article's distinct points."""
    dense = vectors is not None and len(vectors) == len(token_lists)
    features = np.asarray(vectors, dtype=np.float64) if dense else tfidf(token_lists)
    prior = lead_prior(len(token_lists)) if lead else None
    scores = centrality(features, prior)
    if dense:
        # Every sentence of an article shares its topic; with the article's mean vector
        # taken out, what is left tells its points apart, which is what coverage counts.
        centred = features - features.mean(axis=0)
        return sorted(coverage_pick(scores, similarity(centred), k, costs=costs,
                                    budget=budget))
    sim = similarity(features)
    if groups is not None:
        keys = list(groups)
        same = np.array([[a == b for b in keys] for a in keys], dtype=np.float64)
        sim = np.maximum(sim, GROUP_OVERLAP * same)
    return sorted(mmr(scores, sim, k, lam, costs, budget))


__all__ = ["GROUP_OVERLAP", "centrality", "coverage_pick", "lead_prior", "mmr", "similarity",
           "summarize", "tfidf"]
