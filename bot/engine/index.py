"""Build the live index: the corpus read from the seeds, wrapped in its answer engine.

The corpus (documents, sentences, entities, BM25) is `bot.engine.corpus`; answering over it is
`bot.engine.engine`. This module only puts the two together, at the top of the engine's
import graph: in `bot/engine` only reload and holder (which keep what it builds) import it.
"""

from __future__ import annotations

from pathlib import Path

from bot.engine.corpus import Corpus, build_corpus
from bot.engine.engine import KnowledgeIndex


def build_index(seeds_dir: Path | str) -> KnowledgeIndex:
    """Read every seed, extract, index, and answer over it. Raises SeedError naming the file
    on bad input."""
    return KnowledgeIndex.from_corpus(build_corpus(seeds_dir))


__all__ = ["Corpus", "KnowledgeIndex", "build_index"]
