"""People, organisations, places, roles and quotes, from the text alone.

No per-article code: names are runs of capitalised words; a run is a person when the text
gives evidence (a known given name, an apposition naming a role, a title before it, a speech
verb next to it), an organisation when it carries an organisation word, a place when a
gazetteer knows it. Roles come from appositions, titles and stand-alone descriptions ("the
minister") resolved to the person just mentioned; quotes from speech verbs and "according to".
A role binds to the name it stands next to, never to another name in the sentence; an acronym
is one entity with its expansion; a surname two people share means the one named last.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz import fuzz

from bot.engine.documents import Document, Sentence
from bot.engine.gazetteer import given_name_sex, is_given_name, place_names
from bot.engine.lexicon import (
    ADJECTIVAL_ROLES,
    ORG_WORDS,
    OUTLET_HINTS,
    PLACE_HEADS,
    REPORTING_VERBS,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STOPWORDS_CAPS,
    TITLES,
)
from bot.engine.text import STOPWORDS
from bot.engine.text import fold as _fold_text

fold = lru_cache(maxsize=1 << 16)(_fold_text)
"""`text.fold` remembered: extraction folds the same few thousand words millions of times."""

_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_][\w’'\-.]*[^\W_]|[^\W\d_]", re.UNICODE)
_CONNECTORS = frozenset({"von", "van", "der", "den", "de", "da", "di", "du", "del", "bin", "ibn",
                         "al", "el", "le", "la"})
_ORG_LINKS = frozenset({"of", "for"})  # "Ministry of Health", "Institute for Fiscal Studies"
_PREPOSITIONS = frozenset({"of", "in", "at", "from", "for", "to", "with", "by", "on", "near",
                           "about", "against", "into", "over", "under", "between", "among",
                           "across", "outside", "inside", "throughout", "toward", "towards"})
_ACRONYM_DEF = re.compile(r"\((?P<a>[A-Z][A-Za-z&]{1,9})\)")
_ACRONYM_SKIP = frozenset({"of", "for", "and", "the", "on", "in", "to", "de", "des", "du", "la",
                           "le", "et", "&"})
_HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "sir", "dame", "lord", "lady"})
_NOT_OUTLETS = frozenset({"today", "yesterday", "again", "too", "little", "more", "less", "much",
                          "otherwise", "later", "earlier", "something", "anything", "everything"})
_ALL_CAPS = re.compile(r"[A-Z]{2,6}")
_AFFILIATION = re.compile(r"[A-Z]-[A-Z]")  # `Sen. Ted Cruz, R-Texas, said`: a party, not a name
# Single words that name one institution where a country has it ("the Kremlin said").
_NAMED_INSTITUTIONS = frozenset({"kremlin", "congress", "senate", "parliament"})
_APPOSITION = re.compile(r"\s*,\s*(?P<role>[^,;:“”\"()]{3,220}?)\s*(?:,|;|\.$|$|\.\s)")
_OF_PLACE = re.compile(r"\s+(?P<prep>of\s+(?:the\s+)?|from\s+)"
                       r"(?P<place>[A-ZÀ-Þ][\w’'\-]*(?:\s+[A-ZÀ-Þ][\w’'\-]*){0,3})")
_GOVERNED = re.compile(rf"\b(?:{'|'.join(sorted(_PREPOSITIONS))})\s+(?:the\s+)?$")
_QUOTE_PAIR = re.compile(r"[“\"](?P<q>[^”\"]{8,}?)[”\"]|‘(?P<s>[^’]{8,}?)’(?![A-Za-z])")
_SPEECH = "|".join(sorted(SPEECH_VERBS - {"according"}, key=len, reverse=True))
_PRONOUN_AFTER = re.compile(rf"(?:[,”\"’]\s*|^)(?P<p>he|she|they)\s+(?:also\s+)?(?P<v>{_SPEECH})\b",
                            re.IGNORECASE)
_VERB_PRONOUN = re.compile(rf"\b(?:{_SPEECH})\s+(?P<p>he|she)\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording to (?P<who>[^,.;:]+)", re.IGNORECASE)
_DESCRIPTION = re.compile(r"\b[Tt]he\s+(?P<words>[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,3})")
_OUTLET_END = re.compile(
    rf"\b(?:{_SPEECH})\s+(?:(?P<name>[A-ZÀ-Þ][\w’'\-]+)\s+)?(?P<o>[\w-]+(?:\.[\w-]+)*)\.?$"
)
_TOLD = re.compile(r"\btold\s+(?:the\s+)?(?P<o>[A-Z][\w-]*(?:\.[\w-]+)*(?:\s+[A-Z][\w-]*){0,3})")


@dataclass
class Span:
    sentence: int
    """The sentence's number counted from its article's first (see `LocalFacts`)."""
    start: int
    end: int
    text: str
    tokens: list[str]
    possessive: bool
    title: str | None = None


@dataclass
class Entity:
    key: str
    name: str
    kind: str  # person | org | place | outlet
    role: str | None = None
    role_sentence: int | None = None
    aliases: set[str] = field(default_factory=set)
    descriptions: set[str] = field(default_factory=set)
    mentions: list[int] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)
    outlets: set[str] = field(default_factory=set)
    docs: set[int] = field(default_factory=set)
    note: str | None = None


@dataclass
class Attribution:
    sentence: int
    label: str
    person: str | None
    direct: bool
    outlet: str | None = None


@dataclass
class Extraction:
    entities: dict[str, Entity]
    alias_index: dict[str, str]
    attributions: dict[int, Attribution]
    sentence_people: dict[int, list[str]]
    outlets: set[str]


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _is_org_word(word: str) -> bool:
    w = fold(word)
    return w in ORG_WORDS or _singular(w) in ORG_WORDS


def is_role_word(word: str) -> bool:
    w = fold(word)
    return w in ROLE_NOUNS or _singular(w) in ROLE_NOUNS


def role_description(phrase: str) -> str | None:
    """The words after 'the' up to a singular role noun not followed by a name."""
    words_ = phrase.split()
    for k, w in enumerate(words_):
        if fold(w) in ROLE_NOUNS and w[:1].islower():
            while k + 1 < len(words_) and fold(words_[k + 1]) in ROLE_NOUNS:
                k += 1  # `the chief executive`, `the prime minister`
            nxt = words_[k + 1] if k + 1 < len(words_) else ""
            if nxt[:1].isupper():
                return None
            after = fold(nxt)
            if fold(words_[k]) in ADJECTIVAL_ROLES and after and after not in STOPWORDS and (
                    after not in SPEECH_VERBS | REPORTING_VERBS and not after.endswith("ed")):
                return None  # `the general public`, not `the chief executive said`
            return " ".join(words_[: k + 1])
        if fold(w) in STOPWORDS_CAPS:
            return None
    return None


def translit_key(token: str) -> str:
    """A rough key under which Wladimir and Vladimir, Jurij and Yuri meet."""
    t = fold(token)
    for a, b in (("ph", "f"), ("w", "v"), ("y", "i"), ("j", "i"), ("ck", "k"), ("ou", "u"),
                 ("ue", "u"), ("kh", "h"), ("ii", "i")):
        t = t.replace(a, b)
    return t


def find_spans(sentence: Sentence, noninitial_caps: Container[str],
               offset: int = 0) -> list[Span]:
    """Runs of capitalised words in one sentence (titles split off, possessives noted)."""
    text = sentence.text
    tokens = [m for m in _TOKEN.finditer(text)]
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        word = tok.group().rstrip(".")
        if not word[:1].isupper():
            i += 1
            continue
        run = [tok]
        j = i + 1
        while j < len(tokens):
            gap = text[run[-1].end():tokens[j].start()]
            nxt = tokens[j].group()
            if gap == " " and nxt[:1].isupper():
                run.append(tokens[j])
                j += 1
            elif (gap == " " and j + 1 < len(tokens)
                  and text[tokens[j].end():tokens[j + 1].start()] == " "
                  and tokens[j + 1].group()[:1].isupper()
                  and (nxt in _CONNECTORS or _org_link(run, nxt, tokens[j + 1].group()))):
                run.extend([tokens[j], tokens[j + 1]])
                j += 2
            else:
                break
            if run[-1].group().endswith(("’s", "'s")):
                break
        i = j
        # a sentence-initial capital that is just the start of a sentence
        has_title = any(fold(t.group().rstrip(".")) in TITLES or is_role_word(t.group())
                        for t in run[1:-1]) or (
            # `Senator Jane Roe, …` opening a sentence: the title, then a full name
            len(run) >= 2 and fold(run[0].group().rstrip(".")) in TITLES
            and (len(run) >= 3 or is_given_name(run[1].group())))
        while run and not has_title:
            first = run[0].group()
            at_start = not text[: run[0].start()].strip(" “\"‘'(—–-")
            if first.lower() in STOPWORDS_CAPS or (
                at_start and first not in noninitial_caps and not is_given_name(first)
            ):
                run = run[1:]
            else:
                break
        if not run:
            continue
        words_ = [t.group() for t in run]
        possessive = words_[-1].endswith(("’s", "'s"))
        if possessive:
            words_[-1] = words_[-1][:-2]
        words_ = [w.rstrip(".") if not re.fullmatch(r"(?:[A-Z]\.)+", w) else w for w in words_]
        title = None
        title_end = max((k for k, w in enumerate(words_[:-1]) if fold(w) in TITLES
                         or is_role_word(w)), default=-1)
        if title_end >= 0:
            title = " ".join(words_[: title_end + 1])
            words_ = words_[title_end + 1:]
            run = run[title_end + 1:]
        if not words_ or not run:
            continue
        spans.append(Span(sentence=sentence.idx - offset, start=run[0].start(),
                          end=run[-1].end(),
                          text=" ".join(words_), tokens=words_, possessive=possessive,
                          title=title))
    return spans


def _org_link(run: list[re.Match[str]], link: str, nxt: str) -> bool:
    """`Ministry of Health`, `Institute for Fiscal Studies`, `… Control and Prevention`."""
    if link in _ORG_LINKS:
        return _is_org_word(run[-1].group())
    return link == "and" and not is_given_name(nxt) and any(
        t.group() in _ORG_LINKS for t in run[1:])


def _inner_place(sp: Span) -> Span | None:
    """`University of Vienna` is an organisation, and Vienna is still a place named there."""
    link = max((k for k, w in enumerate(sp.tokens) if w in _ORG_LINKS), default=-1)
    if link <= 0 or link == len(sp.tokens) - 1:
        return None
    tail = sp.tokens[link + 1:]
    text = " ".join(tail)
    if fold(text) not in place_names():
        return None
    start = sp.start + len(" ".join(sp.tokens[: link + 1])) + 1
    return Span(sentence=sp.sentence, start=start, end=start + len(text), text=text,
                tokens=tail, possessive=sp.possessive)


_POSSESSIVE_GAP = re.compile(r"^(?:[’']s)?\s*(?:,\s*)?")


def _after(text: str, end: int) -> str:
    return _POSSESSIVE_GAP.sub("", text[end: end + 24].lower(), count=1)


_PLACE_HEAD = re.compile(
    r"\s*(?:" + "|".join(map(re.escape, sorted(PLACE_HEADS))) + r")(?=[ ,.]|$)")


def _modifies_place_head(after: str) -> bool:
    """`Forest Hill police`, `Riverton residents`: the name is followed by a noun only a
    place name modifies (`after` as `_after` gives it, lower case)."""
    return _PLACE_HEAD.match(after) is not None


def _before_name(text: str, sp: Span) -> str:
    """The few words before a name, lower case, its title and role words skipped: in `said
    U.S. Attorney Nealy Cox` the verb comes before the title."""
    head = text[: sp.start].rstrip()
    if sp.title and head.endswith(sp.title):
        head = head[: -len(sp.title)].rstrip()
    for _ in range(3):  # `said mayor Ann Olsen`, `said chief economist Jo Lee`
        rest, _, last = head.rpartition(" ")
        if not rest or not (is_role_word(last) or fold(last) in TITLES):
            break
        head = rest
    return head[-14:].lower() + " "


def quote_open_after(text: str, open_: bool) -> bool:
    """Whether a quotation is still open after `text`, given whether one was open before it:
    a quotation of several sentences is attributed once, after its last one."""
    straight = text.count('"')
    last_open, last_close = text.rfind("“"), text.rfind("”")
    if last_open == last_close:  # both -1: no curly quotes (the usual sentence has no quotes)
        return open_ != (straight % 2 == 1)
    if not straight:
        return last_open > last_close
    for ch in text:  # curly and straight quotes mixed: read them in order
        if ch == "“":
            open_ = True
        elif ch == "”":
            open_ = False
        elif ch == '"':
            open_ = not open_
    return open_


def _speech_before(before: str) -> bool:
    """`… said Name` (the verb right before the name)."""
    tail = before.rstrip().rsplit(None, 1)
    return bool(tail) and tail[-1].strip(",") in SPEECH_VERBS


def _speech_after(after: str) -> bool:
    """`Name said …`, `Name also believes …`."""
    words_ = re.findall(r"[a-z’']+", after)[:2]
    if not words_:
        return False
    if words_[0] in SPEECH_VERBS:
        return True
    return words_[0] in {"also", "further", "then"} and len(words_) > 1 and words_[1] in (
        SPEECH_VERBS | REPORTING_VERBS)


def _kind_of(name: str, tokens: list[str]) -> str | None:
    folded = fold(name)
    if folded in place_names() or fold(name.removeprefix("the ")) in place_names():
        return "place"
    if any(fold(t) in ORG_WORDS for t in tokens):
        return "org"
    if len(tokens) == 1 and re.fullmatch(r"[A-Z]{2,6}", tokens[0]):
        return "org"
    return None


Apposition = tuple[str, tuple[str, ...], int]
"""An apposition after a name: its text, its words, and the position of its role word."""
_UNSCANNED: Apposition = ("", (), -1)


def _apposition(text: str, end: int) -> Apposition | None:
    """The part of `_role_after` that reads the text alone (kept per article)."""
    m = _APPOSITION.match(text, end)
    if not m:
        return None
    role = m.group("role").strip()
    words_ = role.split()
    if not words_ or len(words_) > 30:
        return None
    head = [k for k, w in enumerate(words_[:5]) if fold(w) not in {"a", "an", "the"}]
    if head and fold(words_[head[0]]) in SPEECH_VERBS:
        return None
    first = next((k for k in head[:4] if is_role_word(words_[k].strip(".,"))), None)
    if first is None and len(words_) <= 10 and is_role_word(words_[-1].strip(".,")):
        first = len(words_) - 1  # `Jo Lee, Washington State Department of Health officer,`
    if first is None:
        return None
    return role, tuple(words_), first


def _role_after(text: str, end: int, is_name: Callable[[str], bool] | None = None,
                found: Apposition | None = _UNSCANNED) -> str | None:
    """`Name, a historian at X, …` → 'a historian at X'.

    Not when the apposition's role word is the title of another name (`Jane Roe, speaking next
    to Governor John Doe, said`): that title is John Doe's. `is_name` tells known names.
    `found`: `_apposition(text, end)` when already known.
    """
    app = _apposition(text, end) if found is _UNSCANNED else found
    if app is None:
        return None
    role, words_, first = app
    if _titles_other_name(list(words_), first, is_name):
        return None
    return role


_STATED_ROLE = re.compile(r"(?:’s|'s)?\s+(?:is|was|has been|had been|serves as|served as)\s+"
                          r"(?P<role>(?:the|a|an)\s+[^,;:.()“”\"]{2,160})")


def _role_stated(text: str, end: int) -> str | None:
    """`Jo Lee is the CEO of DH, …` → 'the CEO of DH': a role said of the name outright (a
    role word among its first four words)."""
    m = _STATED_ROLE.match(text, end)
    if not m:
        return None
    role = m.group("role").strip()
    words_ = role.split()
    if not any(is_role_word(w) for w in words_[1:4]) or len(words_) > 20:
        return None
    return role


def _titles_other_name(words_: list[str], k: int, is_name: Callable[[str], bool] | None) -> bool:
    """Is words_[k] a capitalised title in front of somebody else's name ("Governor John Doe")?

    A possessive name keeps the role with the apposition's owner: `Governor John Doe's aide`.
    """
    if not words_[k][:1].isupper() or k + 1 >= len(words_):
        return False
    name: list[str] = []
    for w in words_[k + 1:]:
        if not w[:1].isupper():
            break
        name.append(w)
        if w.endswith(("’s", "'s")):
            return False
    if not name:
        return False
    first = name[0].strip(".,")
    return is_given_name(first) or (is_name is not None and (
        is_name(" ".join(name).strip(".,")) or is_name(name[-1].strip(".,"))))


def _other_sex(a: str, b: str) -> bool:
    """Maria and Mario Rossi are two people, however alike the spelling."""
    if fold(a) == fold(b):
        return False
    sa, sb = given_name_sex(a), given_name_sex(b)
    return sa is not None and sb is not None and sa != sb


def _job_title(title: str | None) -> str | None:
    """The title without courtesy words: `Mr` or `Dr` alone is nobody's role."""
    if not title:
        return None
    words_ = title.split()
    while words_ and fold(words_[0].rstrip(".")) in _HONORIFICS:
        words_.pop(0)
    return " ".join(words_) or None


