"""Train the engine's scorer (ranker + answer/abstain model) and report held-out figures.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_scorer.py [--squad DIR] [--out bot/engine/model/scorer.json]

Data: the SQuAD 2.0 articles in `shared/eval/squad/` (CC BY-SA 4.0; each a seeds folder and
its questions, about half unanswerable on purpose), and twelve of our news articles with
their questions (`tests/fixtures/news/`, named in `scripts/scorer_news_articles.txt`). Each
question is run through the engine's own retrieval and features (`bot.engine.retrieval`), so
training sees exactly what answering sees. A candidate sentence is positive when it contains
a gold answer (SQuAD normalisation).

- Ranker: a listwise linear model (softmax over each question's candidates) over
  RANK_FEATURES of answerable questions' candidates: it orders them.
- Verifier: a pointwise logistic regression over the same features: how likely a candidate
  holds an answer at all (the answer model reads it).
- Answer model: gradient-boosted trees (HistGradientBoosting, exported as arrays the engine
  evaluates without scikit-learn) over ANSWER_FEATURES; the label is "answering would be
  right" (the question is answerable and the sentences shown hold a gold answer; for SQuAD
  the first one). Its inputs come from out-of-fold rankers and verifiers, so it learns how
  far they can be trusted.
- Threshold, show ratio and line count: SQuAD's strict has-answer (the first sentence shown
  judged) and news accuracy are maximised on out-of-fold predictions, subject to no-answer
  >= --min-no.

Figures printed are held out: each SQuAD article, and each of NEWS_FOLDS groups of our news
articles, is scored by models (and a threshold) fitted without it. Deterministic: same data,
same file.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import re
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.ensemble import HistGradientBoostingClassifier
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
from bot.engine.scorer import MODEL_PATH, Linear, Scorer, Trees  # noqa: E402
from bot.engine.text import fold  # noqa: E402

WEIGHTS = {"squad": 1.0, "news": 8.0, "offtopic": 3.0}
"""Sample weights: our own news questions are few (192) but are the product's domain (news
weight 4 → 8 moved out-of-fold news accuracy 69 → 71 % at the same SQuAD no-answer floor)."""
NEWS_ARTICLES = ROOT / "scripts" / "scorer_news_articles.txt"
"""The news articles the shipped scorer is fit on: the first twelve written. Fit on all 27,
it was no better held out on SQuAD (strict 68.6 % at 31.9 % no-answer against 68.9 % at
33.6 %) nor on the held-out news articles (see the README's benchmarks)."""
NEWS_FOLDS = 4
"""News articles are held out in this many groups (by their sorted order, round robin)."""
OFFTOPIC_EVERY = 6
"""Every n-th answerable question of each other article is asked of this one as off-topic."""
SHOW_RATIOS = (0.0, 0.25, 0.5)
MAX_LINES = (3, 4)
C = 1.0
RANK_L2 = 10.0
"""L2 penalty of the listwise ranker (chosen leave-one-article-out on the SQuAD articles:
0.1, 1 and 10 gave 78.3, 78.3 and 78.6 % top-1)."""


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
    names: tuple[float, bool, float] = (0.0, True, 0.0)
    """Share of typed names no article has; whether an article has the focus word; the best
    cosine of any sentence to the question."""
    firsts: tuple[bool, bool] = (False, False)
    """Whether BM25's first sentence, and the dense list's first, hold the answer."""

    fold: str = ""
    """What is held out together: a SQuAD article alone; our news articles in NEWS_FOLDS
    groups (33 single-article folds, each refitting every model, would take hours)."""

    @property
    def weight(self) -> float:
        return WEIGHTS[self.domain]


def _candidates(ix, question: str, holds) -> tuple:
    terms = question_terms(question, ix.idf)
    cands = retrieve(ix, terms) if terms.stems else None
    if cands is None or not len(cands):
        return (terms, np.zeros((0, len(RANK_FEATURES))), np.zeros(0, dtype=int), [], 1.0, 0.0,
                [], (0.0, True, 0.0), (False, False))
    labels = np.array([holds(i) for i in cands.indices], dtype=int)
    lengths = [len(ix.texts[i]) for i in cands.indices]
    firsts = (cands.bm25_first >= 0 and bool(holds(cands.bm25_first)),
              cands.dense_first >= 0 and bool(holds(cands.dense_first)))
    return (terms, cands.features, labels, lengths, cands.unknown_mass, cands.bm25_top,
            list(cands.indices), (cands.unknown_names, cands.focus_known, cands.dense_top),
            firsts)


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
            terms, feats, labels, lengths, unknown, top, _, names, firsts = _candidates(
                ix, q["question"], holds)
            items.append(Item(art.name, q["question"], impossible, feats, labels, lengths,
                              unknown, top, terms, domain, names=names, firsts=firsts))
        print(f"  {art.name}: {sum(i.article == art.name for i in items)} questions",
              file=sys.stderr)
    return items


def load_news(folder: Path, only: set[str] | None = None) -> list[Item]:
    """Our own articles with questions in the shared dev-question format (with `only`, the
    articles of those names)."""
    items: list[Item] = []
    for qfile in sorted(folder.glob("*.questions.json")):
        art = folder / qfile.name.removesuffix(".questions.json")
        if only is not None and art.name not in only:
            continue
        ix = build_index(art)
        folded = [fold(t) for t in ix.texts]
        for q in json.loads(qfile.read_text(encoding="utf-8")):
            groups = [[fold(a) for a in g] for g in q["must_include_any"]]
            def holds(i: int, groups=groups, folded=folded) -> bool:
                return any(a in folded[i] for g in groups for a in g)
            terms, feats, labels, lengths, unknown, top, idx, names, firsts = _candidates(
                ix, q["question"], holds)
            cover = [{k for k, i in enumerate(idx) if any(a in folded[i] for a in g)}
                     for g in groups]
            items.append(Item(f"news/{art.name}", q["question"], q["kind"] == "abstain", feats,
                              labels, lengths, unknown, top, terms, "news",
                              cover, names, firsts))
    print(f"  news: {len(items)} questions", file=sys.stderr)
    return items


def assign_folds(items: list[Item]) -> None:
    """Set each item's fold (see `Item.fold`): deterministic, from the article names."""
    news = sorted({i.article for i in items if i.domain == "news"})
    group = {a: f"news-{k % NEWS_FOLDS}" for k, a in enumerate(news)}
    for i in items:
        i.fold = group.get(i.article, i.article)


def fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], w: np.ndarray) -> Linear:
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=C, max_iter=5000).fit((x - scaler.mean_) / scale, y,
                                                        sample_weight=w)
    return Linear(names, scaler.mean_, scale, model.coef_[0], float(model.intercept_[0]))


