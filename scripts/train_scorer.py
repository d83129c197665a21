"""Train the engine's scorer (ranker + answer/abstain model) and report held-out figures.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_scorer.py [--squad DIR] [--out bot/engine/model/scorer.json]

Data: the SQuAD 2.0 articles in `shared/eval/squad/` (CC BY-SA 4.0; each a seeds folder and
its questions, about half unanswerable on purpose). Each question is run through the engine's
own retrieval and features (`bot.engine.retrieval`), so training sees exactly what answering
sees. A candidate sentence is positive when it contains a gold answer (SQuAD normalisation).

- Ranker: logistic regression over RANK_FEATURES of answerable questions' candidates.
- Answer model: logistic regression over ANSWER_FEATURES; the label is "answering would be
  right" (the question is answerable and the sentences shown hold a gold answer). Its inputs
  are out-of-fold ranker probabilities, so it learns how far the ranker can be trusted.
- Threshold, show ratio and line count: the balanced accuracy (mean of has-answer and
  no-answer) is maximised on out-of-fold predictions, subject to has-answer >= --min-has.

Figures printed are leave-one-article-out: each article is scored by models (and a threshold)
fitted without it. Deterministic: same data, same file.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine.decide import select  # noqa: E402
from bot.engine.features import (  # noqa: E402
    ANSWER_FEATURES,
    RANK_FEATURES,
    answer_features,
    question_terms,
)
from bot.engine.index import build_index  # noqa: E402
from bot.engine.retrieval import retrieve  # noqa: E402
from bot.engine.scorer import MODEL_PATH, Linear, Scorer  # noqa: E402
from bot.engine.text import fold  # noqa: E402

WEIGHTS = {"squad": 1.0, "news": 4.0, "offtopic": 3.0}
"""Sample weights: our own news questions are few (192) but are the product's domain."""
OFFTOPIC_EVERY = 6
"""Every n-th answerable question of each other article is asked of this one as off-topic."""
SHOW_RATIOS = (0.0, 0.25, 0.5)
MAX_LINES = (3, 4)
C = 1.0


def squad_norm(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation or articles."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation) | set("“”’‘"))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


@dataclass
class Item:
    article: str
    question: str
    impossible: bool
    features: np.ndarray
    labels: np.ndarray
    lengths: list[int]
    unknown_mass: float
    bm25_top: float
    terms: object
    domain: str = "squad"
    """squad, news (our own articles and questions) or offtopic (a question of another
    article: unanswerable here, as most questions a team asks off its topic are)."""
    cover: list[set[int]] | None = None
    """News only: per answer group, the candidate positions that hold it."""
    names: tuple[float, bool] = (0.0, True)
    """Share of typed names no article has; whether an article has the focus word."""

    @property
    def weight(self) -> float:
        return WEIGHTS[self.domain]


def _candidates(ix, question: str, holds) -> tuple:
    terms = question_terms(question, ix.idf)
    cands = retrieve(ix, terms) if terms.stems else None
    if cands is None or not len(cands):
        return (terms, np.zeros((0, len(RANK_FEATURES))), np.zeros(0, dtype=int), [], 1.0, 0.0,
                [], (0.0, True))
    labels = np.array([holds(i) for i in cands.indices], dtype=int)
    lengths = [len(ix.texts[i]) for i in cands.indices]
    return (terms, cands.features, labels, lengths, cands.unknown_mass, cands.bm25_top,
            list(cands.indices), (cands.unknown_names, cands.focus_known))


def load(squad: Path) -> list[Item]:
    items: list[Item] = []
    folders = [p for p in sorted(squad.iterdir()) if p.is_dir()
               and (squad / f"{p.name}.questions.json").is_file()]
    questions = {p.name: json.loads((squad / f"{p.name}.questions.json").read_text("utf-8"))
                 for p in folders}
    for art in folders:
        ix = build_index(art)
        normed = [squad_norm(t) for t in ix.texts]
        asked = [(q, q["impossible"], "squad") for q in questions[art.name]]
        asked += [({"question": q["question"], "answers": []}, True, "offtopic")
                  for other in folders if other != art
                  for q in [q for q in questions[other.name] if not q["impossible"]]
                  [::OFFTOPIC_EVERY]]
        for q, impossible, domain in asked:
            golds = [g for g in (squad_norm(a) for a in q["answers"]) if g]
            def holds(i: int, golds=golds, normed=normed) -> bool:
                return any(g in normed[i] for g in golds)
            terms, feats, labels, lengths, unknown, top, _, names = _candidates(
                ix, q["question"], holds)
            items.append(Item(art.name, q["question"], impossible, feats, labels, lengths,
                              unknown, top, terms, domain, names=names))
        print(f"  {art.name}: {sum(i.article == art.name for i in items)} questions",
              file=sys.stderr)
    return items


def load_news(folder: Path) -> list[Item]:
    """Our own articles with questions in the shared dev-question format."""
    items: list[Item] = []
    for qfile in sorted(folder.glob("*.questions.json")):
        art = folder / qfile.name.removesuffix(".questions.json")
        ix = build_index(art)
        folded = [fold(t) for t in ix.texts]
        for q in json.loads(qfile.read_text(encoding="utf-8")):
            groups = [[fold(a) for a in g] for g in q["must_include_any"]]
            def holds(i: int, groups=groups, folded=folded) -> bool:
                return any(a in folded[i] for g in groups for a in g)
            terms, feats, labels, lengths, unknown, top, idx, names = _candidates(
                ix, q["question"], holds)
            cover = [{k for k, i in enumerate(idx) if any(a in folded[i] for a in g)}
                     for g in groups]
            items.append(Item(f"news/{art.name}", q["question"], q["kind"] == "abstain", feats,
                              labels, lengths, unknown, top, terms, "news",
                              cover, names))
    print(f"  news: {len(items)} questions", file=sys.stderr)
    return items


def fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], w: np.ndarray) -> Linear:
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=C, max_iter=5000).fit((x - scaler.mean_) / scale, y,
                                                        sample_weight=w)
    return Linear(names, scaler.mean_, scale, model.coef_[0], float(model.intercept_[0]))


