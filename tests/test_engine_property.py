"""Property tests of the answer engine: whatever text arrives, an answer comes back that is
short, grounded (every quote verbatim from the seeds) and free of control characters.

Hypothesis runs a fixed, bounded set of examples (derandomize=True), so CI sees the same
inputs every run.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.index import KnowledgeIndex, build_index
from bot.engine.markup import clean_question
from bot.models import MAX_ANSWER_CHARS, Answer

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {"seeds": ROOT / "seeds", "corpus": ROOT / "tests" / "fixtures" / "corpus"}

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# All of Unicode, controls included; lone surrogates cannot come from a UTF-8 chat message.
ANY_CHAR = st.characters(exclude_categories=("Cs",))
ANY_TEXT = st.text(ANY_CHAR, max_size=200)
LONG_TEXT = st.text(ANY_CHAR, min_size=500, max_size=2000)
TEMPLATES = ["who is {x}", "why {x}", "what did {x} say", "<@U123> {x}", "@everyone {x}",
             "where is {x}", "when did {x}", "how much {x}", "is {x}?", "{x}"]
WHO_TEMPLATES = ["who {x}", "who mentions {x}"]


class Corpus:
    """An index, shown by its folder's name in a failing example (not its whole repr)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.index = build_index(CORPORA[name])
        self.texts = _document_texts(self.index)

    def __repr__(self) -> str:
        return f"Corpus({self.name!r})"


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request: pytest.FixtureRequest) -> Corpus:
    """Built once per module for each folder: the shipped seeds and the test corpus."""
    return Corpus(request.param)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _document_texts(index: KnowledgeIndex) -> dict[str, str]:
    texts = {}
    for doc in index.documents:
        text = _normalise(" ".join(p.text for p in doc.paragraphs))
        texts[doc.id] = texts[doc.title] = text
    return texts


def _words(index: KnowledgeIndex) -> list[str]:
    """Words of the seeds (places, figures, topics) to put into question templates."""
    words = {w for s in index.sentences for w in re.findall(r"\w[\w'-]*", s.text) if len(w) > 3}
    return sorted(words)


class UncitedAnswer(AssertionError):
    """An answer that does not abstain but cites nothing."""


class ControlCharacters(AssertionError):
    """Control characters (other than a newline) in an answer's text."""


def check(corpus: Corpus, answer: object, *, printable: bool = False) -> None:
    """An Answer, within the length limit, and grounded: an answer that does not abstain
    cites, and every quote is verbatim from its document (whitespace aside). `printable`:
    and no control character but newlines in its text."""
    assert isinstance(answer, Answer)
    assert len(answer.text) <= MAX_ANSWER_CHARS
    if printable:
        controls = [c for c in answer.text if c != "\n" and unicodedata.category(c) == "Cc"]
        if controls:
            raise ControlCharacters(f"{controls!r} in {answer.text!r}")
    if answer.abstained:
        return
    if not answer.citations:
        raise UncitedAnswer(f"an answer without a citation: {answer.text!r}")
    for c in answer.citations:
        source = corpus.texts.get(c.doc_id) or corpus.texts.get(c.document)
        assert source is not None, f"citation of an unknown document {c.document!r}"
        assert _normalise(c.quote) in source, f"quote not verbatim: {c.quote!r}"


def ask_both(corpus: Corpus, text: str, *, printable: bool = False) -> None:
    """`/ask text` and `/who text`: neither may raise."""
    for command in ("ask", "who"):
        check(corpus, corpus.index.compute(command, text), printable=printable)


@PROPERTY
@given(text=ANY_TEXT)
def test_any_text(corpus: Corpus, text: str) -> None:
    ask_both(corpus, text)


@PROPERTY
@given(text=LONG_TEXT)
def test_long_text(corpus: Corpus, text: str) -> None:
    ask_both(corpus, text)


@PROPERTY
@given(text=ANY_TEXT)
def test_cleaned_text_answers_have_no_control_characters(corpus: Corpus, text: str) -> None:
    """What the CLI sends (and the chat handlers, once they use clean_question)."""
    ask_both(corpus, clean_question(text), printable=True)


@PROPERTY
@given(text=ANY_TEXT)
def test_raw_text_answers_have_no_control_characters(corpus: Corpus, text: str) -> None:
    ask_both(corpus, text, printable=True)


@PROPERTY
@given(data=st.data())
def test_question_templates_with_names(corpus: Corpus, data: st.DataObject) -> None:
    names = corpus.index.people_names()
    x = data.draw(st.one_of(st.sampled_from(names), ANY_TEXT,
                            st.builds(lambda n, t: f"{n}{t}", st.sampled_from(names), ANY_TEXT)))
    template = data.draw(st.sampled_from(TEMPLATES))
    ask_both(corpus, template.format(x=x))


@PROPERTY
@given(data=st.data())
def test_question_templates_with_seed_words(corpus: Corpus, data: st.DataObject) -> None:
    words = _words(corpus.index)
    x = " ".join(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=4)))
    template = data.draw(st.sampled_from(TEMPLATES))
    ask_both(corpus, template.format(x=x))


@PROPERTY
@given(data=st.data())
def test_who_templates_with_seed_words(corpus: Corpus, data: st.DataObject) -> None:
    words = _words(corpus.index)
    x = " ".join(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=4)))
    template = data.draw(st.sampled_from(WHO_TEMPLATES))
    ask_both(corpus, template.format(x=x))
