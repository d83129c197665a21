"""The learned scorer: which candidate sentences answer a question, and whether to answer.

Three models trained by `scripts/train_scorer.py` on labelled questions (the weights live in
`model/scorer.json`, versioned with the features they expect):

- the ranker orders a question's candidate sentences (listwise: which of these holds it);
- the verifier gives each candidate an absolute probability of holding an answer (pointwise),
  which the answer model reads: the ranker's softmax only says how the candidates compare;
- the answer model (boosted trees) gives the question a probability that the sentences shown
  are right, and below the learned threshold the engine abstains.

Inference is dot products and a walk down shallow trees: no ML library at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bot.engine.features import ANSWER_FEATURES, RANK_FEATURES

MODEL_PATH = Path(__file__).with_name("model") / "scorer.json"


def _feature_names(data: dict[str, object], expected: tuple[str, ...]) -> tuple[str, ...]:
    """The model's feature names, which must be the code's: a model trained on other
    features would score nonsense."""
    names = tuple(data["features"])  # type: ignore[arg-type]
    if names != expected:
        raise ValueError(f"model features {names} differ from the code's {expected}; "
                         "retrain with scripts/train_scorer.py")
    return names


@dataclass(frozen=True)
class Linear:
    """A standardised linear model, z = ((x - mean) / scale) · coef + intercept.

    `logistic`: each row's probability is sigmoid(z) (the answer model). `softmax`: the rows
    are one question's candidates and compete, probability = softmax(z) over them (the
    ranker, trained listwise: which of these sentences holds the answer)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    kind: str = "logistic"

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x)
        if self.kind == "softmax":
            if not len(z):
                return z
            e = np.exp(z - z.max())
            return e / e.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "features": list(self.names),
                "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
                "coef": self.coef.round(6).tolist(), "intercept": round(self.intercept, 6)}

    @classmethod
    def from_json(cls, data: dict[str, object], expected: tuple[str, ...]) -> Linear:
        names = _feature_names(data, expected)
        return cls(names, np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]),  # type: ignore[arg-type]
                   str(data.get("kind", "logistic")))


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted decision trees (scikit-learn's HistGradientBoosting, exported by the
    training script): probability = sigmoid(baseline + the leaf value of every tree). A row
    goes left where its feature is at most the node's threshold (a missing value goes where
    training sent it). Evaluated here with plain arrays: no ML library at run time."""

    names: tuple[str, ...]
    baseline: float
    trees: tuple[dict[str, np.ndarray], ...]

    def probability(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        raw = np.full(len(x), self.baseline)
        for row, values in enumerate(x):
            for t in self.trees:
                node = 0
                while not t["leaf"][node]:
                    v = values[t["feature"][node]]
                    go_left = t["missing_left"][node] if np.isnan(v) else \
                        v <= t["threshold"][node]
                    node = int(t["left"][node] if go_left else t["right"][node])
                raw[row] += t["value"][node]
        return 1.0 / (1.0 + np.exp(-np.clip(raw, -30, 30)))

    def to_json(self) -> dict[str, object]:
        return {"kind": "trees", "features": list(self.names),
                "baseline": round(self.baseline, 8),
                "trees": [{k: (np.round(v, 8) if v.dtype.kind == "f" else v).tolist()
                           for k, v in t.items()} for t in self.trees]}

    @classmethod
    def from_json(cls, data: dict[str, object], expected: tuple[str, ...]) -> Trees:
        names = _feature_names(data, expected)
        kinds = {"feature": np.int64, "threshold": np.float64, "left": np.int64,
                 "right": np.int64, "leaf": np.bool_, "value": np.float64,
                 "missing_left": np.bool_}
        trees = tuple({k: np.asarray(t[k], dtype=kinds[k]) for k in kinds}
                      for t in data["trees"])  # type: ignore[attr-defined]
        return cls(names, float(data["baseline"]), trees)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scorer:
    ranker: Linear
    verifier: Linear
    answerer: Linear | Trees
    threshold: float
    """Answer when the answer model's probability is at least this."""
    show_ratio: float
    """Show further sentences whose ranker probability is at least this share of the best's."""
    max_lines: int
    version: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "threshold": round(self.threshold, 4),
                "show_ratio": self.show_ratio, "max_lines": self.max_lines,
                "ranker": self.ranker.to_json(), "verifier": self.verifier.to_json(),
                "answerer": self.answerer.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Scorer:
        if "verifier" not in data:
            raise ValueError("the model has no verifier; retrain with scripts/train_scorer.py")
        return cls(ranker=Linear.from_json(data["ranker"], RANK_FEATURES),  # type: ignore[arg-type]
                   verifier=Linear.from_json(data["verifier"], RANK_FEATURES),  # type: ignore[arg-type]
                   answerer=_answer_model(data["answerer"]),  # type: ignore[arg-type]
                   threshold=float(data["threshold"]),  # type: ignore[arg-type]
                   show_ratio=float(data["show_ratio"]),  # type: ignore[arg-type]
                   max_lines=int(data["max_lines"]),  # type: ignore[call-overload]
                   version=str(data["version"]))


def _answer_model(data: dict[str, object]) -> Linear | Trees:
    if data.get("kind") == "trees":
        return Trees.from_json(data, ANSWER_FEATURES)
    return Linear.from_json(data, ANSWER_FEATURES)


@cache
def load_scorer(path: Path = MODEL_PATH) -> Scorer:
    """The committed model (read once per process)."""
    return Scorer.from_json(json.loads(path.read_text(encoding="utf-8")))
