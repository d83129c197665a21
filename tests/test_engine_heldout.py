"""The engine on real news articles it was never trained or tuned on.

`tests/fixtures/heldout/` holds eleven articles from a public extraction benchmark with questions
written from the text before any answer was seen (see its README). Every answer must be
grounded and within the limit. The floors are just below what the engine scores today (121 of
176 right by the shared rule, 106 of 121 answerable questions answered, 30 of 55 uncovered
ones abstained on; failures are printed), so a regression fails and a better engine passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine.index import KnowledgeIndex, build_index
from bot.engine.text import fold
from bot.models import MAX_ANSWER_CHARS

HELDOUT = Path(__file__).parent / "fixtures" / "heldout"
ARTICLES = sorted(p.name.removesuffix(".questions.json")
                  for p in HELDOUT.glob("*.questions.json"))


def correct(q: dict, text: str, abstained: bool) -> bool:
    """The shared scoring rule (shared/eval/score_rules.py), restated for a fresh checkout."""
    if q["kind"] == "abstain":
        return abstained
    if abstained or len(text) > MAX_ANSWER_CHARS:
        return False
    return all(any(fold(a) in fold(text) for a in g) for g in q["must_include_any"])


def grounded(ix: KnowledgeIndex, text: str, quotes: list[str]) -> bool:
    body = " ".join(" ".join(p.text for p in d.paragraphs) for d in ix.documents)
    return all(q in body for q in quotes)


@pytest.fixture(scope="module")
def results() -> dict[str, list[tuple[dict, str, bool]]]:
    out: dict[str, list[tuple[dict, str, bool]]] = {}
    for name in ARTICLES:
        ix = build_index(HELDOUT / name)
        rows = []
        for q in json.loads((HELDOUT / f"{name}.questions.json").read_text(encoding="utf-8")):
            a = ix.answer(q["question"])
            assert len(a.text) <= MAX_ANSWER_CHARS
            assert a.abstained or grounded(ix, a.text, [c.quote for c in a.citations]), a.text
            rows.append((q, a.text, a.abstained))
        out[name] = rows
    return out


def test_there_are_heldout_articles() -> None:
    assert len(ARTICLES) >= 11


def test_most_questions_answered_right(results) -> None:
    rows = [r for rs in results.values() for r in rs]
    right = [correct(q, text, abstained) for q, text, abstained in rows]
    wrong = [f"{q['id']}: {text[:120]!r}" for (q, text, _), ok in zip(rows, right, strict=True)
             if not ok]
    assert sum(right) / len(right) >= 0.67, "\n".join(wrong)


def test_answerable_questions_mostly_answered(results) -> None:
    rows = [r for rs in results.values() for r in rs if r[0]["kind"] != "abstain"]
    answered = sum(not abstained for _, _, abstained in rows)
    assert answered / len(rows) >= 0.86


def test_uncovered_questions_mostly_abstained(results) -> None:
    rows = [r for rs in results.values() for r in rs if r[0]["kind"] == "abstain"]
    # the eleventh article (three of its five answered) took it from 28/50 to 30/55
    assert sum(abstained for _, _, abstained in rows) / len(rows) >= 0.54
