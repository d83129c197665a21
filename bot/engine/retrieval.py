"""Candidate retrieval: the sentences worth scoring for a question, lexical and dense.

Two lists are drawn from the answerable sentences: the top BM25 sentences (bm25s, stemmed
words) and the top sentences by MiniLM cosine to the question (`embedder.py`), so a sentence
that shares none of the question's words ("problems with transport" for "why might the deal
fail") can still be found. They are fused by reciprocal rank (Cormack et al., 2009), which
orders the candidates; the learned ranker then scores each with features from both lists.
The candidate count bounds the cost of a question whatever the corpus size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.dense_search import LazyCosines
from bot.engine.features import DenseView, QuestionTerms, rank_features
from bot.engine.vectors import dense_query, soft_covers

if TYPE_CHECKING:
    from bot.engine.corpus import Corpus

CANDIDATES = 30
"""Sentences taken from each list: on the shared SQuAD articles BM25's top 30 holds the
answer for 96 % of answerable questions, its top 5 for 90 %."""
RRF_K = 60
"""Reciprocal rank fusion's constant (the value of the original paper)."""


@dataclass(frozen=True)
class Candidates:
    """Sentence indices (best fused rank first) with their feature rows and question facts."""

    indices: np.ndarray
    features: np.ndarray
    unknown_mass: float
    bm25_top: float
    unknown_names: float = 0.0
    """Share of the names typed in the question that no article contains."""
    focus_known: bool = True
    """Whether any article contains the question's focus word."""
    dense_top: float = 0.0
    """The highest cosine of any answerable sentence to the question."""
    bm25_first: int = -1
    """The sentence BM25 ranks first (-1: none), for benchmarks."""
    dense_first: int = -1
    """The sentence the dense list ranks first (-1: none), for benchmarks."""

    def __len__(self) -> int:
        return len(self.indices)


def _top(scores: np.ndarray, usable: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best usable scores, best first (ties: lower index first)."""
    pool = np.flatnonzero(usable)
    if len(pool) > k:
        pool = pool[np.argpartition(-scores[pool], k - 1)[:k]]
    return pool[np.lexsort((pool, -scores[pool]))]


def retrieve(ix: Corpus, q: QuestionTerms, allowed: np.ndarray | None = None,
             k: int = CANDIDATES) -> Candidates:
    """Top-k by BM25 and top-k by cosine (optionally only where `allowed`), fused, with
    features."""
    unknown = sum(w for s, w in zip(q.stems, q.weights, strict=True) if s not in ix.df)
    unknown_mass = unknown / q.total if q.stems else 1.0
    missing = sum(not all(s in ix.df for s in name) for name in q.names)
    unknown_names = missing / len(q.names) if q.names else 0.0
    focus_known = q.focus is None or q.focus in ix.df
    usable = ix.answerable if allowed is None else ix.answerable & allowed
    if not usable.any():
        return Candidates(np.zeros(0, dtype=np.int64), np.zeros((0, 0)), unknown_mass, 0.0,
                          unknown_names, focus_known)
    bm25 = ix.scores(list(q.stems))
    cos = ix.cosines(q.text)
    lexical = _top(bm25, usable & (bm25 > 0), k)
    dense = _top(cos, usable, k) if isinstance(cos, np.ndarray) else cos.top(usable, k)
    fused: dict[int, float] = {}
    bm25_rank = {int(i): r for r, i in enumerate(lexical)}
    dense_rank = {int(i): r for r, i in enumerate(dense)}
    for ranks in (bm25_rank, dense_rank):
        for i, r in ranks.items():
            # scaled so that first in both lists is 1
            fused[i] = fused.get(i, 0.0) + (RRF_K + 1) / (2 * (RRF_K + r + 1))
    order = np.array(sorted(fused, key=lambda i: (-fused[i], i)), dtype=np.int64)
    dense_top = float(cos[dense[0]])
    scored = np.where(usable, bm25, 0.0)
    para_score = _paragraph_max(ix, bm25)
    para_cos, heading_cos = _dense_context(ix, cos, order)
    view = DenseView(cos=cos, para_cos=para_cos, heading_cos=heading_cos, top=dense_top,
                     bm25_rank=bm25_rank, dense_rank=dense_rank, fused=fused,
                     soft=_soft(ix, q, order))
    features = rank_features(q, order, scored, ix.tokens, ix.texts, ix.para_start, ix.para_end,
                             para_score, ix.doc_position, ix.section_heading, view)
    return Candidates(order, features, unknown_mass,
                      float(scored[lexical[0]]) if len(lexical) else 0.0,
                      unknown_names, focus_known, dense_top,
                      int(lexical[0]) if len(lexical) else -1, int(dense[0]))


def _dense_context(ix: Corpus, cos: np.ndarray | LazyCosines,
                   order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: the best cosine in its paragraph and its section heading's cosine (0
    without one). With lazy cosines, filled in for the candidates `order` only (the rest 0):
    nothing else reads them."""
    heads = ix.section_heading
    if isinstance(cos, np.ndarray):
        return (_paragraph_max(ix, cos, heading=False),
                np.where(heads >= 0, cos[np.maximum(heads, 0)], 0.0))
    para_cos = np.zeros(len(cos), dtype=np.float32)
    heading_cos = np.zeros(len(cos), dtype=np.float64)
    para_cos[order] = cos.paragraph_max(order, ix.para_start, ix.para_end)
    headed = order[heads[order] >= 0]
    heading_cos[headed] = cos[heads[headed]]
    return para_cos, heading_cos


def _soft(ix: Corpus, q: QuestionTerms, order: np.ndarray) -> np.ndarray:
    """Word-by-word soft coverage of the question by each candidate (static word vectors)."""
    query = dense_query(ix.word_vectors, q.text, ix.idf)
    return soft_covers(query, ix.word_vectors, [ix.sentence_word_ids[i] for i in order])


def _paragraph_max(ix: Corpus, scores: np.ndarray, heading: bool = True) -> np.ndarray:
    """Per sentence: the best score in its paragraph (and, with `heading`, in its section
    heading)."""
    starts = ix.paragraph_starts
    per_para = np.maximum.reduceat(scores, starts) if len(starts) else scores
    out = per_para[ix.paragraph_of]
    if not heading:
        return out
    heads = ix.section_heading
    return np.maximum(out, np.where(heads >= 0, scores[np.maximum(heads, 0)], 0.0))
