"""Answers do not depend on the process's hash seed (the order of a set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "fixtures" / "heldout"

_PROGRAM = """
import hashlib, json, sys
from pathlib import Path
from bot.engine.index import build_index
folder = Path(sys.argv[1])
ix = build_index(folder)
h = hashlib.sha256()
for q in json.loads((folder.parent / f"{folder.name}.questions.json").read_text("utf-8")):
    a = ix.answer(q["question"])
    h.update(f"{a.text}|{a.abstained}|{a.confidence!r}".encode())
print(h.hexdigest())
"""


def _answers_digest(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", _PROGRAM,
                          str(HELDOUT / "givewell-evidence-action-grant")],
                         capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
                         check=True)
    return out.stdout.strip()


def test_answers_and_confidence_do_not_depend_on_the_hash_seed() -> None:
    """Coverage was once summed over a set: 1.0 under one seed, 1.0000000000000002 under
    another, and a tree split at 1.0 turned "who runs Evidence Action Beta" from an answer
    into an abstention."""
    digests = {_answers_digest(seed) for seed in ("1", "2", "5")}
    assert len(digests) == 1
