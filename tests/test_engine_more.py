""""Tell me more": the next-best sentences not shown yet, verbatim and cited, until there is
nothing relevant left to say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.engine.decide import decide, decide_more, more_ratio
from bot.engine.features import question_terms
from bot.engine.index import KnowledgeIndex, build_index
from bot.engine.protocol import AnswerEngine
from bot.engine.scorer import load_scorer
from bot.models import MAX_ANSWER_CHARS, Answer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
ALL_SAID = "That's all the articles say about"

SEED_QUESTIONS = [
    "what weapons could North Korea supply",
    "what does Russia offer North Korea",
    "what does Russia hope to get out of the deal?",
    "why is Russia looking for allies",
    "where is the meeting planned",
    "who is Tertitskiy",
    "what did Frank say",
    "summarize the articles",
    "who is involved",
    "who wrote the article",
]
FIXTURE_QUESTIONS = [
    "how many reefs did the survey cover",
    "who said the strike would end",
    "why did the dockers strike",
    "what happened to the coral",
]


@pytest.fixture(scope="module")
def seeds() -> KnowledgeIndex:
    return build_index(ROOT / "seeds")


@pytest.fixture(scope="module")
def corpus() -> KnowledgeIndex:
    return build_index(FIXTURES)


def ids(answer: Answer) -> list[str]:
    return [i for c in answer.citations for i in c.sentence_ids]


def assert_verbatim(ix: KnowledgeIndex, answer: Answer) -> None:
    """Each citation quotes exactly the corpus sentences it names, and is shown in the text."""
    assert len(answer.text) <= MAX_ANSWER_CHARS
    for c in answer.citations:
        assert c.sentence_ids and all(i in ix.sentence_at for i in c.sentence_ids)
        assert c.quote == " ".join(ix.texts[ix.sentence_at[i]] for i in c.sentence_ids)
        assert c.quote in answer.text


def follow_up(ix: KnowledgeIndex, question: str, rounds: int = 50) -> list[Answer]:
    """The answer, then "more" with everything shown so far, until it abstains."""
    first = ix.answer(question)
    shown = ids(first)
    answers = [first]
    for _ in range(rounds):
        more = ix.more(question, shown)
        answers.append(more)
        if more.abstained:
            return answers
        new = ids(more)
        assert new and not set(new) & set(shown), (question, new, shown)
        shown += new
    raise AssertionError(f"{question!r}: still more after {rounds} follow-ups")


def test_the_engine_has_more(seeds: KnowledgeIndex) -> None:
    assert isinstance(seeds, AnswerEngine)


@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_more_on_the_seeds_is_new_verbatim_and_ends(seeds: KnowledgeIndex,
                                                    question: str) -> None:
    answers = follow_up(seeds, question)
    for a in answers:
        assert_verbatim(seeds, a)
    assert answers[-1].abstained and answers[-1].text.startswith(ALL_SAID)
    assert not answers[-1].citations and not answers[-1].suggestions


@pytest.mark.parametrize("question", FIXTURE_QUESTIONS)
def test_more_on_the_test_corpus_is_new_verbatim_and_ends(corpus: KnowledgeIndex,
                                                          question: str) -> None:
    for a in follow_up(corpus, question):
        assert_verbatim(corpus, a)


def test_some_ranked_question_has_more(seeds: KnowledgeIndex) -> None:
    """The feature does something: some answered question gets further sentences."""
    extended = [q for q in SEED_QUESTIONS[:5] if len(follow_up(seeds, q)) > 2]
    assert extended


@pytest.mark.parametrize("question", SEED_QUESTIONS[:5] + FIXTURE_QUESTIONS)
def test_ranked_more_keeps_to_the_cut_off(seeds: KnowledgeIndex, corpus: KnowledgeIndex,
                                          question: str) -> None:
    """Follow-up sentences are candidates not shown whose ranker probability is at least
    `more_ratio` of the best candidate's (the one the first answer led with)."""
    ix = seeds if question in SEED_QUESTIONS else corpus
    scorer = load_scorer()
    q = question_terms(question, ix.idf)
    first = decide(ix, q, scorer)
    assert first.answer
    shown = list(first.shown)
    for _ in range(20):
        more = decide_more(ix, q, scorer, shown)
        assert more is not None
        if not more.answer:
            assert not more.shown
            break
        position = {int(i): k for k, i in enumerate(more.candidates.indices)}
        best = float(more.probabilities.max())
        for i in more.shown:
            assert i not in shown
            assert more.probabilities[position[i]] >= more_ratio(scorer) * best
        shown += more.shown
    else:
        raise AssertionError("the follow-ups never ran out")
    left = [k for k, i in enumerate(first.candidates.indices) if int(i) not in shown]
    assert all(first.probabilities[k] < more_ratio(scorer) * first.probabilities.max()
               or len(ix.texts[int(first.candidates.indices[k])]) > 900 for k in left)