def _covered_by(desc: str, role: str) -> bool:
    """Every word of the description is already in the role."""
    return set(fold(desc).split()) <= set(fold(role).split())


def _speech_after_apposition(text: str, end: int) -> bool:
    """`Jane Roe, speaking next to Governor John Doe, said …`: the verb is Jane Roe's."""
    m = _APPOSITION.match(text, end)
    return bool(m) and text[m.end() - 1] == "," and _speech_after(
        text[m.end(): m.end() + 24].lower())


def _governed(text: str, start: int) -> bool:
    """Is the name at `start` the object of a preposition (`the mayor of Riverton`)?"""
    return bool(_GOVERNED.search(text[max(0, start - 24): start].lower()))


def _generic_single(name: str) -> bool:
    """A lone organisation word or role word ("University", "Ministry", "CEO") names nothing."""
    folded = fold(name)
    if folded in _NAMED_INSTITUTIONS:
        return False
    return _is_org_word(name) or is_role_word(name)


def _initials(name: str) -> set[str]:
    """`Department of Justice` → {'DJ', 'DOJ'}: with and without the small words."""
    words_ = name.split()
    short = "".join(w[0] for w in words_ if w[:1].isupper() and fold(w) not in _ACRONYM_SKIP)
    full = "".join(w[0].upper() for w in words_ if w[:1].isalpha())
    return {short, full}


