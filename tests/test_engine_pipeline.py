"""The answering pipeline stage by stage, on fixed inputs and a small fixed corpus."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.engine.decide import LINE_OVERHEAD, decide, select
from bot.engine.features import (
    ANSWER_FEATURES,
    RANK_FEATURES,
    question_terms,
    rank_features,
    wh_type,
)
from bot.engine.index import build_index
from bot.engine.retrieval import retrieve
from bot.engine.scorer import MODEL_PATH, Linear, Scorer, load_scorer
from bot.engine.text import content_tokens

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def corpus():
    return build_index(CORPUS)


@pytest.fixture(scope="module")
def seeds():
    return build_index(ROOT / "seeds")


@pytest.mark.parametrize(("question", "wh"), [
    ("who is Frank", "who"), ("How many reefs were surveyed?", "howmuch"),
    ("In what year did monitoring begin?", "when"), ("where is the port", "where"),
    ("Why did they strike", "why"), ("The survey covered what?", "what"),
    ("tell me about the strike", "other"), ("Which union called the strike", "which"),
])
def test_wh_type(question: str, wh: str) -> None:
    assert wh_type(question) == wh


def test_question_terms_weigh_stems_and_find_names_and_focus() -> None:
    idf = {"popul": 3.0, "hamburg": 1.0}.get
    q = question_terms("what is the population of Hamburg", lambda s: idf(s) or 0.5)
    assert q.stems == ("popul", "hamburg")
    assert q.weights == (3.0, 1.0)
    assert q.names == (("hamburg",),)
    assert q.focus == "popul"
    assert not q.negated and question_terms("why did it not work", lambda s: 1.0).negated


def test_select_keeps_order_ratio_lines_and_budget() -> None:
    probs = np.array([0.2, 0.9, 0.5, 0.05])
    assert select(probs, [10, 10, 10, 10], show_ratio=0.0, max_lines=4) == [1, 2, 0, 3]
    assert select(probs, [10, 10, 10, 10], show_ratio=0.5, max_lines=4) == [1, 2]
    assert select(probs, [10, 10, 10, 10], show_ratio=0.0, max_lines=2) == [1, 2]
    # a sentence that does not fit is skipped, a later shorter one still shown
    assert select(probs, [10, 10, 500, 10], 0.0, 4, budget=40 + 2 * LINE_OVERHEAD) == [1, 0, 3]
    assert select(np.zeros(0), [], 0.0, 4) == []


def test_linear_model_is_a_standardised_logistic_regression() -> None:
    m = Linear(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    x = np.array([[3.0, 1.0]])
    z = (3.0 - 1.0) / 2.0 * 1.0 + 1.0 * -1.0 + 0.5
    assert m.probability(x)[0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_a_listwise_ranker_is_a_softmax_over_the_candidates() -> None:
    m = Linear(("a",), np.array([0.0]), np.array([1.0]), np.array([1.0]), 0.0, kind="softmax")
    p = m.probability(np.array([[0.0], [1.0], [2.0]]))
    assert p.sum() == pytest.approx(1.0) and list(np.argsort(-p)) == [2, 1, 0]
    assert p[2] / p[1] == pytest.approx(np.e)
    assert m.probability(np.zeros((0, 1))).shape == (0,)


def test_the_committed_model_matches_the_features_and_round_trips() -> None:
    scorer = load_scorer()
    assert scorer.ranker.names == RANK_FEATURES and scorer.answerer.names == ANSWER_FEATURES
    assert 0.0 < scorer.threshold < 1.0 and scorer.max_lines >= 1
    again = Scorer.from_json(json.loads(json.dumps(scorer.to_json())))
    assert again.ranker.coef == pytest.approx(scorer.ranker.coef, abs=1e-6)
    data = json.loads(MODEL_PATH.read_text())
    data["ranker"]["features"] = data["ranker"]["features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        Scorer.from_json(data)


def test_rank_features_prefer_the_sentence_that_holds_the_question(corpus) -> None:
    q = question_terms("how many reefs did the survey cover", corpus.idf)
    cands = retrieve(corpus, q)
    assert len(cands) and cands.features.shape == (len(cands), len(RANK_FEATURES))
    best = corpus.texts[cands.indices[int(np.argmax(cands.features[:, 4]))]]  # cover
    assert "1,000 reefs" in best


def test_dense_retrieval_finds_a_sentence_that_shares_no_word_with_the_question(
        tmp_path: Path) -> None:
    """BM25 alone never sees it (no shared word); the MiniLM list brings it in."""
    (tmp_path / "a.txt").write_text(
        "Port report\n\nThe harbour opened in 1870. Dockers unloaded ships every day. "
        "Thousands of employees were let go after the merger.\n", encoding="utf-8")
    ix = build_index(tmp_path)
    q = question_terms("how many workers lost their jobs", ix.idf)
    target = next(i for i, t in enumerate(ix.texts) if "let go" in t)
    assert ix.scores(list(q.stems))[target] == 0.0
    cands = retrieve(ix, q)
    assert target in set(cands.indices.tolist())
    assert cands.dense_first == target


def test_rank_features_of_no_candidates_are_empty(corpus) -> None:
    q = question_terms("zzz", corpus.idf)
    empty = np.zeros(0, dtype=np.int64)
    assert rank_features(q, empty, np.zeros(1), [], [], np.zeros(1), np.zeros(1), np.zeros(1),
                         np.zeros(1), np.zeros(1)).shape == (0, len(RANK_FEATURES))


def test_decide_answers_a_covered_question_and_not_an_absent_topic(corpus) -> None:
    scorer = load_scorer()
    yes = decide(corpus, question_terms("how many reefs did the survey cover", corpus.idf),
                 scorer)
    assert yes.answer and any("1,000 reefs" in corpus.texts[i] for i in yes.shown)
    no = decide(corpus, question_terms("what is the GDP of Brazil", corpus.idf), scorer)
    assert not no.answer


@pytest.mark.parametrize("question", [
    "who mentions Vladivostok", "who Americans", "who mentions 1998", "who", "why", "?",
    "who is the", "what did say",
])
def test_odd_questions_answer_or_abstain(seeds, question: str) -> None:
    a = seeds.answer(question)
    assert a.abstained or a.citations


@pytest.mark.parametrize(("question", "must"), [
    ("@channel who is Frank", "University of Vienna"),
    ("<@U123ABC> where is the meeting planned", "Vladivostok"),
    ("<@123456789> who is Tertitskiy?", "Kookmin University"),
])
def test_chat_markup_is_not_read_as_words(seeds, question: str, must: str) -> None:
    a = seeds.answer(question)
    assert not a.abstained and must in a.text
    assert "<@" not in a.text and "@channel" not in a.text


def test_summary_and_people_questions(seeds) -> None:
    summary = seeds.answer("summarize the article")
    assert summary.intent == "summary" and len(summary.citations) >= 2
    involved = seeds.answer("who is involved")
    assert not involved.abstained and "Tertitskiy" in involved.text
    assert seeds.answer("give me the background").intent == "summary"


def test_a_name_the_articles_lack_is_named_in_the_abstention(seeds) -> None:
    a = seeds.answer("what did Macron say about the deal")
    assert a.abstained and "Macron" in a.text


def test_a_title_of_a_place_finds_the_person_of_that_place(tmp_path: Path) -> None:
    (tmp_path / "riverton.txt").write_text(
        "Riverton floods\n\nThe river rose overnight in Riverton. Mayor Karen Smith said the "
        "town would rebuild.\n", encoding="utf-8")
    (tmp_path / "springfield.txt").write_text(
        "Springfield budget\n\nTom Baker, the mayor of Springfield, said taxes would rise. "
        "Jane Roe, a senator from Springfield, disagreed.\n", encoding="utf-8")
    ix = build_index(tmp_path)
    assert "Tom Baker" in ix.answer("who is the mayor of Springfield").text
    assert "Karen Smith" in ix.answer("who is the mayor of Riverton").text
    senator = ix.answer("who is the senator from Springfield").text
    assert "Jane Roe" in senator and "Tom Baker" not in senator.split("\n")[0]


def test_word_vectors_know_general_paraphrase() -> None:
    from bot.engine.vectors import load_word_vectors

    wv = load_word_vectors()
    v = wv.vectors

    def sim(a: str, b: str) -> float:
        return float(v[wv.index[a]] @ v[wv.index[b]])

    assert sim("risks", "dangerous") > sim("risks", "banana") + 0.3
    assert sim("kidnapper", "abduction") > sim("kidnapper", "recipe")


def test_soft_cover_on_fixed_text() -> None:
    from bot.engine.vectors import dense_query, load_word_vectors, sentence_word_ids, soft_cover

    wv = load_word_vectors()
    ids = sentence_word_ids(wv, ["Thousands of workers lost their jobs in layoffs.",
                                 "The recipe needs two eggs and flour.", "of the"])
    assert ids[2] == [] and ids[0]
    q = dense_query(wv, "how many employees were fired", lambda s: 1.0)
    assert soft_cover(q, wv, ids[0]) > soft_cover(q, wv, ids[1])
    assert soft_cover(q, wv, []) == 0.0


def test_soft_covers_matches_one_at_a_time() -> None:
    from bot.engine.vectors import dense_query, load_word_vectors, soft_cover, soft_covers

    wv = load_word_vectors()
    sentences = [wv.ids(t) for t in ["workers lost jobs", "", "eggs and flour", "the of"]]
    q = dense_query(wv, "employees fired from their jobs", lambda s: 1.0 + len(s) / 10)
    assert soft_covers(q, wv, sentences) == pytest.approx(
        [soft_cover(q, wv, ids) for ids in sentences])


def test_a_wh_phrase_names_the_answer_kind_not_a_word_of_the_answer() -> None:
    one = lambda s: 1.0  # noqa: E731
    assert question_terms("how old is Webb", one).stems == ("webb",)
    assert question_terms("How many reefs were surveyed?", one).stems == ("reef", "survey")
    assert question_terms("in what year did the war end", one).stems == ("war", "end")
    assert "long" in question_terms("why is the queue so long", one).stems


def test_irregular_verb_forms_meet_their_verb_but_names_stay_names() -> None:
    assert content_tokens("Neumann left the company") == content_tokens("Neumann leave company")
    assert content_tokens("she sold and bought shares") == content_tokens("sell buy share")
    assert content_tokens("the Fed") != content_tokens("feed")  # a name, not "fed"
    assert content_tokens("they fed the cattle") == content_tokens("feed cattle")


def test_a_noun_made_from_a_verb_meets_the_verb() -> None:
    """WordNet's noun-verb derivations, where the stemmer leaves them apart."""
    assert content_tokens("the kidnapper") == content_tokens("he kidnapped")
    assert content_tokens("its valuation") == content_tokens("valued")
    assert content_tokens("an investor") == content_tokens("they invested")
    assert content_tokens("a person") != content_tokens("impersonate")  # no shared spelling


