"""Answer latency, index builds, a cold `briefbot ask` and memory, on this machine.

    python bench/engine_bench.py [--articles 10000] [--skip-big | --skip-seeds]

Prints, with the machine:
- answer latency p50/p99 on the shipped seeds and on a generated corpus (dense search and
  the question's embedding included; the per-index memo is bypassed);
- a cold build of the generated corpus (every sentence embedded, an empty cache) and a
  reload after adding one article to it (vectors and article facts of the others from the
  cache), each with the seconds of its stages;
- recall@30 of the dense search against exact cosines (approximate above 50,000 sentences,
  `bot/engine/dense_search.py`);
- `briefbot ask` from a new process on unchanged seeds (the built index from the cache);
- the peak RSS of a process that loads the serving code (slack-bolt, discord.py, the app)
  and the seeds index and answers the sample questions.
Targets (issue #18): answer p99 <= 10 ms on the seeds and <= 60 ms at 10,000 articles; cold
build of 10,000 articles <= 8 min; reload after one more <= 15 s; cold ask <= 1 s; serving
RSS <= 250 MB on the seeds. Every figure is printed with the machine's load average
(`uptime`): on 2 cores, another busy process doubles the timings.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from corpus import FIRST, LAST, article, generate, vocabulary
from threadpoolctl import threadpool_limits

from bot.engine.blas import BLAS_THREADS
from bot.engine.dense_search import LazyCosines
from bot.engine.embedder import load_embedder
from bot.engine.index import build_index
from bot.engine.index_cache import wait_for_saves
from bot.engine.retrieval import CANDIDATES

ROOT = Path(__file__).resolve().parent.parent
SEED_QUESTIONS = [
    "who is Tertitskiy", "who is Rüdiger Frank", "who is Sergei Shoigu?", "why might the deal fail",
    "what does Russia hope to get out of the deal?", "what is Pyongyang in dire need of",
    "where is the meeting planned", "would the deliveries matter for the Ukraine war",
    "what did Tertitskiy say", "why was the Russian defense minister sent to North Korea",
    "who is the author", "who is Biden", "what's the weather like in Moscow",
    "how much oil does Russia export", "is the plan in trouble?", "when is the meeting",
]


def corpus_questions(n: int) -> list[str]:
    qs = []
    for i in range(n):
        last = f"{LAST[i % len(LAST)]}{i % 97}"
        qs += [f"who is {last}", f"what did {FIRST[i % len(FIRST)]} {last} say",
               "why could the talks stall", "where are the talks", f"when will {last} act",
               "what is the GDP of Brazil"]
    return qs


def measure(index, questions: list[str], rounds: int) -> tuple[float, float]:
    for q in questions:  # warm caches
        index.compute("ask", q)
    samples = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            index.compute("ask", q)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def measure_blas(index, questions: list[str], rounds: int,
                 settings: tuple[int, ...]) -> dict[int, tuple[float, float]]:
    """`measure` for each BLAS thread count, rounds alternated so that the machine's load
    weighs on each alike."""
    index.compute("ask", questions[0])  # the engine sets its BLAS limit on first answer
    samples: dict[int, list[float]] = {t: [] for t in settings}
    for q in questions:  # warm caches
        index.compute("ask", q)
    for _ in range(rounds):
        for threads in dict.fromkeys(settings):
            with threadpool_limits(limits=threads, user_api="blas"):
                for q in questions:
                    t = time.perf_counter()
                    index.compute("ask", q)
                    samples[threads].append((time.perf_counter() - t) * 1000)
    out = {}
    for threads, found in samples.items():
        found.sort()
        out[threads] = (statistics.median(found), found[int(0.99 * (len(found) - 1))])
    return out


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load average {one:.2f}, {five:.2f}, {fifteen:.2f}]"


def stages(index) -> str:
    """The build's stages, slowest first; the index cache is written in the background, after
    the index is returned (waited for here, and not counted in the build's time)."""
    wait_for_saves()
    found = dict(index.stats.get("stages", {}))
    save = found.pop("index_cache_save", None)
    out = ", ".join(f"{name} {sec:.1f} s" for name, sec in
                    sorted(found.items(), key=lambda kv: -kv[1]))
    return out + (f"; then, in the background, index cache written in {save:.1f} s"
                  if save is not None else "")


def dense_recall(index, questions: list[str], k: int = CANDIDATES) -> float | None:
    """Share of the exact top-k answerable sentences by cosine that the index's dense search
    finds (None when the index searches exactly)."""
    if index.reduced is None:
        return None
    embedder = load_embedder()
    found = total = 0
    for q in dict.fromkeys(questions):
        query = embedder.embed_one(q)
        exact = index.dense @ query
        pool = np.flatnonzero(index.answerable)
        best = set(pool[np.argsort(-exact[pool], kind="stable")[:k]].tolist())
        approx = LazyCosines(index.dense, index.reduced, query).top(index.answerable, k)
        found += len(best & set(approx.tolist()))
        total += k
    return found / total


def cold_ask(bin_path: str, data_dir: Path, runs: int = 5) -> float:
    env = {**os.environ, "BRIEFBOT_DATA_DIR": str(data_dir)}
    cmd = [bin_path, "ask", "who is Tertitskiy", "--seeds", str(ROOT / "seeds")]
    subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=300)  # fills cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=300)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


