"""Answers: grounded, cited, short, honest about what the articles don't cover."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.engine.index import KnowledgeIndex, build_index
from bot.evaluation import load_rule
from bot.models import MAX_ANSWER_CHARS

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev_questions.json"
FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
_MARK = re.compile(r"\s*\[\d+\]$")


@pytest.fixture(scope="module")
def corpus() -> KnowledgeIndex:
    return build_index(FIXTURES)


def assert_grounded(ix: KnowledgeIndex, answer) -> None:
    """Every cited quote is verbatim seed text and every bullet is one of them."""
    assert len(answer.text) <= MAX_ANSWER_CHARS
    seed_text = " ".join(s.text for s in ix.sentences)
    for c in answer.citations:
        for part in [c.quote]:
            assert part in seed_text or all(p in seed_text for p in part.split(" ") if p)
        assert c.paragraph >= 1 and c.document
    for line in answer.text.splitlines()[1 if answer.title else 0:]:
        body = _MARK.sub("", line.removeprefix("• "))
        body = body.split(" — ")[0] if " — " in body and not body.startswith(("“", '"')) \
            else re.sub(r" — [^—]+$", "", body)
        assert any(body in c.quote or c.quote in body for c in answer.citations), line


DEV_QUESTIONS = json.loads(DEV.read_text()) if DEV.exists() else []
DEV_FLOOR = 14
"""Dev questions answered right today: all 14, `why-fail`'s three obstacles included."""


@pytest.mark.skipif(not DEV.exists(), reason="shared eval folder not beside the checkout")
def test_dev_questions() -> None:
    from bot.engine.index import build_index as build

    index = build(ROOT / "seeds")
    rule = load_rule(DEV)
    wrong = [f"{q['id']}: {index.answer(q['question']).text[:100]!r}" for q in DEV_QUESTIONS
             if not rule(q, (a := index.answer(q["question"])).text, a.abstained)]
    assert len(DEV_QUESTIONS) - len(wrong) >= DEV_FLOOR, "\n".join(wrong)


@pytest.mark.parametrize(
    ("question", "must"),
    [
        ("who is Tertitskiy", ["Kookmin University"]),
        ("who is Tertitsky", ["Kookmin University"]),  # misspelled
        ("who is Rudiger Frank", ["University of Vienna"]),  # no accents
        ("who is the Russian defense minister", ["Sergei Shoigu"]),
        ("what did Frank say", ["production capacities"]),
        ("where is the meeting planned", ["Vladivostok"]),
        ("when will the meeting take place", ["mid-September"]),
        ("why is Russia looking for allies", ["NATO"]),
        ("how far is North Korea from the war", ["9,000"]),
    ],
)
def test_seed_answers(seed_index, question: str, must: list[str]) -> None:
    a = seed_index.answer(question)
    assert not a.abstained, a.text
    for m in must:
        assert m in a.text
    assert_grounded(seed_index, a)


@pytest.mark.parametrize(
    "question",
    ["who is Angela Merkel", "what is the GDP of Brazil", "who is Biden",
     "how much oil does Russia export", "what did Macron say about the deal"],
)
def test_abstains_when_not_covered(seed_index, question: str) -> None:
    a = seed_index.answer(question)
    assert a.abstained, a.text
    assert a.citations == [] and a.suggestions
    assert "The articles" in a.text and len(a.text) <= MAX_ANSWER_CHARS


def test_why_gives_distinct_reasons_from_several_paragraphs(seed_index) -> None:
    a = seed_index.answer("why might the deal fail")
    assert a.intent == "why" and len(a.citations) >= 3
    assert len({c.paragraph for c in a.citations}) >= 3
    assert_grounded(seed_index, a)


@pytest.mark.parametrize(
    ("question", "must"),
    [
        ("who is the chief executive", "Angela Hoffmann"),
        ("what did Brenner say", "replaced by machines"),
        ("who is Moller", "University of Kiel"),
        ("where did the minister meet both sides", "Berlin"),
        ("how many jobs would the plan cost", "1,200"),
        ("how long do reefs need to recover", "ten years"),
        ("what did Hughes say", "heatwave"),
    ],
)
def test_other_articles(corpus, question: str, must: str) -> None:
    a = corpus.answer(question)
    assert not a.abstained and must in a.text, a.text
    assert_grounded(corpus, a)


def test_other_articles_abstain(corpus) -> None:
    assert corpus.answer("who is Olaf Scholz").abstained


def test_citations_name_document_and_paragraph(corpus) -> None:
    a = corpus.answer("where did the minister meet both sides")
    c = a.citations[0]
    assert c.document == "Dockworkers threaten strike over automation plan"
    assert c.paragraph == 8 and c.sentence_ids == ["harbour-strike#p8.s2"]


def test_long_answers_stay_under_the_limit(tmp_path: Path) -> None:
    para = " ".join(f"Jane Roe said the delay number {i} was caused by shortages of steel."
                    for i in range(60))
    (tmp_path / "a.txt").write_text(para + "\n", encoding="utf-8")
    ix = build_index(tmp_path)
    for q in ["who is Jane Roe", "what did Roe say", "why was there a delay"]:
        assert len(ix.answer(q).text) <= MAX_ANSWER_CHARS


def test_a_repeated_question_is_answered_from_the_memo_with_its_own_id() -> None:
    index = build_index(ROOT / "seeds")
    first, again = index.answer("who is Tertitskiy"), index.answer("who is Tertitskiy")
    assert again.model_dump(exclude={"answer_id"}) == first.model_dump(exclude={"answer_id"})
    assert again.answer_id != first.answer_id  # share-once and votes are per answer shown
    assert list(index._answers) == [("ask", "who is Tertitskiy")]  # computed once
    card = index.who("Tertitskiy")
    assert card.source_command == "who" and card.question == "Tertitskiy"
    assert card.text == index.compute("who", "Tertitskiy").text


def test_what_someone_said_about_a_topic_puts_their_closest_quote_first(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Galaxy model\n\nThe simulation ran for eighteen months. \u201cThe next run will add "
        "magnetic fields,\u201d Lind said. \u201cIt needs a bigger supercomputer,\u201d Lind "
        "added.\n", encoding="utf-8")
    ix = build_index(tmp_path)
    for about, first in (("magnetism", "magnetic fields"), ("the hardware", "supercomputer")):
        a = ix.answer(f"what did Lind say about {about}")
        assert_grounded(ix, a)
        assert first in a.citations[0].quote, (about, a.text)


def test_someone_quoted_in_a_way_extraction_missed_is_answered_from_the_articles(
        tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Museum repairs\n\nThe city museum will close for repairs in March. Architect Mia "
        "Holt had said years ago, \u201cThe roof of the museum leaks every winter and the damp "
        "ruins the paintings.\u201d The repairs will cost four million euros.\n",
        encoding="utf-8")
    ix = build_index(tmp_path)
    a = ix.answer("what did Holt say about the roof")
    assert not a.abstained and "leaks every winter" in a.citations[0].quote, a.text
    absent = ix.answer("what did Holt say about the weather in Lima")
    assert absent.abstained and "don't mention Lima" in absent.text
