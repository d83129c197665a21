"""Dense search over many sentences: a reduced-space scan, then exact cosines for the best.

Below `EXACT_LIMIT` sentences the engine takes every cosine with one matrix product
(`Corpus.cosines`), and answers stay exactly as they are. Above it, that product reads the
whole float32 matrix (300 MB at 200,000 sentences) for every question, several times. Here
the vectors are projected once, at build, onto their `DIMS` principal directions (centred);
a question scores every sentence in that space (a quarter of the reads), and only the best
`RESCORE` usable ones get their exact cosine, from which the top k are taken. Cosines of other
sentences (a candidate's neighbours, paragraph, heading) are computed when asked for, exactly.
`bench/engine_bench.py` measures recall@30 of this search against the exact one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from bot.engine.blas import limit_blas_threads

EXACT_LIMIT = 50_000
"""Sentences up to which every cosine is computed exactly (all quality corpora are smaller)."""
DIMS = 96
"""Principal directions kept for the first pass."""
RESCORE = 300
"""Sentences rescored exactly after the first pass."""
SAMPLE = 32_768
"""Sentences (evenly spaced) the principal directions are computed from: as good as all of
them for 96 directions of 384, at a sixth of the build time at 200,000 sentences."""


@dataclass
class ReducedVectors:
    """Sentence vectors in their principal subspace, made at build and kept with the index."""

    mean: np.ndarray
    """(dims,) float32: the mean sentence vector (the projection is centred)."""
    basis: np.ndarray
    """(dims, DIMS) float32: the principal directions, as columns."""
    reduced: np.ndarray
    """(n, DIMS) float32: each sentence's centred vector in that basis."""

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Per sentence: its cosine to `query` up to a constant (the query's dot product with
        the mean), approximated in the reduced space."""
        return self.reduced @ (query @ self.basis)


def reduce_vectors(dense: np.ndarray, dims: int = DIMS,
                   limit: int = EXACT_LIMIT) -> ReducedVectors | None:
    """The principal subspace of `dense` (None at `limit` rows or fewer: search is exact)."""
    if len(dense) <= limit:
        return None
    limit_blas_threads()
    sample = dense[::max(1, len(dense) // SAMPLE)].astype(np.float64)
    mean = sample.mean(axis=0)
    centred_cov = (sample.T @ sample) / len(sample) - np.outer(mean, mean)
    values, vectors = np.linalg.eigh(centred_cov)
    basis = np.ascontiguousarray(vectors[:, np.argsort(values)[::-1][:dims]], dtype=np.float32)
    mean32 = mean.astype(np.float32)
    reduced = np.empty((len(dense), basis.shape[1]), dtype=np.float32)
    step = 65_536  # in slices: no second full-size copy of the matrix
    for at in range(0, len(dense), step):
        reduced[at:at + step] = (dense[at:at + step] - mean32) @ basis
    return ReducedVectors(mean32, basis, reduced)


class LazyCosines:
    """A question's exact cosines to the sentences, each computed when first asked for.

    Indexing with an int or an index array gives float32 cosines, as the full product would
    (`cos[i]`, `cos[idx]`); `top` finds the best sentences through the reduced vectors.
    Shared between threads (memoized per question), so filling in is under a lock.
    """

    def __init__(self, dense: np.ndarray, reduced: ReducedVectors, query: np.ndarray) -> None:
        self._dense = dense
        self._reduced = reduced
        self._query = query
        self._values = np.zeros(len(dense), dtype=np.float32)
        self._known = np.zeros(len(dense), dtype=bool)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._dense)

    def __getitem__(self, idx: int | np.integer | np.ndarray) -> np.ndarray:
        wanted = np.asarray(idx, dtype=np.int64)
        with self._lock:
            flat = wanted.reshape(-1)
            missing = np.unique(flat[~self._known[flat]])
            if len(missing):
                self._values[missing] = self._dense[missing] @ self._query
                self._known[missing] = True
            return self._values[wanted]

    def top(self, usable: np.ndarray, k: int, rescore: int = RESCORE) -> np.ndarray:
        """Indices of the k usable sentences of highest cosine, best first (ties: lower
        index first), among the `rescore` best in the reduced space."""
        pool = np.flatnonzero(usable)
        if len(pool) > rescore:
            approx = self._reduced.scores(self._query)[pool]
            pool = np.sort(pool[np.argpartition(-approx, rescore - 1)[:rescore]])
        exact = self[pool]
        if len(pool) > k:
            keep = np.argpartition(-exact, k - 1)[:k]
            pool, exact = pool[keep], exact[keep]
        return pool[np.lexsort((pool, -exact))]

    def paragraph_max(self, rows: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Per row: the best cosine in the sentence span [start, end) of that row."""
        out = np.zeros(len(rows), dtype=np.float32)
        spans = [np.arange(int(start[i]), int(end[i])) for i in rows]
        if spans:
            self[np.concatenate(spans)]  # computed at once, one product
        for r, span in enumerate(spans):
            if len(span):
                out[r] = self[span].max()
        return out


__all__ = ["DIMS", "EXACT_LIMIT", "RESCORE", "LazyCosines", "ReducedVectors", "reduce_vectors"]