def test_more_about_a_person_is_more_about_that_person(tmp_path: Path) -> None:
    facts = [f"Jane Roe inspected harbour number {n} on the {n}th of May." for n in range(1, 16)]
    filler = ["The weather stayed mild all week.", "Ferries ran on time."]
    (tmp_path / "roe.txt").write_text(
        "Harbour inspections\n\n" + "\n\n".join(" ".join([f, *filler]) for f in facts) + "\n",
        encoding="utf-8")
    ix = build_index(tmp_path)
    answers = follow_up(ix, "who is Jane Roe")
    assert len(answers) > 2  # the card, at least one follow-up, and the end
    shown = [ix.texts[ix.sentence_at[i]] for a in answers for i in ids(a)]
    assert sorted(shown) == sorted(facts)  # every mention once, nothing else
    for a in answers[:-1]:
        assert not a.abstained and a.title == "Jane Roe"
        assert_verbatim(ix, a)
    assert answers[-1].text == "That's all the articles say about Jane Roe."


def test_long_sentences_stay_under_the_limit(tmp_path: Path) -> None:
    para = " ".join(f"Jane Roe said the delay number {i} was caused by shortages of steel "
                    f"{'and of cement, timber and glass ' * 3}at the yard." for i in range(40))
    (tmp_path / "a.txt").write_text(para + "\n", encoding="utf-8")
    ix = build_index(tmp_path)
    for q in ["who is Jane Roe", "what did Roe say", "why was there a delay"]:
        for a in follow_up(ix, q):
            assert len(a.text) <= MAX_ANSWER_CHARS
            assert_verbatim(ix, a)


@pytest.mark.parametrize("question", ["what is the GDP of Brazil", "who won the world cup",
                                      "who is Olaf Scholz"])
def test_more_on_an_off_topic_question_abstains(seeds: KnowledgeIndex, question: str) -> None:
    first = seeds.answer(question)
    assert first.abstained
    for shown in ([], ids(seeds.answer("who is Tertitskiy"))):
        more = seeds.more(question, shown)
        assert more.abstained and not more.citations
        assert more.text == first.text  # the question's own abstention


def test_unknown_ids_are_ignored_and_more_is_not_memoized(seeds: KnowledgeIndex) -> None:
    question = "what weapons could North Korea supply"
    first = seeds.answer(question)
    memo = dict(seeds._answers)
    stale = ["gone-article#p1.s1", *ids(first)]
    again = seeds.more(question, stale)
    assert again.model_dump(exclude={"answer_id"}) == seeds.more(
        question, ids(first)).model_dump(exclude={"answer_id"})
    assert dict(seeds._answers) == memo


def test_an_anaphor_cites_the_sentence_it_leans_on(seeds: KnowledgeIndex) -> None:
    """'That is why…' is shown after the sentence before it, and both are cited, so a
    follow-up does not show that sentence again as new."""
    a = seeds.answer("why is Russia looking for allies")
    two = [c for c in a.citations if len(c.sentence_ids) == 2]
    assert two, a.text
    first, second = (seeds.sentence_at[i] for i in two[0].sentence_ids)
    assert second == first + 1
    assert_verbatim(seeds, a)
    assert not set(ids(seeds.more(a.question, ids(a)))) & set(two[0].sentence_ids)


def test_summary_more_continues_with_other_central_sentences(seeds: KnowledgeIndex) -> None:
    answers = follow_up(seeds, "summarize the articles")
    shown = [i for a in answers for i in ids(a)]
    assert len(shown) == len(set(shown)) > len(ids(answers[0]))
    assert np.all([seeds.answerable[seeds.sentence_at[i]] for i in shown])
