"""Text primitives: folding, sentence splitting, tokens for ranking.

Sentence splitting is a regex with an abbreviation guard rather than a library: the
libraries available (pysbd, syntok) are 50-100x slower, and the 10,000-article index must
build in under a minute on two cores.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

_FOLD = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u00ab": '"', "\u00bb": '"',
})

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm
i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of
off on once only or other ought our ours ourselves out over own same shan't she she'd she'll
she's should shouldn't so some such than that that's the their theirs them themselves then
there there's these they they'd they'll they're they've this those through to too under until
up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've
your yours yourself yourselves will shall may might must s t just now also even yet still tell
me us please whats whos
""".split())

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W_](?:[\w'’\-]*[^\W_])?", re.UNICODE)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|Rev|Hon|No|vs|etc|e\.g|i\.e|"
    r"approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Ltd|Co|Corp)\.|\b[A-Z]\.|"
    r"\b(?:[A-Z]\.){2,})$"
)
_BOUNDARY = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
_CAPS_BEFORE = re.compile(r"\b[A-Z]{1,3}\.$")
_CAPS_AFTER = re.compile(r"[A-Z]{2,}\s+[A-Z]{2,}\b")
"""A product name in capitals around a period ("the VW ID. SPACE VIZZION is…"): a short
capitalised word before the period and two words in capitals after it. "…in the US. NATO
said" is still split: one word in capitals after, then a lower-case word."""


def fold(text: str) -> str:
    """Case-, accent- and typography-insensitive form used for matching."""
    text = text.translate(_FOLD)
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences, keeping closing quotes with their sentence."""
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.start() + len(match.group(1))
        candidate = paragraph[start:end]
        if _ABBREV.search(candidate.rstrip("\"'”’)]")) or (
                _CAPS_BEFORE.search(candidate) and _CAPS_AFTER.match(paragraph, match.end())):
            continue
        pieces.append(candidate.strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        pieces.append(tail)
    return [p for p in pieces if p]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


_MODEL_DIR = Path(__file__).with_name("model")


def _model_map(file: str, key: str) -> dict[str, str]:
    """One word map the build scripts write to `model/` (`{key: {word: word}}`)."""
    data = json.loads((_MODEL_DIR / file).read_text(encoding="utf-8"))
    return dict(data[key])


_IRREGULAR = _model_map("irregular_verbs.json", "forms")
"""Irregular verb forms and their verb ("left" → "leave"), written by
`scripts/build_irregular_verbs.py` from lemminflect's lemma table."""
_FAMILIES = _model_map("word_families.json", "stems")
"""Stems of one noun–verb family and the family's stem ("kidnapp" → "kidnap", "investor" →
"invest"), written by `scripts/build_word_families.py` from WordNet's derivations."""


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem, taken to its word family's stem ("kidnapper" → "kidnap")."""
    s = _STEMMER.stemWord(word)
    return _FAMILIES.get(s, s)


def term(word: str, capitalised: bool = False) -> str:
    """The ranking term of a folded word: its stem, an irregular verb form first taken to its
    verb so "left" and "leave", "sold" and "sell" meet; not when it was typed capitalised,
    where it is most likely a name ("the Fed", "Rose")."""
    return stem(word if capitalised else _IRREGULAR.get(word, word))


def _strip_possessive(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


_ALL_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")


def _capitals_kept(text: str) -> frozenset[str]:
    """Stopwords written in capitals in running text: names ("the US", "WHO", "IT"), not
    the pronoun or the question word. A text all in capitals keeps none."""
    caps = _ALL_CAPS_WORD.findall(text)
    if not caps or text.isupper():
        return frozenset()
    return frozenset(w.casefold() for w in caps if w.casefold() in STOPWORDS)


def content_tokens(text: str) -> list[str]:
    """Folded, stemmed, stopword-free tokens: the ranking vocabulary."""
    out = []
    capitalised: set[str] | None = None  # read only when an irregular form is met
    kept = _capitals_kept(text)
    for raw in _WORD.findall(fold(text)):
        w = _strip_possessive(raw)
        for part in (w.split("-") if "-" in w and not w[0].isdigit() else [w]):
            if len(part) > 1 and (part not in STOPWORDS or part in kept):
                if part in _IRREGULAR and capitalised is None:
                    capitalised = {fold(c) for c in _CAPITALISED.findall(text)}
                out.append(term(part, capitalised is not None and part in capitalised))
    return out


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis (for labels, never for quoted sentences)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
