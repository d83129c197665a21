"""Candidate retrieval: the sentences worth scoring for a question, by BM25.

BM25 over stemmed sentences finds the candidates; the learned scorer then reranks them. The
candidate count bounds the cost of a question whatever the corpus size: features are only
computed for these few sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.features import QuestionTerms, rank_features
from bot.engine.vectors import DenseQuery, dense_query, soft_covers

if TYPE_CHECKING:
    from bot.engine.corpus import Corpus

CANDIDATES = 30
"""Sentences scored per question: on the shared SQuAD articles BM25's top 30 holds the
answer for 96 % of answerable questions, its top 5 for 90 %."""


@dataclass(frozen=True)
class Candidates:
    """Sentence indices (best BM25 first) with their feature rows and question-level facts."""

    indices: np.ndarray
    features: np.ndarray
    unknown_mass: float
    bm25_top: float
    unknown_names: float = 0.0
    """Share of the names typed in the question that no article contains."""
    focus_known: bool = True
    """Whether any article contains the question's focus word."""

    def __len__(self) -> int:
        return len(self.indices)


def retrieve(ix: Corpus, q: QuestionTerms, allowed: np.ndarray | None = None,
             k: int = CANDIDATES) -> Candidates:
    """Top-k answerable sentences by BM25 (optionally only where `allowed`), with features."""
    unknown = sum(w for s, w in zip(q.stems, q.weights, strict=True) if s not in ix.df)
    unknown_mass = unknown / q.total if q.stems else 1.0
    missing = sum(not all(s in ix.df for s in name) for name in q.names)
    unknown_names = missing / len(q.names) if q.names else 0.0
    focus_known = q.focus is None or q.focus in ix.df
    bm25 = ix.scores(list(q.stems))
    usable = ix.answerable if allowed is None else ix.answerable & allowed
    scored = np.where(usable, bm25, 0.0)
    nonzero = np.flatnonzero(scored > 0)
    if len(nonzero) > k:
        nonzero = nonzero[np.argpartition(-scored[nonzero], k - 1)[:k]]
    order = nonzero[np.lexsort((nonzero, -scored[nonzero]))]
    if not len(order):
        return Candidates(order, np.zeros((0, 0)), unknown_mass, 0.0, unknown_names,
                          focus_known)
    para_score = _paragraph_max(ix, bm25)
    dense = _Dense(ix, dense_query(ix.word_vectors, q.text, ix.idf))
    features = rank_features(q, order, scored, ix.tokens, ix.texts, ix.para_start, ix.para_end,
                             para_score, ix.doc_position, ix.section_heading, dense)
    return Candidates(order, features, unknown_mass, float(scored[order[0]]),
                      unknown_names, focus_known)


@dataclass(frozen=True)
class _Dense:
    ix: Corpus
    q: DenseQuery

    def cosines(self, candidates: np.ndarray) -> np.ndarray:
        return self.ix.sentence_vectors[candidates] @ self.q.vector

    def soft(self, candidates: np.ndarray) -> np.ndarray:
        return soft_covers(self.q, self.ix.word_vectors,
                           [self.ix.sentence_word_ids[i] for i in candidates])


def _paragraph_max(ix: Corpus, bm25: np.ndarray) -> np.ndarray:
    """Per sentence: the best BM25 score in its paragraph or in its section heading."""
    starts = ix.paragraph_starts
    per_para = np.maximum.reduceat(bm25, starts) if len(starts) else bm25
    out = per_para[ix.paragraph_of]
    heads = ix.section_heading
    return np.maximum(out, np.where(heads >= 0, bm25[np.maximum(heads, 0)], 0.0))
