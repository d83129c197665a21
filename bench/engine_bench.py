"""Answer latency and index build time, in-process.

    python bench/engine_bench.py [--articles 10000]

Prints p50/p99 answer latency on the shipped seeds and on a generated corpus, and the time
to build the generated index. Targets (2-core machine): p99 <= 5 ms on the seeds, <= 50 ms at
10,000 articles; build <= 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import FIRST, LAST, generate

from bot.engine.index import build_index

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--corpus-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefbot-bench-corpus")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")

    root = Path(__file__).resolve().parent.parent
    seeds = build_index(root / "seeds")
    p50, p99 = measure(seeds, SEED_QUESTIONS, rounds=50)
    print(f"seeds ({len(seeds.documents)} article): answer p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(target p99 <= 5 ms)")

    folder = generate(args.corpus_dir / str(args.articles), args.articles)
    t = time.perf_counter()
    big = build_index(folder)
    build = time.perf_counter() - t
    print(f"{args.articles} articles: {len(big.sentences)} sentences, {len(big.people())} people, "
          f"build {build:.1f} s (target <= 60 s)")
    p50, p99 = measure(big, corpus_questions(20), rounds=3)
    print(f"{args.articles} articles: answer p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(target p99 <= 50 ms)")


if __name__ == "__main__":
    main()
