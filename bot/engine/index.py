"""Build the live index: the corpus read from the seeds, wrapped in its answer engine.

The corpus (documents, sentences, entities, BM25, sentence vectors) is `bot.engine.corpus`;
answering over it is `bot.engine.engine`. This module only puts the two together, at the top
of the engine's import graph: in `bot/engine` only reload and holder (which keep what it
builds) import it.

With a cache folder (the data directory's `cache/`), sentence vectors are kept per article
(`vector_cache.py`) and the whole built index per state of the seeds (`index_cache.py`), so a
reload embeds only new or changed articles and a command on unchanged seeds starts at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.engine.corpus import Corpus, build_corpus
from bot.engine.engine import KnowledgeIndex
from bot.engine.index_cache import IndexCache, seeds_key


def build_index(seeds_dir: Path | str, cache_dir: Path | None = None) -> KnowledgeIndex:
    """Read every seed, extract, index, and answer over it. Raises SeedError naming the file
    on bad input. With `cache_dir`, an index already built from the same seeds is loaded
    instead, and vectors of unchanged articles are reused."""
    seeds_dir = Path(seeds_dir)
    if cache_dir is None:
        return KnowledgeIndex.from_corpus(build_corpus(seeds_dir))
    cache = IndexCache(cache_dir / "index")
    started = time.perf_counter()
    key = seeds_key(seeds_dir)
    keyed = time.perf_counter()
    found = cache.load(key, KnowledgeIndex)
    if found is not None:
        found.embed_report.cached += found.embed_report.embedded
        found.embed_report.embedded = found.embed_report.sentences_embedded = 0
        found.stats["index_cache"] = "hit"
        return found
    index = KnowledgeIndex.from_corpus(build_corpus(seeds_dir, cache_dir))
    index.stats["index_cache"] = "miss"
    stages = index.stats.setdefault("stages", {})
    stages["seeds_key"] = keyed - started
    # written while the new index already serves (see index_cache.py)
    cache.save(key, index, background=True, seconds=stages)
    return index


__all__ = ["Corpus", "KnowledgeIndex", "build_index"]