def fit_ranker(items: list[Item]) -> Linear:
    usable = [i for i in items if not i.impossible and len(i.labels)]
    return fit(np.vstack([i.features for i in usable]),
               np.concatenate([i.labels for i in usable]), RANK_FEATURES,
               np.concatenate([np.full(len(i.labels), i.weight) for i in usable]))


@dataclass
class Scored:
    item: Item
    probs: np.ndarray
    x: np.ndarray


def score_with(ranker: Linear, items: list[Item]) -> list[Scored]:
    out = []
    for it in items:
        probs = ranker.probability(it.features) if len(it.labels) else np.zeros(0)
        x = answer_features(it.terms, probs, it.features, it.unknown_mass, it.bm25_top,
                            *it.names) if len(probs) else np.zeros(len(ANSWER_FEATURES))
        out.append(Scored(it, probs, x))
    return out


def shown_right(s: Scored, ratio: float, lines: int) -> tuple[bool, bool]:
    """(any shown sentence holds the answer, the first one does)."""
    picked = select(s.probs, s.item.lengths, ratio, lines)
    if s.item.impossible or not picked:
        return False, False
    if s.item.cover is not None:
        right = all(any(k in group for k in picked) for group in s.item.cover)
        return right, all(picked[0] in group for group in s.item.cover)
    return bool(s.item.labels[picked].any()), bool(s.item.labels[picked[0]])


def out_of_fold(items: list[Item]) -> list[Scored]:
    """Ranker probabilities for each article from a ranker trained without it."""
    arts = sorted({i.article for i in items})
    out: list[Scored] = []
    for a in arts:
        ranker = fit_ranker([i for i in items if i.article != a])
        out += score_with(ranker, [i for i in items if i.article == a])
    return out


@dataclass
class Rates:
    has: float = 0.0
    no: float = 0.0
    strict: float = 0.0
    news: float = 0.0
    offtopic: float = 0.0

    @property
    def balanced(self) -> float:
        return (self.has + self.no) / 2


def rates(scored: list[Scored], p: np.ndarray, threshold: float, ratio: float,
          lines: int) -> Rates:
    """SQuAD has-answer / no-answer / strict, news accuracy (the shared scoring rule) and
    the share of off-topic questions abstained on."""
    tally = {k: [0, 0] for k in ("has", "no", "strict", "news", "offtopic")}
    for s, conf in zip(scored, p, strict=True):
        answered = conf >= threshold and len(s.probs) > 0
        right, first = shown_right(s, ratio, lines) if answered else (False, False)
        d = s.item.domain
        if d == "news":
            tally["news"][0] += (not answered) if s.item.impossible else right
            tally["news"][1] += 1
        elif d == "offtopic":
            tally["offtopic"][0] += not answered
            tally["offtopic"][1] += 1
        elif s.item.impossible:
            tally["no"][0] += not answered
            tally["no"][1] += 1
        else:
            for k, ok in (("has", right), ("strict", first)):
                tally[k][0] += ok
                tally[k][1] += 1
    return Rates(**{k: v[0] / v[1] if v[1] else 0.0 for k, v in tally.items()})


def objective(r: Rates, min_has: float) -> float:
    """Balanced SQuAD accuracy and news accuracy, equally; has-answer below the floor loses."""
    if r.has < min_has:
        return r.has - 1.0
    return (r.balanced + r.news) / 2


