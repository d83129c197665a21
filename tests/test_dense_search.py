"""The two-pass dense search: exact below the limit, the exact top results above it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.engine.dense_search import EXACT_LIMIT, LazyCosines, reduce_vectors
from bot.engine.index import build_index

ROOT = Path(__file__).resolve().parent.parent


def _corpus(n: int, seed: int = 5) -> np.ndarray:
    """Unit vectors with the low-rank structure of sentence vectors (topics plus noise)."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((48, 384)).astype(np.float32)
    v = rng.standard_normal((n, 48)).astype(np.float32) @ topics
    v += 2.0 * rng.standard_normal((n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _exact_top(dense: np.ndarray, query: np.ndarray, usable: np.ndarray, k: int) -> list[int]:
    cos = dense @ query
    pool = np.flatnonzero(usable)
    return [int(i) for i in pool[np.lexsort((pool, -cos[pool]))][:k]]


def test_below_the_limit_search_stays_exact() -> None:
    assert reduce_vectors(_corpus(1000)) is None
    assert reduce_vectors(np.zeros((EXACT_LIMIT, 384), np.float32)) is None
    seeds = build_index(ROOT / "seeds")
    assert seeds.reduced is None and isinstance(seeds.cosines("who is Tertitskiy"), np.ndarray)


def test_above_the_limit_the_approximate_search_finds_the_exact_top_results() -> None:
    dense = _corpus(EXACT_LIMIT + 10_000)
    reduced = reduce_vectors(dense)
    assert reduced is not None and reduced.reduced.shape == (len(dense), 96)
    rng = np.random.default_rng(11)
    usable = rng.random(len(dense)) > 0.2
    found = total = 0
    for row in rng.choice(len(dense), 20, replace=False):
        query = dense[row] + 0.5 * _corpus(1, seed=int(row))[0]
        query /= np.linalg.norm(query)
        cos = LazyCosines(dense, reduced, query)
        top = [int(i) for i in cos.top(usable, 30)]
        exact = _exact_top(dense, query, usable, 30)
        assert all(usable[top]) and len(top) == 30
        assert np.diff(cos[np.array(top)]).max() <= 0  # best first
        found += len(set(top) & set(exact))
        total += 30
        # cosines read one by one are the exact ones
        assert cos[row] == pytest.approx(float(dense[row] @ query), abs=1e-6)
        assert cos[np.array([3, row])] == pytest.approx(dense[[3, row]] @ query, abs=1e-6)
    assert found / total >= 0.95


def test_a_paragraph_maximum_is_over_the_paragraph_only() -> None:
    dense = _corpus(EXACT_LIMIT + 100)
    reduced = reduce_vectors(dense)
    assert reduced is not None
    query = dense[7]
    cos = LazyCosines(dense, reduced, query)
    start, end = np.array([0] * 20 + [5] * 20), np.array([3] * 20 + [9] * 20)
    got = cos.paragraph_max(np.array([0, 25]), start, end)
    assert got == pytest.approx([float((dense[0:3] @ query).max()),
                                 float((dense[5:9] @ query).max())], abs=1e-6)


def test_the_lazy_path_answers_as_the_exact_one_when_it_rescores_every_sentence() -> None:
    exact = build_index(ROOT / "seeds")
    lazy = build_index(ROOT / "seeds")
    lazy.reduced = reduce_vectors(lazy.dense, limit=0)  # the seeds have under 300 sentences
    assert len(lazy.sentences) < 300
    for q in ["why might the deal fail", "what does Russia hope to get out of the deal?",
              "what is Pyongyang in dire need of", "what did Tertitskiy say",
              "how much oil does Russia export"]:
        a, b = exact.compute("ask", q), lazy.compute("ask", q)
        assert isinstance(lazy.cosines(q), LazyCosines)
        assert (a.text, a.abstained, a.confidence) == (b.text, b.abstained, b.confidence)
