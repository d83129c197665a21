"""Static word vectors distilled from MiniLM: general paraphrase knowledge at lookup cost.

`scripts/distill_word_vectors.py` embeds 40,000 frequent English words with all-MiniLM-L6-v2
and keeps 64 PCA dimensions (`model/word_vectors.npz`). A question word is "covered" by a
sentence as much as its closest word there is similar: "fail" finds "problems", "letting go"
finds "layoffs", with no list of synonyms written by anyone. Whole sentences are compared with
the full MiniLM (`embedder.py`); these word vectors give the word-by-word view beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bot.engine.text import STOPWORDS, fold, term, words

VECTORS_PATH = Path(__file__).with_name("model") / "word_vectors.npz"


@dataclass(frozen=True)
class DenseQuery:
    """A question in the word-vector space: its mean vector and its weighted word vectors."""

    vector: np.ndarray
    words: np.ndarray
    """(k, dims): one row per question word that has a vector."""
    weights: np.ndarray
    """(k,): each word's IDF in the index."""


@dataclass(frozen=True)
class WordVectors:
    index: dict[str, int]
    vectors: np.ndarray
    """One unit-length float32 row per word."""

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def ids(self, text: str) -> list[int]:
        """Row ids of the text's content words that have a vector (folded, no stopwords)."""
        return [i for i, _, _ in self.lookup(text)]

    def lookup(self, text: str) -> list[tuple[int, str, bool]]:
        """(row id, folded word, typed capitalised) of the text's content words that have a
        vector."""
        out = []
        for w in words(text):
            f = fold(w)
            if f in STOPWORDS:
                continue
            i = self.index.get(f)
            if i is None and f.endswith(("'s", "’s")):
                i = self.index.get(f[:-2])
            if i is not None:
                out.append((i, f, w[:1].isupper()))
        return out

    def mean(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros(self.dims, dtype=np.float32)
        v = self.vectors[ids].mean(axis=0)
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v


def dense_query(wv: WordVectors, question: str, idf: Callable[[str], float]) -> DenseQuery:
    found = wv.lookup(question)
    ids = [i for i, _, _ in found]
    weights = np.array([idf(term(w, cap)) for _, w, cap in found], dtype=np.float32)
    return DenseQuery(wv.mean(ids), wv.vectors[ids], weights)


def soft_cover(q: DenseQuery, wv: WordVectors, sentence_ids: list[int]) -> float:
    """IDF-weighted mean over the question's words of their best similarity to a sentence
    word (negative similarities count as 0)."""
    if not len(q.weights) or not sentence_ids or float(q.weights.sum()) <= 0:
        return 0.0
    best = np.clip((q.words @ wv.vectors[sentence_ids].T).max(axis=1), 0.0, 1.0)
    return float(best @ q.weights / q.weights.sum())


def soft_covers(q: DenseQuery, wv: WordVectors, sentences: list[list[int]]) -> np.ndarray:
    """`soft_cover` of several sentences with one matrix product."""
    out = np.zeros(len(sentences), dtype=np.float64)
    total = float(q.weights.sum())
    lengths = np.fromiter((len(ids) for ids in sentences), dtype=np.int64, count=len(sentences))
    if not len(q.weights) or total <= 0 or not lengths.any():
        return out
    flat = np.fromiter((i for ids in sentences for i in ids), dtype=np.int64)
    sims = np.clip(q.words @ wv.vectors[flat].T, 0.0, 1.0)
    has = lengths > 0
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[has]
    best = np.maximum.reduceat(sims, starts, axis=1)
    out[has] = q.weights @ best / total
    return out


@cache
def load_word_vectors(path: Path = VECTORS_PATH) -> WordVectors:
    with np.load(path) as data:
        vocab = [str(w) for w in data["words"]]
        vectors = data["vectors"].astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return WordVectors({w: i for i, w in enumerate(vocab)}, vectors)


def sentence_word_ids(wv: WordVectors, texts: list[str]) -> list[list[int]]:
    """Per text: the word-vector rows of its content words (for `soft_covers`)."""
    return [wv.ids(t) for t in texts]