def fit_answerer(scored: list[Scored], min_has: float) -> tuple[Linear, float, float, int]:
    """The answer model, and the threshold / show ratio / lines that maximise balanced
    accuracy with has-answer >= min_has (on these out-of-fold predictions)."""
    best: tuple[float, Linear, float, float, int] | None = None
    for ratio, lines in itertools.product(SHOW_RATIOS, MAX_LINES):
        usable = [s for s in scored if len(s.probs)]
        y = np.array([shown_right(s, ratio, lines)[0] for s in usable], dtype=int)
        model = fit(np.vstack([s.x for s in usable]), y, ANSWER_FEATURES,
                    np.array([s.item.weight for s in usable]))
        p = model.probability(np.vstack([s.x for s in scored]))
        for t in np.round(np.arange(0.02, 0.95, 0.01), 2):
            key = objective(rates(scored, p, t, ratio, lines), min_has)
            if best is None or key > best[0] + 1e-9:
                best = (key, model, float(t), ratio, lines)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def bm25_top1(items: list[Item]) -> float:
    answerable = [i for i in items if not i.impossible and i.domain == "squad"]
    if not answerable:
        return 0.0
    return sum(bool(len(i.labels) and i.labels[0]) for i in answerable) / len(answerable)


def pooled_rates(pooled: list[tuple[Scored, float, float, float, int]]) -> Rates:
    """Rates over all held-out predictions, each made with its own fold's settings."""
    ones = np.ones(1)
    parts = [rates([s], ones * (1.0 if c >= t else 0.0), 0.5, ratio, lines)
             for s, c, t, ratio, lines in pooled]
    totals = Rates()
    for field_, kind in (("has", "squad+"), ("strict", "squad+"), ("no", "squad-"),
                         ("news", "news"), ("offtopic", "offtopic")):
        chosen = [(s, r) for (s, *_), r in zip(pooled, parts, strict=True)
                  if _kind(s.item) == kind]
        if chosen:
            setattr(totals, field_, sum(getattr(r, field_) for _, r in chosen) / len(chosen))
    return totals


def _kind(item: Item) -> str:
    if item.domain == "squad":
        return "squad-" if item.impossible else "squad+"
    return item.domain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad")
    ap.add_argument("--news", type=Path, default=ROOT / "tests" / "fixtures" / "news",
                    help="our own articles and questions (dev-question format)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--min-has", type=float, default=0.80,
                    help="has-answer floor when choosing the threshold (default 0.80)")
    ap.add_argument("--report-only", action="store_true", help="print figures, write nothing")
    args = ap.parse_args()
    if not args.squad.is_dir():
        sys.exit(f"no SQuAD data at {args.squad}: pass --squad DIR")
    items = load(args.squad) + (load_news(args.news) if args.news.is_dir() else [])
    arts = sorted({i.article for i in items})

    print(f"{len(items)} questions, {len(arts)} articles; leave-one-article-out "
          "(each article scored by models fitted without it):")
    print(f"{'held-out article':34s} {'has':>6s} {'no':>6s} {'bal':>6s} {'strict':>7s} "
          f"{'bm25@1':>7s} {'news':>6s} {'offtop':>7s}")
    pooled: list[tuple[Scored, float, float, float, int]] = []
    for held in arts:
        train = [i for i in items if i.article != held]
        test = [i for i in items if i.article == held]
        answerer, t, ratio, lines = fit_answerer(out_of_fold(train), args.min_has)
        scored = score_with(fit_ranker(train), test)
        p = answerer.probability(np.vstack([s.x for s in scored]))
        pooled += [(s, float(c), t, ratio, lines) for s, c in zip(scored, p, strict=True)]
        r = rates(scored, p, t, ratio, lines)
        print(f"{held:34s} {100 * r.has:6.1f} {100 * r.no:6.1f} {100 * r.balanced:6.1f} "
              f"{100 * r.strict:7.1f} {100 * bm25_top1(test):7.1f} {100 * r.news:6.1f} "
              f"{100 * r.offtopic:7.1f}")
    r = pooled_rates(pooled)
    print(f"{'all (pooled)':34s} {100 * r.has:6.1f} {100 * r.no:6.1f} {100 * r.balanced:6.1f} "
          f"{100 * r.strict:7.1f} {100 * bm25_top1(items):7.1f} {100 * r.news:6.1f} "
          f"{100 * r.offtopic:7.1f}")

    ranker = fit_ranker(items)
    answerer, t, ratio, lines = fit_answerer(out_of_fold(items), args.min_has)
    digest = hashlib.sha256(json.dumps(
        [[i.article, i.question, i.impossible] for i in items]).encode()).hexdigest()[:12]
    scorer = Scorer(ranker=ranker, answerer=answerer, threshold=t, show_ratio=ratio,
                    max_lines=lines, version=f"squad6-{digest}")
    print(f"final: threshold {t:.2f}, show ratio {ratio}, up to {lines} lines")
    if not args.report_only:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(scorer.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
