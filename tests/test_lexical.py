"""The numpy-built BM25 index is bm25s's own, bit for bit."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest

from bot.engine.documents import parse_document, seed_files
from bot.engine.lexical import FastBM25
from bot.engine.text import content_tokens

ROOT = Path(__file__).resolve().parent.parent


def _tokens() -> list[list[str]]:
    """Sentences of the seeds and the held-out articles, and random ones with repeats."""
    out = []
    for folder in [ROOT / "seeds", *sorted((ROOT / "tests" / "fixtures" / "heldout").glob("*"))]:
        if not folder.is_dir():
            continue
        for path in seed_files(folder):
            _, sents = parse_document(path, 0, 0, path.read_text(encoding="utf-8"))
            out += [content_tokens(s.text) or ["\u2400"] for s in sents]
    rng = random.Random(3)
    words = [f"w{k}" for k in range(300)]
    out += [[rng.choice(words[: rng.randint(2, 300)]) for _ in range(rng.randint(1, 40))]
            for _ in range(2000)]
    return out


@pytest.mark.parametrize("method", ["lucene", "robertson"])
def test_the_fast_index_is_bm25s_own(method: str) -> None:
    tokens = _tokens()
    stock, fast = bm25s.BM25(method=method), FastBM25(method=method)
    stock.index(tokens, show_progress=False)
    fast.index(tokens, show_progress=False)
    assert stock.vocab_dict == fast.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert stock.scores[key].dtype == fast.scores[key].dtype
        assert np.array_equal(stock.scores[key], fast.scores[key]), key
    query = tokens[5][:3]
    assert np.array_equal(stock.get_scores(query), fast.get_scores(query))


def test_other_methods_use_bm25s_own_build() -> None:
    tokens = _tokens()[:500]
    stock, fast = bm25s.BM25(method="bm25+"), FastBM25(method="bm25+")
    stock.index(tokens, show_progress=False)
    fast.index(tokens, show_progress=False)
    assert np.array_equal(stock.scores["data"], fast.scores["data"])