RSS_PROBE = """
import resource, sys
from pathlib import Path
import bot.app, slack_bolt, discord  # noqa: F401  (what serve loads)
from bot.engine.index import build_index
ix = build_index(sys.argv[1], Path(sys.argv[2]))
for q in sys.argv[3:]:
    ix.answer(q)
ix.briefing()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def serving_rss() -> tuple[float, float]:
    """Peak RSS of a first start (the index built, sentences embedded) and of a start on
    unchanged seeds (the built index loaded from the cache), as `serve` does."""
    peaks = []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(ROOT / "seeds"), cache,
                                  *SEED_QUESTIONS], capture_output=True, text=True, check=True,
                                 timeout=300, cwd=ROOT)
            peaks.append(float(out.stdout.strip().splitlines()[-1]))
    return peaks[0], peaks[1]


def seeds_figures(bin_path: str) -> None:
    seeds = build_index(ROOT / "seeds")
    p50, p99 = measure(seeds, SEED_QUESTIONS, rounds=30)
    print(f"seeds ({len(seeds.documents)} article): answer p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(target p99 <= 10 ms) {load()}")
    with tempfile.TemporaryDirectory() as data:
        cold = cold_ask(bin_path, Path(data))
        print(f"briefbot ask, new process, unchanged seeds: median {cold:.2f} s (target <= 1 s) "
              f"{load()}")
    first, again = serving_rss()
    print(f"serving code + seeds index, peak RSS: first start {first:.0f} MB, start on "
          f"unchanged seeds {again:.0f} MB (target <= 250 MB)")


def big_figures(n: int, corpus_dir: Path, cache: Path) -> None:
    folder = generate(corpus_dir / str(n), n)
    t = time.perf_counter()
    big = build_index(folder, cache)
    build = time.perf_counter() - t
    print(f"{n} articles: {len(big.sentences)} sentences, {len(big.people())} people; cold "
          f"build {build:.1f} s, {big.embed_report.sentences_embedded} sentences embedded "
          f"(target <= 480 s) {load()}")
    print(f"  build stages: {stages(big)}")
    questions = corpus_questions(20)
    served, other = BLAS_THREADS, os.cpu_count() or 1
    figures = measure_blas(big, questions, rounds=3, settings=(served, other))
    p50, p99 = figures[served]
    print(f"{n} articles: answer p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 <= 60 ms; "
          f"BLAS at {served} thread(s) as served) {load()}")
    if other != served:
        p50, p99 = figures[other]
        print(f"  for comparison, BLAS on {other} threads (rounds alternated): p50 {p50:.2f} "
              f"ms, p99 {p99:.2f} ms")
    recall = dense_recall(big, questions)
    print(f"{n} articles: dense search " + ("exact (under the limit)" if recall is None else
                                            f"recall@{CANDIDATES} {recall:.3f} against exact"))
    del big
    extra = folder / "zz-extra-article.txt"
    rng = random.Random(99)
    extra.write_text(article(rng, vocabulary(rng), n), encoding="utf-8")
    try:
        t = time.perf_counter()
        grown = build_index(folder, cache)
        reload = time.perf_counter() - t
    finally:
        extra.unlink()
    print(f"reload after adding one article: {reload:.1f} s, {grown.embed_report.embedded} "
          f"article embedded, {grown.embed_report.cached} from the cache; article facts "
          f"{grown.stats.get('articles')} (target <= 15 s) {load()}")
    print(f"  reload stages: {stages(grown)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--skip-big", action="store_true", help="seeds, cold ask and RSS only")
    parser.add_argument("--skip-seeds", action="store_true",
                        help="the generated corpus only (no seeds, cold ask or RSS)")
    parser.add_argument("--bin", default=str(ROOT / ".venv" / "bin" / "briefbot"))
    parser.add_argument("--corpus-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefbot-bench-corpus")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the build cache here (development: the 'cold' build is "
                             "then warm when run again)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()} {load()}")
    if not args.skip_seeds:
        seeds_figures(args.bin)
    if args.skip_big:
        return
    if args.cache_dir is not None:
        big_figures(args.articles, args.corpus_dir, args.cache_dir)
        return
    with tempfile.TemporaryDirectory() as cache_dir:
        big_figures(args.articles, args.corpus_dir, Path(cache_dir))


if __name__ == "__main__":
    main()
