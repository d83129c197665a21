"""Ingestion: block kinds, stable ids, front matter, and bad seed files named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.curation import load_curation
from bot.engine.documents import classify_block, parse_document, read_seed_text, seed_files
from bot.engine.index import build_index
from bot.engine.text import split_sentences
from bot.errors import SeedError

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"


@pytest.mark.parametrize(
    ("block", "kind"),
    [
        ("From: Jane Roe", "byline"),
        ("By Jane Roe and John Doe", "byline"),
        ("A crane in the port. © Some Agency", "caption"),
        ("Will the deal survive?", "heading"),
        ("## Why talks could collapse", "heading"),
        ("The union said it would strike. It gave no date.", "body"),
        ("(Jane Roe)", "signoff"),
        # an interviewer's question, however long, heads the answer after it
        ("Q: In reading the Journal, it was noted that you have been named one of the year's "
         "award recipients. Congratulations! What is it like to be named one of them?",
         "heading"),
        ("A: I am very honored to be on the list. It means a lot.", "body"),
    ],
)
def test_block_kinds(block: str, kind: str) -> None:
    assert classify_block(block) == kind


def test_sentence_split_keeps_abbreviations_and_quotes() -> None:
    text = '"We are ready," said Dr. Jane Roe of the U.S. Army. She left. Prof. Li agreed!'
    assert split_sentences(text) == [
        '"We are ready," said Dr. Jane Roe of the U.S. Army.', "She left.", "Prof. Li agreed!"
    ]


def test_a_product_name_in_capitals_is_not_split_at_its_period() -> None:
    text = "The VW ID. SPACE VIZZION is the seventh EV. He lives in the US. NATO said no."
    assert split_sentences(text) == [
        "The VW ID. SPACE VIZZION is the seventh EV.", "He lives in the US.", "NATO said no."]


def test_a_stopword_written_in_capitals_is_a_name() -> None:
    from bot.engine.text import content_tokens

    assert "us" in content_tokens("In the US, the car will cost more")
    assert "us" not in content_tokens("Let us see the car")
    assert "who" in content_tokens("The WHO warned of measles")
    assert content_tokens("WHO SAID THAT") == content_tokens("who said that")  # shouted


def test_front_matter_and_stable_ids() -> None:
    path = FIXTURES / "harbour-strike.md"
    doc, sents = parse_document(path, 0, 0, read_seed_text(path))
    assert doc.title == "Dockworkers threaten strike over automation plan"
    assert doc.url == "https://example.org/harbour-strike"
    assert doc.authors == ["Maria Lindqvist"]
    assert [p.kind for p in doc.paragraphs[:3]] == ["heading", "caption", "body"]
    again, _ = parse_document(path, 0, 0, read_seed_text(path))
    assert [s.id for s in sents] == [s.id for s in parse_document(path, 0, 0, read_seed_text(
        path))[1]]
    assert sents[2].id == "harbour-strike#p3.s1" and again.paragraphs[2].number == 3


def test_byline_and_caption_credit(seed_index) -> None:
    doc = seed_index.documents[0]
    assert doc.authors == ["Bona Hyun"]
    caption = doc.paragraphs[1]
    assert caption.kind == "caption" and caption.credit == "Valery Melnikov/TASS"
    assert "©" not in caption.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02PNG", "binary"),
        ("latin1.txt", "Caf\xe9 au lait.".encode("latin-1"), "UTF-8"),
    ],
)
def test_bad_seed_files_are_named(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SeedError) as err:
        build_index(tmp_path)
    assert name in err.value.message and message in err.value.message


def test_oversized_seed_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (1_100_000))
    with pytest.raises(SeedError, match="5 MB"):
        build_index(tmp_path)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="does not exist"):
        seed_files(tmp_path / "nope")
    with pytest.raises(SeedError, match=r"no \.txt or \.md"):
        seed_files(tmp_path)


def test_curation_errors_name_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "curation.yaml").write_text("entities:\n  - name: X\n    rol: typo\n")
    with pytest.raises(SeedError) as err:
        load_curation(tmp_path)
    assert "curation.yaml" in err.value.message and "entities.0" in err.value.message
    (tmp_path / "curation.yaml").write_text("entities: [unclosed\n")
    with pytest.raises(SeedError, match="not valid YAML"):
        load_curation(tmp_path)


def test_curation_adds_role_alias_and_hides(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Jane Roe said the plan is late. Roe also believes costs will rise.\n\n"
        "The budget doubled in 2023.\n", encoding="utf-8")
    (tmp_path / "curation.yaml").write_text(
        "entities:\n  - name: Jane Roe\n    role: chief planner\n    aliases: [JR]\n"
        "hide:\n  - a#p2.s1\nsynonyms:\n  expense: [costs]\n", encoding="utf-8")
    ix = build_index(tmp_path)
    card = ix.who("JR")
    assert "chief planner" in card.text
    assert "budget" not in ix.answer("when did the budget double").text
    assert not ix.answer("will the expense rise").abstained
