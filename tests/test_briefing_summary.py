"""The daily briefing as an extractive summary: LexRank centrality and MMR (bot.engine.summarize)
on small fixed inputs, and compose_briefing on the shipped seeds, the test corpus and a
generated corpus of more articles than a briefing shows."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import bot.engine.briefing as briefing_module
import bot.engine.summarize as summarize_module
from bot.engine.briefing import (
    MAX_ARTICLES,
    MAX_CHARS,
    SUMMARY_MAX,
    _line_text,
    compose_briefing,
    is_question,
)
from bot.engine.index import KnowledgeIndex, build_index
from bot.engine.summarize import centrality, lead_prior, mmr, similarity, summarize, tfidf
from bot.models import Briefing

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
MARKERS = re.compile(r"(?: \[\d+\])+$")
SPEAKER = re.compile(r" — [^\[\]]+$")


# -- the pure functions ----------------------------------------------------------------------
HUB = [
    ["port", "strike", "union", "automation"],    # shares words with each of the next three
    ["port", "strike", "talks"],
    ["union", "automation", "jobs"],
    ["port", "union", "minister"],
    ["coral", "reef", "heatwave"],                # shares nothing
]


def test_tfidf_rows_are_unit_or_zero() -> None:
    vectors = tfidf([*HUB, []])
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[:-1], 1.0) and norms[-1] == 0.0


def test_the_sentence_similar_to_many_ranks_highest() -> None:
    scores = centrality(tfidf(HUB))
    assert scores.sum() == pytest.approx(1.0)
    assert int(np.argmax(scores)) == 0
    assert int(np.argmin(scores)) == 4


def test_centrality_of_nothing_and_of_isolated_sentences() -> None:
    assert centrality(np.zeros((0, 3))).shape == (0,)
    flat = centrality(np.eye(4))  # no edges: every sentence only teleports
    assert np.allclose(flat, 0.25)


def test_the_lead_prior_is_mild_and_decreasing() -> None:
    prior = lead_prior(30)
    assert prior.sum() == pytest.approx(1.0)
    assert np.all(np.diff(prior) < 0)
    assert prior[-1] >= 0.5 / 30  # half the mass stays uniform
    # With damping 0.85 the prior reorders sentences of equal centrality, not the graph's hub.
    same = centrality(np.eye(3), prior=lead_prior(3))
    assert same[0] > same[1] > same[2]
    hub_last = list(reversed(HUB))
    assert int(np.argmax(centrality(tfidf(hub_last), prior=lead_prior(5)))) == 4


def test_mmr_skips_a_near_duplicate() -> None:
    tokens = [
        ["dockworkers", "strike", "port", "union", "automation", "jobs", "next", "month",
         "terminal", "operator"],
        ["dockworkers", "strike", "port", "union", "automation", "jobs", "next", "month",
         "terminal", "crane"],                                            # near duplicate
        ["minister", "mediate", "talks", "berlin"],
    ]
    sim = similarity(tfidf(tokens))
    assert sim[0, 1] > 0.8 and sim[0, 2] == 0.0
    scores = np.array([1.0, 0.98, 0.7])
    assert mmr(scores, sim, 2) == [0, 2]
    assert mmr(scores, sim, 2, lam=1.0) == [0, 1]  # relevance alone takes the duplicate


def test_mmr_ties_budget_and_edge_cases() -> None:
    sim = np.eye(4)
    assert mmr(np.array([0.5, 0.5, 0.5, 0.5]), sim, 4) == [0, 1, 2, 3]
    assert mmr(np.array([1.0, 0.9, 0.8, 0.7]), sim, 4, costs=[60, 50, 30, 10], budget=70) == [0, 3]
    assert mmr(np.array([1.0, 0.9]), np.eye(2), 5) == [0, 1]
    assert mmr(np.array([]), np.zeros((0, 0)), 3) == []
    assert mmr(np.array([1.0]), np.eye(1), 0) == []


def test_mmr_takes_the_given_first_picks_then_what_is_novel_beside_them() -> None:
    sim = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    scores = np.array([1.0, 0.5, 0.4])
    assert mmr(scores, sim, 3) == [0, 2, 1]
    # the weakest leads when asked; its near-copy (0) then waits behind the novel one
    assert mmr(scores, sim, 2, lam=0.5, first=[1]) == [1, 2]
    assert mmr(scores, sim, 1, first=[2, 1]) == [2]  # k bounds the forced ones too
    assert mmr(scores, sim, 2, costs=[10, 80, 10], budget=50, first=[1]) == [0, 2]  # too dear


def test_summarize_returns_reading_order_and_spreads_over_paragraphs() -> None:
    picks = summarize(HUB, 3)
    assert picks == sorted(picks) and len(picks) == 3 and 0 in picks
    # Same tokens, but sentences 0-2 share a paragraph: the second pick leaves it.
    grouped = summarize(HUB[:4], 2, groups=[1, 1, 1, 2])
    assert grouped[0] == 0 and grouped[1] == 3


def test_no_word_lists_from_the_lexicon() -> None:
    for module in (briefing_module, summarize_module):
        assert "lexicon" not in inspect.getsource(module)


# -- compose_briefing ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_ix() -> KnowledgeIndex:
    return build_index(SEEDS)


@pytest.fixture(scope="module")
def corpus_ix() -> KnowledgeIndex:
    return build_index(CORPUS)


PARAGRAPH = ("The {a} committee met the {b} board on {day} to discuss the {c} plan for the "
             "{d} district, and members of the {e} group asked for a vote on the {f} budget.")
WORDS = ["river", "harbour", "school", "hospital", "railway", "market", "housing", "energy",
         "water", "library", "transit", "garden"]


@pytest.fixture(scope="module")
def many_ix(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    """Seven articles: the shipped and test ones, plus generated ones with a real question in a
    body paragraph and a direct quote that names its speaker only by pronoun."""
    folder = tmp_path_factory.mktemp("many")
    for source in [*SEEDS.glob("*.txt"), *CORPUS.iterdir()]:
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    for n in range(4):
        paragraphs = []
        for p in range(8):
            w = [WORDS[(n + p + j) % len(WORDS)] for j in range(6)]
            paragraphs.append(" ".join(
                PARAGRAPH.format(a=w[0], b=w[1], c=w[2], d=w[3], e=w[4], f=w[5], day=day)
                for day in ("Monday", "Tuesday", "Friday")))
        paragraphs[2] += " Will the council approve the budget before the winter?"
        paragraphs[4] = ("Ana Lopez, the mayor of the city, said the plan was late. "
                         '"We cannot wait another year for this money," she said.')
        (folder / f"council-{n}.md").write_text(
            f"# Council debates the budget, part {n}\n\n" + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8")
    return build_index(folder)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check(ix: KnowledgeIndex, briefing: Briefing) -> None:
    """The contract every briefing keeps."""
    assert len(briefing.text) <= MAX_CHARS
    assert briefing.text.startswith(briefing.title)
    files = {d.id: _flat(Path(d.path).read_text(encoding="utf-8")) for d in ix.documents}
    by_id = {s.id: s for s in ix.sentences}
    for c in briefing.citations:  # verbatim from the document it names
        assert _flat(c.quote) in files[c.doc_id]
        assert [by_id[i].text for i in c.sentence_ids] == [c.quote]
    titles = {d.title: d for d in ix.documents}
    for section in briefing.sections:
        assert f"\n\n{section.heading}" in briefing.text
        for line in section.lines:
            assert f"\n• {line}" in briefing.text
        if section.heading not in titles:
            continue
        doc = titles[section.heading]
        summary = [ln for ln in section.lines if not ln.startswith("Who: ")]
        assert 1 <= len(summary) <= SUMMARY_MAX
        order = []
        for line in section.lines:
            markers = MARKERS.search(line)
            assert markers, line
            numbers = [int(n) for n in re.findall(r"\d+", markers.group())]
            assert all(1 <= n <= len(briefing.citations) for n in numbers)
            if line.startswith("Who: "):
                for part in line.removeprefix("Who: ").split("; "):
                    name_role, number = part.rsplit(" [", 1)
                    quote = briefing.citations[int(number.rstrip("]")) - 1].quote
                    name, role = name_role.split(", ", 1)
                    person = next(e for e in ix.people() if e.name == name)
                    if person.role_sentence is not None and not role.endswith("…"):
                        assert role in quote
                continue
            body = line[: markers.start()]
            body = SPEAKER.sub("", body)
            if body.startswith("Open question: "):
                body = body.removeprefix("Open question: ")
                assert is_question(body)
            assert "Open question" not in body or is_question(body)
            (number,) = numbers
            citation = briefing.citations[number - 1]
            assert body == citation.quote  # the whole sentence, unchanged
            assert citation.doc_id == doc.id
            order.append(by_id[citation.sentence_ids[0]].idx)
        assert order == sorted(order)  # reading order


def test_seed_briefing(seed_ix: KnowledgeIndex) -> None:
    briefing = compose_briefing(seed_ix)
    _check(seed_ix, briefing)
    (section,) = briefing.sections
    who, *summary = section.lines
    assert who.startswith("Who: ") and who.count("[") <= 4
    assert 3 <= len(summary) <= SUMMARY_MAX
    assert not any(line.startswith("Open question") for line in summary)  # no body question
    text = " ".join(summary)
    assert "food" in text or "hunger" in text  # North Korea's need, a main point
    assert any(w in text for w in ("could pose a challenge", "Xi Jinping"))  # an obstacle


def test_corpus_briefing(corpus_ix: KnowledgeIndex) -> None:
    briefing = compose_briefing(corpus_ix)
    _check(corpus_ix, briefing)
    assert [s.heading for s in briefing.sections] == [d.title for d in corpus_ix.documents]
    assert all(s.lines[0].startswith("Who: ") for s in briefing.sections)
    assert not any("Open question" in line for s in briefing.sections for line in s.lines)


def test_many_articles_stay_bounded_and_label_only_real_questions(
        many_ix: KnowledgeIndex) -> None:
    briefing = compose_briefing(many_ix, known_docs={"coral"}, known_people=set())
    _check(many_ix, briefing)
    headings = [s.heading for s in briefing.sections]
    assert len(headings) == MAX_ARTICLES + 2 and headings[-2:] == [
        "New since the previous briefing", "More"]
    lines = [ln for s in briefing.sections for ln in s.lines]
    questions = [ln for ln in lines if ln.startswith("Open question: ")]
    assert questions and all(MARKERS.sub("", ln).endswith("?") for ln in questions)
    council = [s for s in briefing.sections if s.heading.startswith("Council debates")]
    assert council and all(s.lines[0].startswith("Who: Ana Lopez, the mayor of the city [")
                           for s in council)


def test_a_direct_quote_carries_its_speaker_only_when_unnamed(
        corpus_ix: KnowledgeIndex, many_ix: KnowledgeIndex) -> None:
    carried = []
    for ix in (corpus_ix, many_ix):
        for i, attribution in ix.extraction.attributions.items():
            line = _line_text(ix, i)
            text = ix.sentences[i].text
            assert line.removeprefix("Open question: ").startswith(text)
            if line.endswith(f" — {attribution.label}") and line != text:
                assert attribution.direct and attribution.person
                assert attribution.label.split()[-1] not in text
                carried.append(line)
            else:
                assert line.removeprefix("Open question: ") == text
    assert '"Without investment, the port will shrink," she said. — Angela Hoffmann' in carried
    assert '"We cannot wait another year for this money," she said. — Ana Lopez' in carried
    assert not any("Brenner told the BBC. —" in line for line in carried)  # named already


def test_the_same_index_gives_the_same_briefing(seed_ix, corpus_ix, many_ix) -> None:
    for ix in (seed_ix, corpus_ix, many_ix):
        assert compose_briefing(ix).model_dump() == compose_briefing(ix).model_dump()
    rebuilt = build_index(SEEDS)
    assert compose_briefing(rebuilt).model_dump() == compose_briefing(seed_ix).model_dump()


def test_nothing_new(seed_ix: KnowledgeIndex) -> None:
    briefing = compose_briefing(seed_ix, known_docs={d.id for d in seed_ix.documents},
                                known_people={e.name for e in seed_ix.people()})
    assert briefing.sections[-1].heading == "What's new"
    _check(seed_ix, briefing)
