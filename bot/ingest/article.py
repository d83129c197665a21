"""The article in a fetched page: headline, body paragraphs, byline, date, canonical URL, site.

trafilatura (`bare_extraction`, comments left out) with `favor_precision`, which scored best on
the shared benchmark pages; when that keeps too little of the page (under `SHORT_WORDS`
words) the extraction runs again with `favor_recall` and the longer text wins. A page with
less than `MIN_WORDS` words of body, or no headline, has no article (a front page, a login
wall, an error page) and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import trafilatura

from bot.ingest.fetch import FetchRefused

MIN_WORDS = 60
SHORT_WORDS = 60
MAX_TEXT_BYTES = 1024 * 1024
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")


@dataclass(slots=True)
class Article:
    """What `briefbot add` keeps of a page."""

    title: str
    paragraphs: list[str]
    url: str | None = None
    date: str | None = None
    authors: list[str] = field(default_factory=list)
    site: str | None = None

    @property
    def words(self) -> int:
        return sum(len(_WORD.findall(p)) for p in self.paragraphs)


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", _CONTROLS.sub("", text or "")).strip()


def _paragraphs(text: str | None) -> list[str]:
    return [line for line in (_clean(raw) for raw in (text or "").splitlines()) if line]


def _extract(html: str, url: str, *, precision: bool) -> trafilatura.settings.Document | None:
    return trafilatura.bare_extraction(  # type: ignore[return-value]
        html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        include_images=False, include_links=False, favor_precision=precision,
        favor_recall=not precision, deduplicate=False)


def _authors(raw: str | None) -> list[str]:
    names = re.split(r";|\s+and\s+|,\s*(?=[A-Z][a-z]+ [A-Z])", _clean(raw))
    seen: list[str] = []
    for name in (n.strip(" ,") for n in names):
        if name and len(name) <= 80 and name not in seen:
            seen.append(name)
    return seen[:8]


def extract_article(html: str, url: str) -> Article:
    """The article of `html` fetched from `url`, or FetchRefused when there is none."""
    doc = _extract(html, url, precision=True)
    if doc is None or len(_WORD.findall(doc.text or "")) < SHORT_WORDS:
        wider = _extract(html, url, precision=False)
        if wider is not None and len(wider.text or "") > len((doc and doc.text) or ""):
            doc = wider
    if doc is None:
        raise FetchRefused("Refused: no article found on the page (it looks like a front "
                           "page, a login wall or an error page); nothing was added.")
    paragraphs = _paragraphs(doc.text)
    title = _clean(doc.title)
    if title and paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    article = Article(title=title, paragraphs=paragraphs, url=_clean(doc.url) or None,
                      date=_clean(doc.date) or None, authors=_authors(doc.author),
                      site=_clean(doc.sitename) or None)
    if article.words < MIN_WORDS or not title:
        raise FetchRefused(f"Refused: no article found on the page (it has "
                           f"{article.words} words of text"
                           f"{'' if title else ' and no headline'}; a front page, a login "
                           f"wall or an error page looks like this); nothing was added.")
    size = sum(len(p.encode("utf-8")) + 2 for p in paragraphs)
    if size > MAX_TEXT_BYTES:
        raise FetchRefused(f"Refused: the article's text is {size / 1e6:.1f} MB, over the "
                           f"1 MB limit.")
    return article