def fit_ranker(items: list[Item]) -> Linear:
    """Listwise (softmax over each question's candidates, as in a conditional logit): the
    ranker learns which candidate is best among those it competes with, which is what the
    engine asks of it; L-BFGS with an L2 penalty on standardised features."""
    usable = [i for i in items if not i.impossible and len(i.labels) and i.labels.any()]
    x_all = np.vstack([i.features for i in usable])
    mean = x_all.mean(axis=0)
    scale = x_all.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x = (x_all - mean) / scale
    y = np.concatenate([i.labels / i.labels.sum() for i in usable])
    weight = np.concatenate([np.full(len(i.labels), i.weight) for i in usable])
    sizes = np.array([len(i.labels) for i in usable])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    group = np.repeat(np.arange(len(usable)), sizes)
    dims = x.shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        z = z - np.maximum.reduceat(z, starts)[group]
        e = np.exp(z)
        p = e / np.add.reduceat(e, starts)[group]
        total = -float((weight * y) @ np.log(p + 1e-12))
        grad = -(x.T @ (weight * (y - p)))
        total += 0.5 * RANK_L2 * float(w[1:] @ w[1:])  # the bias column is constant
        grad[1:] += RANK_L2 * w[1:]
        return total, grad

    fitted = minimize(loss, np.zeros(dims), jac=True, method="L-BFGS-B",
                      options={"maxiter": 1000})
    return Linear(RANK_FEATURES, mean, scale, fitted.x, 0.0, kind="softmax")


@dataclass
class Scored:
    item: Item
    probs: np.ndarray
    x: np.ndarray
    shown: dict[tuple[float, int], tuple[bool, bool]] = field(default_factory=dict)


def fit_verifier(items: list[Item]) -> Linear:
    """Pointwise logistic regression: does this candidate hold an answer, in absolute terms
    (what the answer model needs to know, which the ranker's softmax does not say)."""
    usable = [i for i in items if not i.impossible and len(i.labels)]
    return fit(np.vstack([i.features for i in usable]),
               np.concatenate([i.labels for i in usable]), RANK_FEATURES,
               np.concatenate([np.full(len(i.labels), i.weight) for i in usable]))


def fit_models(items: list[Item]) -> tuple[Linear, Linear]:
    return fit_ranker(items), fit_verifier(items)


