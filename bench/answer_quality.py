"""Answer quality on public and held-out data, through the `briefbot` command as users run it.

    python bench/answer_quality.py [--bin .venv/bin/briefbot] [--squad DIR]

Prints, for the shared SQuAD 2.0 articles (`shared/eval/squad/score.py`, whole answer and
`--strict` first cited sentence), the dev questions of the seed (`briefbot eval`), and the
held-out news articles in `tests/fixtures/heldout/` (`briefbot eval --seeds`): the figures
quoted in the README. The scorer was trained on the SQuAD articles, so their figures here are
in-sample; `scripts/train_scorer.py` prints the leave-one-article-out ones.
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    return out.stdout + out.stderr


def last_line(text: str, pattern: str) -> str:
    lines = [ln for ln in text.splitlines() if re.search(pattern, ln)]
    return lines[-1] if lines else f"(no line matching {pattern!r}: {text[-300:]!r})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / ".venv" / "bin" / "briefbot"))
    ap.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{platform.platform()}")
    if args.squad.is_dir():
        score = [sys.executable, str(args.squad / "score.py"), "--bin", args.bin]
        print(last_line(run(score), r"^SQuAD"))
        print(last_line(run([*score, "--strict"]), r"^SQuAD"))
        print("anchors: " + " | ".join(
            ln.strip() for ln in run([sys.executable, str(args.squad / "anchors.py")])
            .splitlines() if ln.strip())[-400:])
    dev = ROOT.parent / "shared" / "eval" / "dev_questions.json"
    if dev.is_file():
        print("seed dev questions: " + last_line(run([args.bin, "eval", str(dev)]), r"^total"))
    for qfile in sorted((ROOT / "tests" / "fixtures" / "heldout").glob("*.questions.json")):
        seeds = qfile.with_name(qfile.name.removesuffix(".questions.json"))
        print(f"held-out {seeds.name}: " + last_line(
            run([args.bin, "eval", str(qfile), "--seeds", str(seeds)]), r"^total"))


if __name__ == "__main__":
    main()
