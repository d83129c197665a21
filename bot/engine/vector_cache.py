"""Sentence vectors kept on disk per article, so a reload embeds only what changed.

An article's vectors are stored under a key made of the model's version and the article's
sentence texts (its content, as the engine reads it): an unchanged article is read back
instead of embedded, a changed one (or a new model, or a new sentence splitter) gets a new
key. Files are float16 `.npy` (half the disk, and cosines need no more precision), written to
a temporary name and renamed, so a crash or two replicas writing at once never leave half a
file; an unreadable entry is embedded again and rewritten.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bot.engine.cache_files import entry_path, write_atomic

log = logging.getLogger(__name__)

CHUNK = 512
"""Articles embedded per round: their vectors are saved before the next round starts."""


@dataclass
class EmbedReport:
    """What building the vectors cost: articles embedded and articles read from the cache."""

    embedded: int = 0
    cached: int = 0
    sentences_embedded: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"embedded": self.embedded, "cached": self.cached,
                "sentences_embedded": self.sentences_embedded}


@cache
def _header(rows: int, dims: int) -> bytes:
    """The .npy header `np.save` writes for (rows, dims) little-endian float16."""
    buf = io.BytesIO()
    np.save(buf, np.zeros((rows, dims), dtype="<f2"), allow_pickle=False)
    return buf.getvalue()[:-rows * dims * 2] if rows * dims else buf.getvalue()


class VectorCache:
    """Per-article sentence vectors in `folder` (None: nothing is kept)."""

    def __init__(self, folder: Path | None, model_version: str) -> None:
        self.folder = folder
        self.model_version = model_version

    def key(self, texts: Sequence[str]) -> str:
        h = hashlib.sha256(self.model_version.encode())
        for t in texts:
            h.update(b"\x1e")
            h.update(t.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:40]

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return entry_path(self.folder, key, ".npy")

    def load(self, key: str, rows: int, dims: int) -> np.ndarray | None:
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("vector cache entry %s unreadable (%s); embedding again", path.name, exc)
            return None
        header = _header(rows, dims)
        if blob.startswith(header) and len(blob) == len(header) + rows * dims * 2:
            # the header this cache writes: no need to parse it (np.load's cost, 10,000 times)
            return np.frombuffer(blob, dtype="<f2", offset=len(header)).reshape(
                rows, dims).astype(np.float32)
        try:
            found = np.load(io.BytesIO(blob), allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("vector cache entry %s unreadable (%s); embedding again", path.name, exc)
            return None
        if found.shape != (rows, dims):
            return None
        return found.astype(np.float32)

    def save(self, key: str, vectors: np.ndarray) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        try:
            write_atomic(path, lambda fh: np.save(fh, vectors.astype(np.float16),
                                                  allow_pickle=False))
        except OSError as exc:  # a read-only or full disk costs speed, not answers
            log.warning("cannot write the vector cache in %s: %s", self.folder, exc)


def embed_grouped(groups: Sequence[Sequence[str]], dims: int,
                  embed: Callable[[list[list[str]]], list[np.ndarray]],
                  cache: VectorCache, chunk: int = CHUNK) -> tuple[np.ndarray, EmbedReport]:
    """Vectors for every text of every group (an article's sentences), in order: cached
    groups read back, the others embedded and saved. `embed` takes several groups and returns
    each one's vectors as if it had been embedded alone (`Embedder.embed_groups`)."""
    report = EmbedReport()
    parts: list[np.ndarray | None] = []
    missing: list[int] = []
    keys = [cache.key(g) for g in groups]
    for k, (group, key) in enumerate(zip(groups, keys, strict=True)):
        found = cache.load(key, len(group), dims) if group else np.zeros((0, dims), np.float32)
        parts.append(found)
        if found is None:
            missing.append(k)
        elif group:
            report.cached += 1
    for at in range(0, len(missing), chunk):
        # Each article is batched with its own sentences only: int8 activations are
        # quantised per batch, so a vector depends on what it is batched with; this way an
        # article's vectors depend on its text alone, cached or not. Rounded as the cache
        # stores them, so an index is the same built cold or warm.
        todo = missing[at:at + chunk]
        for k, vectors in zip(todo, embed([list(groups[k]) for k in todo]), strict=True):
            vectors = vectors.astype(np.float16).astype(np.float32)
            parts[k] = vectors
            cache.save(keys[k], vectors)
            report.embedded += 1
            report.sentences_embedded += len(groups[k])
    total = sum(len(g) for g in groups)
    out = np.zeros((total, dims), dtype=np.float32)
    at = 0
    for part in parts:
        assert part is not None
        out[at:at + len(part)] = part
        at += len(part)
    return out, report


__all__ = ["EmbedReport", "VectorCache", "embed_grouped"]
