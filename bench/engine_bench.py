"""Answer latency, index builds, a cold `briefbot ask` and memory, on this machine.

    python bench/engine_bench.py [--articles 10000] [--skip-big]

Prints, with the machine:
- answer latency p50/p99 on the shipped seeds and on a generated corpus (dense search and
  the question's embedding included; the per-index memo is bypassed);
- a cold build of the generated corpus (every sentence embedded, an empty cache) and a
  reload after adding one article to it (vectors of the others from the cache);
- `briefbot ask` from a new process on unchanged seeds (the built index from the cache);
- the peak RSS of a process that loads the serving code (slack-bolt, discord.py, the app)
  and the seeds index and answers the sample questions.
Targets (issue #18): answer p99 <= 10 ms on the seeds and <= 60 ms at 10,000 articles; cold
build of 10,000 articles <= 8 min; reload after one more <= 15 s; cold ask <= 1 s; serving
RSS <= 250 MB on the seeds.
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
from corpus import FIRST, LAST, article, generate, vocabulary

from bot.engine.index import build_index

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--skip-big", action="store_true", help="seeds, cold ask and RSS only")
    parser.add_argument("--bin", default=str(ROOT / ".venv" / "bin" / "briefbot"))
    parser.add_argument("--corpus-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefbot-bench-corpus")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")

    seeds = build_index(ROOT / "seeds")
    p50, p99 = measure(seeds, SEED_QUESTIONS, rounds=30)
    print(f"seeds ({len(seeds.documents)} article): answer p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(target p99 <= 10 ms)")
    with tempfile.TemporaryDirectory() as data:
        cold = cold_ask(args.bin, Path(data))
        print(f"briefbot ask, new process, unchanged seeds: median {cold:.2f} s (target <= 1 s)")
    first, again = serving_rss()
    print(f"serving code + seeds index, peak RSS: first start {first:.0f} MB, start on "
          f"unchanged seeds {again:.0f} MB (target <= 250 MB)")
    if args.skip_big:
        return

    folder = generate(args.corpus_dir / str(args.articles), args.articles)
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = Path(cache_dir)
        t = time.perf_counter()
        big = build_index(folder, cache)
        build = time.perf_counter() - t
        print(f"{args.articles} articles: {len(big.sentences)} sentences, {len(big.people())} "
              f"people; cold build {build:.1f} s, {big.embed_report.sentences_embedded} "
              "sentences embedded (target <= 480 s)")
        p50, p99 = measure(big, corpus_questions(20), rounds=3)
        print(f"{args.articles} articles: answer p50 {p50:.2f} ms, p99 {p99:.2f} ms "
              f"(target p99 <= 60 ms)")
        del big
        extra = folder / "zz-extra-article.txt"
        rng = random.Random(99)
        extra.write_text(article(rng, vocabulary(rng), args.articles), encoding="utf-8")
        try:
            t = time.perf_counter()
            grown = build_index(folder, cache)
            reload = time.perf_counter() - t
        finally:
            extra.unlink()
        print(f"reload after adding one article: {reload:.1f} s, "
              f"{grown.embed_report.embedded} article embedded, {grown.embed_report.cached} "
              "from the cache (target <= 15 s)")


if __name__ == "__main__":
    main()