def score_with(models: tuple[Linear, Linear], items: list[Item]) -> list[Scored]:
    ranker, verifier = models
    out = []
    for it in items:
        probs = ranker.probability(it.features) if len(it.labels) else np.zeros(0)
        verified = verifier.probability(it.features) if len(probs) else np.zeros(0)
        x = answer_features(it.terms, verified, it.features, it.unknown_mass, it.bm25_top,
                            *it.names, probs) if len(probs) else np.zeros(len(ANSWER_FEATURES))
        out.append(Scored(it, probs, x))
    return out


def shown_right(s: Scored, ratio: float, lines: int) -> tuple[bool, bool]:
    """(any shown sentence holds the answer, the first one does); remembered per Scored."""
    key = (ratio, lines)
    if key not in s.shown:
        s.shown[key] = _shown_right(s, ratio, lines)
    return s.shown[key]


def _shown_right(s: Scored, ratio: float, lines: int) -> tuple[bool, bool]:
    picked = select(s.probs, s.item.lengths, ratio, lines)
    if s.item.impossible or not picked:
        return False, False
    if s.item.cover is not None:
        right = all(any(k in group for k in picked) for group in s.item.cover)
        return right, all(picked[0] in group for group in s.item.cover)
    return bool(s.item.labels[picked].any()), bool(s.item.labels[picked[0]])


def out_of_fold(items: list[Item]) -> list[Scored]:
    """Ranker probabilities for each article from a ranker trained without it."""
    folds = sorted({i.fold for i in items})
    out: list[Scored] = []
    for f in folds:
        models = fit_models([i for i in items if i.fold != f])
        out += score_with(models, [i for i in items if i.fold == f])
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


def objective(r: Rates, min_no: float) -> float:
    """SQuAD's strict has-answer (the first sentence shown must hold the answer) and news
    accuracy, equally, once the engine abstains on at least `min_no` of the unanswerable
    SQuAD questions (below that floor, the more it abstains the better)."""
    if r.no < min_no:
        return r.no - 1.0
    return (r.strict + r.news) / 2


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Trees:
    """Gradient-boosted trees for the answer model, exported as plain arrays (`Trees`).
    Shallow and slow-learning, deterministic (no early stopping at this data size)."""
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05,
                                           early_stopping=False, random_state=0)
    model.fit(x, y, sample_weight=w)
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append({"feature": nodes["feature_idx"].astype(np.int64),
                      "threshold": nodes["num_threshold"].astype(np.float64),
                      "left": nodes["left"].astype(np.int64),
                      "right": nodes["right"].astype(np.int64),
                      "leaf": nodes["is_leaf"].astype(bool),
                      "value": nodes["value"].astype(np.float64),
                      "missing_left": nodes["missing_go_to_left"].astype(bool)})
    exported = Trees(ANSWER_FEATURES, float(np.ravel(model._baseline_prediction)[0]),
                     tuple(trees))
    assert np.allclose(exported.probability(x[:50]), model.predict_proba(x[:50])[:, 1])
    return exported


def fit_answerer(scored: list[Scored], min_no: float) -> tuple[Trees, float, float, int]:
    """The answer model, and the threshold / show ratio / lines that maximise `objective`
    with no-answer >= min_no (on these out-of-fold predictions). Its label: answering would
    be right; for SQuAD, with the first sentence shown (what `score.py --strict` checks)."""
    best: tuple[float, Trees, float, float, int] | None = None
    for ratio, lines in itertools.product(SHOW_RATIOS, MAX_LINES):
        usable = [s for s in scored if len(s.probs)]
        y = np.array([shown_right(s, ratio, lines)[s.item.domain == "squad"]
                      for s in usable], dtype=int)
        model = fit_trees(np.vstack([s.x for s in usable]), y,
                          np.array([s.item.weight for s in usable]))
        p = model.probability(np.vstack([s.x for s in scored]))
        for t in np.round(np.arange(0.02, 0.95, 0.01), 2):
            key = objective(rates(scored, p, t, ratio, lines), min_no)
            if best is None or key > best[0] + 1e-9:
                best = (key, model, float(t), ratio, lines)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def _answerable(items: list[Item]) -> list[Item]:
    return [i for i in items if not i.impossible and i.domain == "squad"]


def bm25_top1(items: list[Item]) -> float:
    """Share of answerable SQuAD questions whose BM25 first sentence holds a gold answer."""
    answerable = _answerable(items)
    return sum(i.firsts[0] for i in answerable) / len(answerable) if answerable else 0.0