def _spells(letters: str, words_: list[str], end: int) -> int | None:
    """Where the words ending at `end` start when their initials spell `letters` (a connector
    may give its letter, as `of` in DOJ, or be skipped, as in EU); None when they do not."""
    if not letters:
        return end + 1
    if end < 0:
        return None
    w = words_[end]
    connector = fold(w) in _ACRONYM_SKIP
    if (w[:1].isupper() or connector) and w[:1].upper() == letters[-1]:
        start = _spells(letters[:-1], words_, end - 1)
        if start is not None:
            return start
    if connector and len(letters) < len(words_[: end + 1]):
        return _spells(letters, words_, end - 1)
    return None


def _expansion(before: str, acronym: str) -> str | None:
    """The words before `(XYZ)` whose initials are X, Y, Z (`the European Union (EU)`)."""
    letters = "".join(c for c in acronym if c.isupper())
    if len(letters) < 2:
        return None
    words_ = [w.lstrip("“\"‘'(") for w in before.rstrip().rstrip(",").split()[-(2 * len(letters)):]]
    if not words_ or fold(words_[-1]) in _ACRONYM_SKIP:
        return None
    start = _spells(letters, words_, len(words_) - 1)
    if start is None or fold(words_[start]) in _ACRONYM_SKIP:
        return None
    expansion = " ".join(words_[start:])
    return expansion if " " in expansion else None


