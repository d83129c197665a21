"""`briefbot add URL`: fetch, extract and write, in that order, refusing with one sentence.

Nothing is written unless the page was fetched under the rules of `fetch.py` and holds an
article; the seed file then appears whole (see `seedfile.py`). The canonical URL the page
declares is used as the article's `url` only when it is on the same site as the page fetched
(so a page cannot claim, and overwrite, another site's article).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yarl import URL

from bot.ingest.article import Article, extract_article
from bot.ingest.fetch import FetchRefused, Page, fetch_page
from bot.ingest.seedfile import write_seed


@dataclass(slots=True)
class Added:
    """What was added: the file, the article, and how long each step took."""

    path: Path
    updated: bool
    inspected: Any
    article: Article
    url: str
    source: str
    page: Page
    fetch_s: float
    extract_s: float


def _site(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix):]
    return host


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site (ignoring www./m./amp. and subdomains)."""
    try:
        ha, hb = _site(URL(a).raw_host or ""), _site(URL(b).raw_host or "")
    except (ValueError, TypeError):
        return False
    return bool(ha and hb) and (ha == hb or ha.endswith("." + hb) or hb.endswith("." + ha))


def article_url(page: Page, article: Article) -> str:
    """The canonical URL when the page declares one on its own site, else where it ended."""
    canonical = article.url
    if canonical and canonical.startswith(("http://", "https://")) and same_site(
            canonical, page.final_url):
        return canonical
    return page.final_url


def people_in(folder: Path) -> list[str]:
    """Build the index on a folder (the new article alone, see `write_seed`) and name its
    people: a file that would not load raises here, before it is written."""
    from bot.engine.index import build_index

    return build_index(folder).people_names()


async def add_url(url: str, seeds_dir: Path, *, allow_hosts: Iterable[str] = (),
                  clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                  inspect: Callable[[Path], Any] | None = None) -> Added:
    """Fetch `url`, extract its article and write it into `seeds_dir` (`inspect`: see
    `write_seed`; e.g. build the index on the new file before it is put in place)."""
    if not await asyncio.to_thread(seeds_dir.is_dir):
        raise FetchRefused(f"Refused: the seeds folder {seeds_dir} does not exist; nothing "
                           f"was fetched.")
    started = time.perf_counter()
    page = await fetch_page(url, allow_hosts=allow_hosts)
    fetched = time.perf_counter()
    # extraction and the file work are CPU and disk: off the event loop (a chat adapter
    # will call this while serving)
    article = await asyncio.to_thread(extract_article, page.text, page.final_url)
    extracted = time.perf_counter()
    canonical = article_url(page, article)
    path, updated, inspected = await asyncio.to_thread(
        write_seed, seeds_dir, article, url=canonical, source=page.requested_url,
        fetched=clock(), inspect=inspect)
    return Added(path=path, updated=updated, inspected=inspected, article=article, url=canonical,
                 source=page.requested_url, page=page, fetch_s=fetched - started,
                 extract_s=extracted - fetched)