def dense_top1(items: list[Item]) -> float:
    """The same for the sentence with the highest MiniLM cosine to the question."""
    answerable = _answerable(items)
    return sum(i.firsts[1] for i in answerable) / len(answerable) if answerable else 0.0


def ranker_top1(scored: list[Scored]) -> float:
    """The same for the ranker's first sentence (whether or not the engine would answer)."""
    rows = [s for s in scored if not s.item.impossible and s.item.domain == "squad"]
    right = sum(bool(len(s.probs) and s.item.labels[int(np.argmax(s.probs))]) for s in rows)
    return right / len(rows) if rows else 0.0


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
    ap.add_argument("--news-articles", type=Path, default=NEWS_ARTICLES,
                    help="the articles of --news to fit on, one name a line (default: the "
                         "twelve the shipped file is fit on); '-' for every article")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--min-no", type=float, default=0.38,
                    help="floor on the unanswerable SQuAD questions abstained on when "
                         "choosing the threshold (default 0.38: the target is 0.35, with room "
                         "for other articles)")
    ap.add_argument("--report-only", action="store_true", help="print figures, write nothing")
    ap.add_argument("--items", type=Path,
                    help="keep the retrieved candidates in this pickle and reuse them on the "
                         "next run (for trying settings; delete it after changing features)")
    args = ap.parse_args()
    if not args.squad.is_dir():
        sys.exit(f"no SQuAD data at {args.squad}: pass --squad DIR")
    if args.items and args.items.is_file():
        items = pickle.loads(args.items.read_bytes())
    else:
        only = None if str(args.news_articles) == "-" else set(
            args.news_articles.read_text(encoding="utf-8").split())
        items = load(args.squad) + (load_news(args.news, only) if args.news.is_dir() else [])
        if args.items:
            args.items.write_bytes(pickle.dumps(items))
    assign_folds(items)
    arts = sorted({i.article for i in items})
    folds = sorted({i.fold for i in items})

    print(f"{len(items)} questions, {len(arts)} articles; held out by fold (each SQuAD "
          f"article alone, the news in {NEWS_FOLDS} groups; each scored by models fitted "
          "without it):")
    print(f"{'held out':34s} {'has':>6s} {'no':>6s} {'bal':>6s} {'strict':>7s} "
          f"{'rank@1':>7s} {'bm25@1':>7s} {'dense@1':>7s} {'news':>6s} {'offtop':>7s}")
    pooled: list[tuple[Scored, float, float, float, int]] = []
    held_scored: list[Scored] = []
    for held in folds:
        train = [i for i in items if i.fold != held]
        test = [i for i in items if i.fold == held]
        answerer, t, ratio, lines = fit_answerer(out_of_fold(train), args.min_no)
        scored = score_with(fit_models(train), test)
        held_scored += scored
        p = answerer.probability(np.vstack([s.x for s in scored]))
        pooled += [(s, float(c), t, ratio, lines) for s, c in zip(scored, p, strict=True)]
        r = rates(scored, p, t, ratio, lines)
        print(f"{held:34s} {100 * r.has:6.1f} {100 * r.no:6.1f} {100 * r.balanced:6.1f} "
              f"{100 * r.strict:7.1f} {100 * ranker_top1(scored):7.1f} "
              f"{100 * bm25_top1(test):7.1f} {100 * dense_top1(test):7.1f} {100 * r.news:6.1f} "
              f"{100 * r.offtopic:7.1f}")
    r = pooled_rates(pooled)
    print(f"{'all (pooled)':34s} {100 * r.has:6.1f} {100 * r.no:6.1f} {100 * r.balanced:6.1f} "
          f"{100 * r.strict:7.1f} {100 * ranker_top1(held_scored):7.1f} "
          f"{100 * bm25_top1(items):7.1f} {100 * dense_top1(items):7.1f} {100 * r.news:6.1f} "
          f"{100 * r.offtopic:7.1f}")

    ranker, verifier = fit_models(items)
    answerer, t, ratio, lines = fit_answerer(out_of_fold(items), args.min_no)
    digest = hashlib.sha256(json.dumps(
        [[i.article, i.question, i.impossible] for i in items]).encode()).hexdigest()[:12]
    scorer = Scorer(ranker=ranker, verifier=verifier, answerer=answerer, threshold=t,
                    show_ratio=ratio,
                    max_lines=lines, version=f"squad6-{digest}")
    print(f"final: threshold {t:.2f}, show ratio {ratio}, up to {lines} lines")
    if not args.report_only:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(scorer.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