def _role_before(text: str, start: int) -> str | None:
    """`the historian Jane Roe` / `East Asia expert Jane Roe` → 'historian' / 'East Asia expert'."""
    m = re.search(
        r"(?:^|[\s,(])(?P<role>(?:[A-Za-z][\w'’-]*\s+){0,3}(?P<noun>[a-z][\w-]*)),?\s+$",
        text[:start])
    if m and is_role_word(m.group("noun")):
        words_ = m.group("role").split()
        # the role is what follows the last function word: "email sent by chairman X" is
        # a chairman, not an "email sent by chairman"
        cut = max((k for k, w in enumerate(words_[:-1]) if w.lower() in _ROLE_BOUNDARY),
                  default=-1)
        role = " ".join(words_[cut + 1:])
        return role or None
    return None


_ROLE_BOUNDARY = frozenset(
    "the a an its his her their said says told by with to and of from for as at in on into "
    "onto than that which who whom whose after before since while".split())


def _strip_outlets(role: str, outlets: set[str]) -> str:
    words_ = role.split()
    while words_ and (words_[-1].strip(".,") in outlets or fold(words_[-1]) in OUTLET_HINTS):
        words_.pop()
    return " ".join(words_)


@dataclass(slots=True)
class SentenceScan:
    """What one body sentence's text says by itself, as linking reads it (kept per article)."""

    direct: bool
    """It quotes (a pair of quotation marks, or it opens with one)."""
    outlet_end: str | None
    """The outlet a closing `… said Name Outlet.` may name (an outlet if the corpus has it)."""
    according: tuple[str, int, int] | None
    """`according to WHO`: who, where who starts, where the phrase ends."""
    pronoun: str | None
    """The pronoun of `…, he said` or `said she`, lower case."""
    descriptions: tuple[str, ...]
    """Role descriptions (`the defense minister`), in order."""


def scan_sentence(text: str) -> SentenceScan:
    m = _OUTLET_END.search(text)
    acc = _ACCORDING.search(text)
    pm = _PRONOUN_AFTER.search(text) or _VERB_PRONOUN.search(text)
    descriptions = (role_description(d.group("words")) for d in _DESCRIPTION.finditer(text))
    return SentenceScan(
        direct=bool(_QUOTE_PAIR.search(text)) or text.lstrip().startswith("“"),
        outlet_end=m.group("o").rstrip(".") if m else None,
        according=(acc.group("who").strip(), acc.start("who"), acc.end()) if acc else None,
        pronoun=pm.group("p").lower() if pm else None,
        descriptions=tuple(d for d in descriptions if d is not None))