def test_the_model_files_are_package_data() -> None:
    """An installed briefbot (the Docker image) needs the scorer, the word vectors and the
    sentence model."""
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    model = ROOT / "bot" / "engine" / "model"
    files = [p.relative_to(ROOT / "bot").as_posix() for p in model.iterdir() if p.is_file()]
    assert {"engine/model/scorer.json", "engine/model/word_vectors.npz",
            "engine/model/minilm-l6-int8.onnx", "engine/model/minilm-tokenizer.json",
            "engine/model/sentence_model.json", "engine/model/irregular_verbs.json",
            "engine/model/word_families.json"} <= set(files)
    for f in files:
        assert any(fnmatch.fnmatch(f, pat) for pat in patterns), f


def test_a_title_before_a_name_stops_at_the_last_function_word(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Layoffs\n\nIn a company email sent by chairman Marcelo Claure, employees were told "
        "that layoffs will begin. Claure said the plan would work.\n", encoding="utf-8")
    card = build_index(tmp_path).answer("who is Marcelo Claure")
    assert card.text.splitlines()[0] == "Marcelo Claure — chairman"


def test_boosted_trees_walk_to_their_leaves() -> None:
    from bot.engine.scorer import Trees

    # one stump on feature 1 at 0.5 (a missing value goes right), one constant tree
    stump = {"feature": np.array([1, 0, 0]), "threshold": np.array([0.5, 0.0, 0.0]),
             "left": np.array([1, 0, 0]), "right": np.array([2, 0, 0]),
             "leaf": np.array([False, True, True]), "value": np.array([0.0, -1.0, 2.0]),
             "missing_left": np.array([False, False, False])}
    const = {k: v[1:2] if k != "leaf" else np.array([True]) for k, v in stump.items()}
    const["value"] = np.array([0.5])
    trees = Trees(("a", "b"), 0.25, (stump, const))
    p = trees.probability(np.array([[9.0, 0.1], [9.0, 0.9], [0.0, np.nan]]))
    expected = 1 / (1 + np.exp(-np.array([0.25 - 1 + 0.5, 0.25 + 2 + 0.5, 0.25 + 2 + 0.5])))
    assert p == pytest.approx(expected)
    again = Trees.from_json(trees.to_json(), ("a", "b"))
    assert again.probability(np.array([[0.0, 0.2]])) == pytest.approx(p[:1])
    with pytest.raises(ValueError, match="retrain"):
        Trees.from_json(trees.to_json(), ("a",))


@pytest.mark.parametrize(("question", "wh"), [
    ("what's the population of Hamburg", "howmuch"),
    ("what was the total cost of the bridge", "howmuch"),
    ("what percentage of voters stayed home", "howmuch"),
    ("what is the capital of France", "what"),
    ("what area of the city flooded", "what"),  # a place, not an amount
    ("in what age groups is it weaker", "what"),
])
def test_what_is_the_amount_asks_for_a_figure(question: str, wh: str) -> None:
    from bot.engine.features import wh_type

    assert wh_type(question) == wh


def test_a_where_question_takes_a_place_without_a_name() -> None:
    """"Farmers outside the city burn stubble" answers "where is the smoke from", though it
    names no place; a sentence with neither a name nor a place word does not."""
    from bot.engine.features import _has_type, expects

    kind = expects("where")
    assert _has_type("Farmers outside the city burn stubble.", kind, frozenset())[0] == 1.0
    assert _has_type("The smoke came from Punjab.", kind, frozenset())[0] == 1.0
    assert _has_type("The smoke is thick this week.", kind, frozenset())[0] == 0.0
