"""The learned scorer: which candidate sentences answer a question, and whether to answer.

Two logistic regressions trained by `scripts/train_scorer.py` on labelled questions (the
weights live in `model/scorer.json`, versioned with the features they expect):

- the ranker gives each candidate sentence a probability of holding the answer;
- the answer model gives the question a probability that the sentences shown are right,
  and below the learned threshold the engine abstains.

Inference is a dot product: no ML library at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bot.engine.features import ANSWER_FEATURES, RANK_FEATURES

MODEL_PATH = Path(__file__).with_name("model") / "scorer.json"


@dataclass(frozen=True)
class Linear:
    """A standardised logistic regression: sigmoid(((x - mean) / scale) · coef + intercept)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.names), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6)}

    @classmethod
    def from_json(cls, data: dict[str, object], expected: tuple[str, ...]) -> Linear:
        names = tuple(data["features"])  # type: ignore[arg-type]
        if names != expected:
            raise ValueError(f"model features {names} differ from the code's {expected}; "
                             "retrain with scripts/train_scorer.py")
        return cls(names, np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scorer:
    ranker: Linear
    answerer: Linear
    threshold: float
    """Answer when the answer model's probability is at least this."""
    show_ratio: float
    """Show further sentences whose ranker probability is at least this share of the best's."""
    max_lines: int
    version: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "threshold": round(self.threshold, 4),
                "show_ratio": self.show_ratio, "max_lines": self.max_lines,
                "ranker": self.ranker.to_json(), "answerer": self.answerer.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Scorer:
        return cls(ranker=Linear.from_json(data["ranker"], RANK_FEATURES),  # type: ignore[arg-type]
                   answerer=Linear.from_json(data["answerer"], ANSWER_FEATURES),  # type: ignore[arg-type]
                   threshold=float(data["threshold"]),  # type: ignore[arg-type]
                   show_ratio=float(data["show_ratio"]),  # type: ignore[arg-type]
                   max_lines=int(data["max_lines"]),  # type: ignore[call-overload]
                   version=str(data["version"]))


@cache
def load_scorer(path: Path = MODEL_PATH) -> Scorer:
    """The committed model (read once per process)."""
    return Scorer.from_json(json.loads(path.read_text(encoding="utf-8")))