@dataclass
class LocalFacts:
    """What extraction finds in one article on its own (kept per article by
    `article_cache.py`, so a reload finds it again instead of computing it).

    Sentence numbers are counted from the article's first sentence. The spans depend on
    the whole corpus in one way only: a capitalised word opening a sentence starts a name
    when the word is capitalised mid-sentence somewhere in the articles; `asked` records
    every such word looked up and the answer given, so `settle` can tell whether the spans
    still hold for a corpus.
    """

    noninitial: tuple[str, ...]
    """Words capitalised mid-sentence in the article's body, first seen first."""
    outlets: tuple[str, ...]
    """Outlets the article names ("told Reuters"), first seen first."""
    spans: dict[int, list[Span]]
    """Per body or caption sentence: its runs of capitalised words."""
    asked: dict[str, bool]
    """Sentence-opening words looked up among the corpus's mid-sentence capitals."""
    scans: dict[int, SentenceScan] = field(default_factory=dict)
    """Per body sentence: what linking reads in its text alone."""
    appositions: dict[tuple[int, int], Apposition | None] = field(default_factory=dict)
    """Per (sentence, end of a span): `_apposition` there."""


class _Asked:
    """A set of words that remembers what was looked up in it."""

    def __init__(self, words: Container[str]) -> None:
        self.words = words
        self.asked: dict[str, bool] = {}

    def __contains__(self, word: object) -> bool:
        found = word in self.words
        self.asked[str(word)] = found
        return found


def _noninitial(sentences: Iterable[Sentence]) -> dict[str, None]:
    found: dict[str, None] = {}
    for s in sentences:
        if s.kind != "body":
            continue
        for m in _TOKEN.finditer(s.text):
            w = m.group()
            if w[:1].isupper() and s.text[: m.start()].strip(" “\"‘'(—–-"):
                found[w.removesuffix("’s").removesuffix("'s")] = None
    return found


def _outlets(sentences: Iterable[Sentence]) -> dict[str, None]:
    found: dict[str, None] = {}
    for s in sentences:
        if s.kind != "body":
            continue
        m = _OUTLET_END.search(s.text)
        if m:
            o = m.group("o")
            if (o.isupper() and len(o) >= 2) or (
                    o.islower() and fold(o) not in STOPWORDS_CAPS and len(o) > 3
                    and fold(o) not in _NOT_OUTLETS and not o.endswith(("ly", "ed"))):
                found[o] = None
        for m in _TOLD.finditer(s.text):
            o = m.group("o")
            if _kind_of(o, o.split()) != "place" and not any(
                    is_given_name(t) for t in o.split()[:1]):
                found[o] = None
    return found


def local_facts(sentences: list[Sentence], noninitial: Container[str] | None = None,
                offset: int = 0) -> LocalFacts:
    """The facts of one article's sentences (numbered from `offset`), its spans found with
    the corpus's mid-sentence capitals `noninitial` (by default the article's own)."""
    own = _noninitial(sentences)
    asked = _Asked(own if noninitial is None else noninitial)
    spans = {s.idx - offset: find_spans(s, asked, offset) for s in sentences
             if s.kind in ("body", "caption")}
    texts = {s.idx - offset: s.text for s in sentences}
    appositions = {(rel, sp.end): _apposition(texts[rel], sp.end)
                   for rel, found in spans.items() for sp in found}
    scans = {s.idx - offset: scan_sentence(s.text) for s in sentences if s.kind == "body"}
    return LocalFacts(tuple(own), tuple(_outlets(sentences)), spans, asked.asked, scans,
                      appositions)


def settle(facts: LocalFacts, sentences: list[Sentence], noninitial: Container[str],
           offset: int = 0) -> LocalFacts:
    """`facts` if its spans hold for a corpus whose mid-sentence capitals are `noninitial`,
    else the article's facts found again with them."""
    if all((w in noninitial) == found for w, found in facts.asked.items()):
        return facts
    return local_facts(sentences, noninitial, offset)


def corpus_noninitial(facts: Iterable[LocalFacts]) -> set[str]:
    out: set[str] = set()
    for f in facts:
        out.update(f.noninitial)
    return out


def _mention(ent: Entity, idx: int) -> None:
    """Add sentence `idx` to the entity's mentions unless it is there. Only linking adds
    mentions during extraction, to lists that start empty, and it reads the sentences in
    order: the lists stay sorted, so `idx` is there only if it is the last item, and a place
    named in thousands of sentences is not scanned for each."""
    found = ent.mentions
    # the full check only when `idx` is not after the last item (never, in order)
    if not found or found[-1] < idx or (found[-1] != idx and idx not in found):
        found.append(idx)


