"""Article extraction on real news pages: F1, precision, recall and time per page.

    python bench/extraction_bench.py [--data ../shared/eval/extraction] [--limit N]
                                     [--show-worst K] [--cli]

In-process (default): serves each page of the shared sample on 127.0.0.1 (as `text/html`, no
charset, like `score.py`), runs `add_url` (the fetch, extraction and atomic write that
`briefbot add` runs, with BRIEFBOT_FETCH_ALLOW_HOSTS=127.0.0.1) into an empty seeds folder,
reads the body of the file written (front matter removed) and scores it against the
hand-checked body by 4-word shingles, averaged over pages as the public benchmark (and
`score.py`) does. The time per page is fetch + extraction + write, measured around `add_url`.

`--cli` also runs the shared `score.py` on the real command (`briefbot add URL --json`, a new
process per page, which also builds the index on the new article to list its people) and
prints its figures. Targets: F1 >= 0.95, median <= 200 ms per page (in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.add import add_url  # noqa: E402
from bot.ingest.fetch import FetchRefused  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "extraction"
TOKEN = re.compile(r"\w+", re.UNICODE)
FRONT_MATTER = re.compile(r"^---\n.*?\n---\n", re.S)


def shingles(text: str, n: int = 4) -> collections.Counter[tuple[str, ...]]:
    toks = TOKEN.findall(text or "")
    return collections.Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))
                               if toks[i:i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """Shingle overlap as fractions, exactly as score.py counts it."""
    t, p = shingles(true), shingles(pred)
    tp = fp = fn = 0
    for k in set(t) | set(p):
        tp += min(t[k], p[k])
        fp += max(0, p[k] - t[k])
        fn += max(0, t[k] - p[k])
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0, 0, 0)


def precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))


def recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}")


async def run(data: Path, keys: list[str]) -> list[tuple[str, tuple[float, float, float],
                                                           float, str]]:
    async def page(request: web.Request) -> web.Response:
        f = data / "html" / f"{request.match_info['id'].split('.')[0]}.html.gz"
        if not f.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=gzip.decompress(f.read_bytes()),
                            headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_get("/{id}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    truth = json.loads((data / "ground-truth.json").read_text())
    rows = []
    try:
        for k in keys:
            with tempfile.TemporaryDirectory() as seeds:
                started = time.perf_counter()
                error, pred = "", ""
                try:
                    added = await add_url(f"http://127.0.0.1:{port}/{k}.html", Path(seeds),
                                          allow_hosts=["127.0.0.1"])
                except FetchRefused as exc:
                    error = exc.message
                elapsed = time.perf_counter() - started
                if not error:
                    text = added.path.read_text(encoding="utf-8")
                    m = FRONT_MATTER.match(text)
                    pred = text[m.end():] if m else text
            rows.append((k, tp_fp_fn(truth[k]["articleBody"], pred), elapsed, error))
    finally:
        await runner.cleanup()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show-worst", type=int, default=0)
    ap.add_argument("--cli", action="store_true", help="also run score.py on `briefbot add`")
    args = ap.parse_args()
    if not (args.data / "ground-truth.json").is_file():
        print(f"no benchmark pages at {args.data} (see the README's Adding articles by URL)")
        return 2
    keys = sorted(json.loads((args.data / "ground-truth.json").read_text()))
    keys = keys[: args.limit or None]
    rows = asyncio.run(run(args.data, keys))
    ps = [precision(*c) for _, c, _, _ in rows if c[0] + c[1] > 0]
    rs = [recall(*c) for _, c, _, _ in rows if c[0] + c[2] > 0]
    p = sum(ps) / len(ps) if ps else 0.0
    r = sum(rs) / len(rs) if rs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    times = [t for _, _, t, _ in rows]
    refused = [k for k, _, _, e in rows if e]

    def page_f1(c: tuple[float, float, float]) -> float:
        pp, rr = precision(*c), recall(*c)
        return 2 * pp * rr / (pp + rr) if pp + rr else 0.0

    for k, c, _, err in sorted(rows, key=lambda row: page_f1(row[1]))[: args.show_worst]:
        print(f"- {k[:12]} precision {precision(*c):.2f} recall {recall(*c):.2f} {err}")
    print(f"machine: {machine()}")
    print(f"extraction on {len(rows)} real pages (in-process add_url): F1 {f1:.3f} "
          f"(precision {p:.3f}, recall {r:.3f}), {len(refused)} refused; per page median "
          f"{statistics.median(times) * 1000:.0f} ms, p90 "
          f"{sorted(times)[int(len(times) * 0.9)] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    if args.cli:
        score = args.data / "score.py"
        briefbot = Path(sys.executable).parent / "briefbot"
        cmd = [sys.executable, str(score), "--bin", str(briefbot)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        print("score.py on `briefbot add URL --json` (one process per page):")
        print(done.stdout.strip() or done.stderr.strip())
    return 0 if f1 >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
