"""Extraction on a small fixed corpus: people, roles, aliases, outlets and quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.index import KnowledgeIndex, build_index

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def corpus() -> KnowledgeIndex:
    return build_index(FIXTURES)


def person(ix: KnowledgeIndex, name: str):
    matches = [e for e in ix.people() if e.name == name]
    assert matches, f"{name} not among {ix.people_names()}"
    return matches[0]


def test_seed_people_roles_and_aliases(seed_index) -> None:
    frank = person(seed_index, "Rüdiger Frank")
    assert frank.role == "Professor of East Asian Studies at the University of Vienna"
    assert "SRF" in frank.outlets
    putin = person(seed_index, "Vladimir Putin")
    assert {"Wladimir Putin", "Putin"} <= putin.aliases  # transliteration variant merged
    assert person(seed_index, "Sergei Shoigu").role == "Russian defense minister"
    tert = person(seed_index, "Fyodor Tertitskiy")
    assert tert.role.startswith("a researcher at Kookmin University")
    assert "euronews" in tert.outlets


def test_outlets_are_not_people(seed_index, corpus) -> None:
    names = set(seed_index.people_names()) | set(corpus.people_names())
    assert not names & {"SRF", "euronews", "BBC", "Vienna SRF"}
    assert "BBC" in corpus.extraction.outlets


def test_pronoun_and_description_quotes_resolve(seed_index) -> None:
    attributions = seed_index.extraction.attributions
    by_text = {seed_index.sentences[i].text: a.label for i, a in attributions.items()}
    assert by_text["“Nothing will happen unless Xi Jinping gives the green light,” he said."] \
        == "Fyodor Tertitskiy"
    according = [t for t in by_text if t.endswith("according to the East Asia expert.")]
    assert according and by_text[according[0]] == "Rüdiger Frank"


def test_fixture_corpus_roles(corpus) -> None:
    assert person(corpus, "Klaus Brenner").role == "the head of the dockworkers' union"
    assert person(corpus, "Angela Hoffmann").role == "chief executive"
    assert person(corpus, "Olaf Becker").role == "Transport Minister"
    assert person(corpus, "Terry Hughes").role == "a coral researcher at James Cook University"
    assert "Jens Møller" in corpus.people_names()


def test_fixture_quotes(corpus) -> None:
    hoff = person(corpus, "Angela Hoffmann")
    texts = [corpus.sentences[i].text for i in hoff.quotes]
    assert '"Without investment, the port will shrink," she said.' in texts
    assert not any("Møller" in t for t in texts)  # "according to … Jens Møller" is his
    hughes = person(corpus, "Terry Hughes")
    assert any("according to the researcher" in corpus.sentences[i].text for i in hughes.quotes)


def test_places_and_organisations(corpus) -> None:
    kinds = {e.name: e.kind for e in corpus.entities.values()}
    assert kinds["Hamburg"] == "place" and kinds["Berlin"] == "place"
    assert kinds["James Cook University"] == "org"