class _Builder:
    def __init__(self, documents: list[Document], sentences: list[Sentence]) -> None:
        self.documents = documents
        self.sentences = sentences
        self.spans: dict[int, list[Span]] = {}
        self.entities: dict[str, Entity] = {}
        self.alias_index: dict[str, str] = {}
        self.attributions: dict[int, Attribution] = {}
        self.sentence_people: dict[int, list[str]] = defaultdict(list)
        self.outlets: set[str] = set()
        self.shared: dict[str, set[str]] = defaultdict(set)  # "weber" → Anna and Paul Weber
        self.scans: dict[int, SentenceScan] = {}
        self.appositions: dict[tuple[int, int], Apposition | None] = {}

    # -- discovery ---------------------------------------------------------------------
    def use_facts(self, facts: list[LocalFacts], firsts: list[int]) -> None:
        """Each article's spans (the lists copied: classify adds to them, and copies a span
        before it edits one) and outlets, in reading order. The facts must be settled
        (`settle`)."""
        for f, first in zip(facts, firsts, strict=True):
            for rel, spans in f.spans.items():
                self.spans[first + rel] = list(spans)
            for o in f.outlets:
                self.outlets.add(o)
            for rel, scan in f.scans.items():
                self.scans[first + rel] = scan
            for (rel, end), app in f.appositions.items():
                self.appositions[first + rel, end] = app

    def classify(self) -> None:
        evidence: Counter[str] = Counter()
        places: set[str] = set()  # names seen before a place's head noun ("X police")
        surface: dict[str, Counter[str]] = defaultdict(Counter)
        speech_single: set[str] = set()
        for idx, spans in self.spans.items():
            text = self.sentences[idx].text
            inner: list[Span] = []
            for k, sp in enumerate(spans):
                if sp.tokens and sp.tokens[-1] in self.outlets:
                    # a copy: the article's facts keep the span as found
                    sp = spans[k] = replace(sp, tokens=list(sp.tokens))
                while sp.tokens and sp.tokens[-1] in self.outlets:
                    sp.tokens.pop()
                    sp.text = " ".join(sp.tokens)
                    sp.end = sp.start + len(sp.text)
                if not sp.tokens:
                    continue
                key = fold(sp.text)
                surface[key][sp.text] += 1
                if " of " in sp.text or " for " in sp.text:
                    place = _inner_place(sp)
                    if place is not None:
                        inner.append(place)
                        surface[fold(place.text)][place.text] += 1
                before = _before_name(text, sp)
                after = _after(text, sp.end)
                # `the mayor of Riverton, said`: a name governed by a preposition is not the speaker
                near_speech = _speech_before(before) or (
                    _speech_after(after) and not _governed(text, sp.start))
                if len(sp.tokens) >= 2:
                    score = 0
                    if _modifies_place_head(after):
                        places.add(key)
                    if is_given_name(sp.tokens[0]) and not _ALL_CAPS.fullmatch(sp.tokens[-1]):
                        score += 2  # not `Lexus LC`: a name ending in an acronym is a thing
                    if sp.title:
                        score += 3
                    if near_speech:
                        score += 2
                    if self._role_after(self.sentences[idx], sp.end):
                        score += 3
                    evidence[key] = max(evidence[key], score)
                else:
                    if near_speech or sp.title:
                        speech_single.add(key)
            spans.extend(inner)
        people: dict[str, str] = {}
        places = {key for key in places if evidence[key] < 3}  # no title, role or speech
        for key, score in evidence.items():
            name = surface[key].most_common(1)[0][0]
            tokens = name.split()
            if key in places:
                continue  # named as a place below
            if score >= 2 and _kind_of(name, tokens) is None and not any(
                    fold(t) in STOPWORDS_CAPS for t in tokens):
                people[key] = name
        self._merge_people(people, surface)
        for key in speech_single:
            if key in self.alias_index:
                continue
            name = surface[key].most_common(1)[0][0]
            if _kind_of(name, [name]) is None and not is_role_word(name) and not _AFFILIATION.match(
                    name):
                self._add_person(name, {name})
        # everything else named: organisations and places, for subject checks and mentions
        for key, forms in surface.items():
            if key in self.alias_index:
                continue
            name = forms.most_common(1)[0][0]
            if " " not in name and _generic_single(name):
                continue  # "the University", "the Ministry": a category, not a name
            kind = "place" if key in places else (
                _kind_of(name, name.split()) or ("org" if len(name.split()) > 1 else None))
            if kind:
                self.entities.setdefault(f"{kind}:{key}", Entity(key=f"{kind}:{key}", name=name,
                                                                 kind=kind, aliases={name}))
                self.alias_index.setdefault(key, f"{kind}:{key}")
        self._acronyms()
        for o in self.outlets:
            ok = f"outlet:{fold(o)}"
            self.entities.setdefault(ok, Entity(key=ok, name=o, kind="outlet", aliases={o}))

    def _acronyms(self) -> None:
        """`the European Union (EU)` / `the EU`: one entity under both names.

        A parenthesised acronym whose capitals are the initials of the words before it defines
        it; an all-caps name left undefined is the one multi-word organisation or place in the
        articles with those initials, when exactly one has them.
        """
        defined: dict[str, tuple[str, str]] = {}
        for s in self.sentences:
            if s.kind not in ("body", "caption") or "(" not in s.text:
                continue
            for m in _ACRONYM_DEF.finditer(s.text):
                acronym = m.group("a")
                expansion = _expansion(s.text[: m.start()], acronym)
                if expansion:
                    defined.setdefault(fold(acronym), (acronym, expansion))
        for folded, (acronym, expansion) in defined.items():
            target = self.alias_index.get(fold(expansion))
            if target is None:
                kind = _kind_of(expansion, expansion.split()) or "org"
                target = f"{kind}:{fold(expansion)}"
                self.entities.setdefault(target, Entity(key=target, name=expansion, kind=kind,
                                                        aliases={expansion}))
                self.alias_index[fold(expansion)] = target
            elif target.startswith("person:"):
                continue
            self._fold_acronym(folded, acronym, target)
        by_initials: dict[str, list[str]] = defaultdict(list)
        for key, ent in self.entities.items():
            if ent.kind in ("org", "place") and " " in ent.name:
                for letters in _initials(ent.name):
                    if len(letters) >= 2:
                        by_initials[letters].append(key)
        for ent in list(self.entities.values()):
            name = ent.name
            if (ent.kind in ("org", "place") and fold(name) not in defined
                    and _ALL_CAPS.fullmatch(name) and len(by_initials.get(name, ())) == 1):
                self._fold_acronym(fold(name), name, by_initials[name][0])

    def _fold_acronym(self, folded: str, acronym: str, target: str) -> None:
        old = self.alias_index.get(folded)
        if old == target:
            return
        if old is not None:
            ent = self.entities.get(old)
            if ent is not None and ent.kind != "person" and {fold(a) for a in ent.aliases} == {
                    folded}:
                del self.entities[old]
        self.alias_index[folded] = target
        self.entities[target].aliases.add(acronym)

    def _merge_people(self, people: dict[str, str], surface: dict[str, Counter[str]]) -> None:
        by_last: dict[str, list[str]] = defaultdict(list)
        for key, name in people.items():
            by_last[translit_key(name.split()[-1])].append(key)
        for keys in by_last.values():
            groups: list[list[str]] = []
            for key in sorted(keys, key=lambda k: -sum(surface[k].values())):
                given = people[key].split()[0]
                first = translit_key(given)
                for g in groups:
                    other = people[g[0]].split()[0]
                    if fuzz.ratio(first, translit_key(other)) >= 75 and not _other_sex(
                            given, other):
                        g.append(key)
                        break
                else:
                    groups.append([key])
            for g in groups:
                canonical = people[g[0]]
                forms = {form for k in g for form in surface[k]}
                self._add_person(canonical, forms)

    def _add_person(self, name: str, forms: set[str]) -> Entity:
        key = f"person:{fold(name)}"
        ent = self.entities.get(key) or Entity(key=key, name=name, kind="person")
        self.entities[key] = ent
        aliases = set(forms) | {name}
        for form in list(aliases):
            toks = form.split()
            if len(toks) >= 2:
                aliases.add(toks[-1])
                if re.search(r"-[a-z]", toks[-1]) or not is_given_name(toks[0]):
                    aliases.add(toks[0])
        ent.aliases |= aliases
        for a in aliases:
            k = fold(a)
            owner = self.alias_index.get(k)
            if owner is not None and owner != key and len(a.split()) == 1:
                # an ambiguous surname keeps its first owner in the index; in the text it
                # means whichever of them was named last (see `_person_key`)
                if owner.startswith("person:"):
                    self.shared[k].update((owner, key))
                continue
            self.alias_index[k] = key
        return ent

    def add_author(self, name: str, doc: Document) -> None:
        ent = self._add_person(name, {name})
        if not ent.role:
            ent.role = "author"
            ent.note = f"author of “{doc.title}”"
        ent.docs.add(doc.idx)

    # -- mentions, roles, quotes -------------------------------------------------------
    def link(self) -> None:
        for doc in self.documents:
            recent: list[str] = []  # person keys, most recent last
            last_speaker: tuple[str, int] | None = None
            prev_people: list[str] = []
            for para in doc.paragraphs:
                para_speaker: str | None = None
                quoted: list[int] = []  # sentences of a quotation still open, unattributed
                for s_idx in para.sentences:
                    s = self.sentences[s_idx]
                    if s.kind not in ("body", "caption"):
                        continue
                    was_open = bool(quoted)
                    still_open = quote_open_after(s.text, was_open)
                    people_here: list[str] = []
                    named: list[tuple[Span, str]] = []  # the people's spans, in text order
                    for sp in self.spans.get(s_idx, []):
                        key = self._person_key(fold(sp.text), recent + people_here)
                        ent = self.entities.get(key) if key else None
                        if ent is None:
                            continue
                        _mention(ent, s_idx)
                        ent.docs.add(doc.idx)
                        if ent.kind != "person":
                            continue
                        people_here.append(ent.key)
                        named.append((sp, ent.key))
                        self._roles_for(ent, s, sp)
                    self.sentence_people[s_idx] = people_here
                    if s.kind == "body":
                        self._descriptions(s, recent)
                        attribution = self._attribute(s, named, people_here, recent, prev_people,
                                                      last_speaker, para_speaker)
                        if attribution and attribution.person and was_open:
                            # `“A. B,” said X.`: X said the whole quotation
                            attribution = replace(attribution, direct=True)
                            for k in quoted:
                                if k not in self.attributions:
                                    self.attributions[k] = replace(attribution, sentence=k)
                                    self.entities[attribution.person].quotes.append(k)
                        quoted = [] if attribution or not still_open else [*quoted, s_idx]
                        if attribution:
                            self.attributions[s_idx] = attribution
                            if attribution.person:
                                ent = self.entities[attribution.person]
                                ent.quotes.append(s_idx)
                                _mention(ent, s_idx)
                                if attribution.outlet:
                                    ent.outlets.add(attribution.outlet)
                                last_speaker = (attribution.person, s_idx)
                                para_speaker = attribution.person
                    recent = [k for k in recent if k not in people_here] + people_here
                    if people_here:
                        prev_people = people_here

    def _person_key(self, folded: str, recent: list[str]) -> str | None:
        """The entity a name means here: a surname two people share is the one named last."""
        key = self.alias_index.get(folded)
        owners = self.shared.get(folded)
        if not owners:
            return key
        return next((k for k in reversed(recent) if k in owners), None)

    def _scan(self, s: Sentence) -> SentenceScan:
        found = self.scans.get(s.idx)
        return found if found is not None else scan_sentence(s.text)

    def _role_after(self, s: Sentence, end: int,
                    is_name: Callable[[str], bool] | None = None) -> str | None:
        """`_role_after` with the apposition read from the article's facts when there."""
        return _role_after(s.text, end, is_name, self.appositions.get((s.idx, end), _UNSCANNED))

    def _is_person_name(self, name: str) -> bool:
        key = self.alias_index.get(fold(name))
        return key is not None and key.startswith("person:")

    def _roles_for(self, ent: Entity, s: Sentence, sp: Span) -> None:
        """The role the sentence gives this name: its own apposition, title or description."""
        role = _job_title(sp.title)
        if role:
            # `Mayor Jane Roe of Riverton`: the place belongs to the title
            m = _OF_PLACE.match(s.text, sp.end)
            if m:
                place = m.group("place").removesuffix("’s").removesuffix("'s")
                if not self._is_person_name(place):
                    role = f"{role} {' '.join(m.group('prep').split())} {place}"
        role = self._role_after(s, sp.end, self._is_person_name) or role or _role_before(
            s.text, sp.start) or _role_stated(s.text, sp.end)
        if role:
            role = _strip_outlets(role, self.outlets).strip(" ,")
        if role and (ent.role is None or (ent.role == "author" and role != "author")):
            ent.role, ent.role_sentence = role, s.idx

    def _descriptions(self, s: Sentence, candidates: list[str]) -> None:
        """`The Russian defense minister is believed …` → role of the person just named."""
        for desc in self._scan(s).descriptions:
            target = self.resolve_description(desc, candidates)
            if target is None:
                continue
            ent = self.entities[target]
            # "the mayor" after "Jane Roe, the mayor of Riverton" adds nothing, and a bare
            # "mayor" would match every mayor's question as well as the role does
            if ent.role is None or not _covered_by(desc, ent.role):
                ent.descriptions.add(desc)
            _mention(ent, s.idx)
            if ent.role is None:
                ent.role, ent.role_sentence = desc, s.idx

    def resolve_description(self, desc: str, candidates: list[str]) -> str | None:
        words_ = {fold(w)[:5] for w in desc.split()}
        best, best_score = None, 0.0
        for rank, key in enumerate(reversed(candidates)):
            ent = self.entities[key]
            known = " ".join(filter(None, [ent.role, *ent.descriptions]))
            overlap = len(words_ & {fold(w)[:5] for w in known.split()}) if known else 0
            score = overlap * 2 + (1.0 if ent.role is None else 0.0) + 1.0 / (rank + 1)
            if overlap == 0 and ent.role and rank > 0:
                score -= 1
            if score > best_score:
                best, best_score = key, score
        return best

    def _attribute(self, s: Sentence, named: list[tuple[Span, str]], people_here: list[str],
                   recent: list[str], prev_people: list[str],
                   last_speaker: tuple[str, int] | None,
                   para_speaker: str | None) -> Attribution | None:
        text = s.text
        scan = self._scan(s)
        direct = scan.direct
        outlet = scan.outlet_end if scan.outlet_end in self.outlets else None
        for sp, key in named:
            before = _before_name(text, sp)
            if (_speech_before(before) and not sp.possessive) or _speech_after_apposition(
                    text, sp.end) or (_speech_after(_after(text, sp.end))
                                      and not _governed(text, sp.start)):
                return Attribution(s.idx, self.entities[key].name, key, direct, outlet)
        if scan.according:
            who, who_start, acc_end = scan.according
            key = self._person_key(fold(who), recent + people_here)
            for sp, inner in named:
                if who_start <= sp.start < acc_end:
                    key = inner
                    break
            if key is None and re.match(r"the\s", who, re.I) and any(
                    is_role_word(w) for w in who.split()):
                key = self.resolve_description(who[4:], recent + people_here)
            if key and key.startswith("person:"):
                return Attribution(s.idx, self.entities[key].name, key, direct, outlet)
            return Attribution(s.idx, who, None, direct, outlet)
        if scan.pronoun in ("he", "she"):
            key = None
            if last_speaker and s.idx - last_speaker[1] <= 3:
                key = last_speaker[0]
            elif prev_people:
                key = prev_people[0]
            elif recent:
                key = recent[-1]
            if key:
                return Attribution(s.idx, self.entities[key].name, key, direct, outlet)
        if direct and para_speaker:
            return Attribution(s.idx, self.entities[para_speaker].name, para_speaker, True, None)
        return None


