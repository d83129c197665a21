"""The BM25 ranker over sentences, built with whole-array arithmetic.

bm25s builds its score matrix with a Python loop over documents (a `Counter` and a few small
arrays per sentence): at 200,000 sentences that loop was the largest part of the ranker's
build, on every reload. `FastBM25` computes the same matrix, bit for bit, from one sort of
(sentence, token) pairs, with the same float64 and float32 steps as bm25s; for a setting it
was not checked against (another method, another bm25s), it falls back to bm25s's own build.
`tests/test_lexical.py` compares the two.
"""

from __future__ import annotations

from typing import Any

import bm25s
import numpy as np

_CHECKED = ("lucene", "robertson")
"""bm25s methods whose term-frequency part `FastBM25` reproduces."""


class FastBM25(bm25s.BM25):
    """`bm25s.BM25` whose index is built with numpy instead of a loop per document."""

    def build_index_from_ids(self, unique_token_ids: list[int],
                             corpus_token_ids: list[list[int]], show_progress: bool = True,
                             leave_progress: bool = False) -> dict[str, Any]:
        if (self.method not in _CHECKED or (self.idf_method or self.method) not in _CHECKED
                or self.csc_backend != "numpy" or not corpus_token_ids):
            return super().build_index_from_ids(unique_token_ids, corpus_token_ids,
                                                show_progress, leave_progress)
        from bm25s.scoring import _build_idf_array, _select_idf_scorer

        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.fromiter((len(d) for d in corpus_token_ids), dtype=np.int64, count=n_docs)
        avg_doc_len = lengths.mean()  # a numpy float64, as in bm25s
        flat = np.fromiter((t for d in corpus_token_ids for t in d), dtype=np.int64,
                           count=int(lengths.sum()))
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        pairs, tf = np.unique(docs * n_vocab + flat, return_counts=True)
        doc_idx, vocab_idx = pairs // n_vocab, pairs % n_vocab
        df = np.bincount(vocab_idx, minlength=n_vocab)
        idf = _build_idf_array(doc_frequencies={i: int(df[i]) for i in unique_token_ids},
                               n_docs=n_docs,
                               compute_idf_fn=_select_idf_scorer(self.idf_method or self.method),
                               dtype=self.dtype)
        # bm25s, per document: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf), the constant a
        # float64 scalar, so the whole in float64; times the float32 idf, stored as float32
        k = self.k1 * ((1 - self.b) + self.b * lengths[doc_idx] / avg_doc_len)
        tf64 = tf.astype(np.float32).astype(np.float64)
        scores = (idf[vocab_idx] * (tf64 / (k + tf64))).astype(self.dtype)
        self.nonoccurrence_array = None
        data, indices, indptr = self._np_csc(
            data=scores, rows=doc_idx.astype(self.int_dtype),
            cols=vocab_idx.astype(self.int_dtype), shape=(n_docs, n_vocab))
        return {"data": data.astype(self.dtype), "indices": indices, "indptr": indptr,
                "num_docs": n_docs}


__all__ = ["FastBM25"]