def article_facts(documents: list[Document],
                  sentences: list[Sentence]) -> tuple[list[LocalFacts], list[int]]:
    """Every article's settled facts and the number of its first sentence."""
    firsts, groups = [], []
    for doc in documents:
        ids = [i for p in doc.paragraphs for i in p.sentences]
        firsts.append(min(ids, default=0))
        groups.append([sentences[i] for i in sorted(ids)])
    facts = [local_facts(g, offset=first) for g, first in zip(groups, firsts, strict=True)]
    noninitial = corpus_noninitial(facts)
    return [settle(f, g, noninitial, first)
            for f, g, first in zip(facts, groups, firsts, strict=True)], firsts


def extract(documents: list[Document], sentences: list[Sentence],
            facts: tuple[list[LocalFacts], list[int]] | None = None) -> Extraction:
    """Entities, roles, quotes and outlets of the corpus. `facts`: each article's settled
    local facts and first sentence (from the article cache), found here when None."""
    b = _Builder(documents, sentences)
    b.use_facts(*(facts or article_facts(documents, sentences)))
    b.classify()
    for doc in documents:
        for author in doc.authors:
            b.add_author(author, doc)
    b.link()
    for ent in b.entities.values():
        ent.mentions.sort()
    return Extraction(entities=b.entities, alias_index=b.alias_index,
                      attributions=b.attributions, sentence_people=dict(b.sentence_people),
                      outlets=b.outlets)
