"""Write an article as a Markdown seed file that `bot/engine/documents.py` reads.

Front matter `title`, `url`, `date`, `author`, `site`, `fetched` (and `source`, the URL as
typed, when it differs from `url`), then the paragraphs separated by blank lines. The file is
named from the headline (`putin-meets-kim.md`, `-2`… when another article has the name) and
written atomically: a hidden temporary file in the same folder, fsynced, then `os.replace`,
so a reload sees the whole file or none of it. An article whose URL (or canonical URL) is
already in a seed file replaces that file, under the same name.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import frontmatter
import yaml

from bot.engine.documents import SEED_SUFFIXES

if TYPE_CHECKING:  # the extractor (trafilatura) loads only where articles are extracted
    from bot.ingest.article import Article

MAX_SLUG = 80


def slugify(title: str) -> str:
    """`Putin & Kim: the arms deal` → `putin-kim-the-arms-deal` (ASCII, at most 80 chars)."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    return slug or "article"


def normalize_url(url: str | None) -> str | None:
    """For matching: scheme and host lower-cased, no fragment, no default port, no final /."""
    if not url:
        return None
    from yarl import URL

    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        return url.strip()
    if not parsed.absolute:
        return url.strip()
    parsed = parsed.with_fragment(None)
    host = (parsed.raw_host or "").lower()
    port = "" if parsed.is_default_port() else f":{parsed.port}"
    path = parsed.raw_path.rstrip("/")
    query = f"?{parsed.raw_query_string}" if parsed.raw_query_string else ""
    return f"{parsed.scheme.lower()}://{host}{port}{path}{query}"


def _front_matter_urls(path: Path) -> set[str]:
    try:
        meta = frontmatter.loads(path.read_text(encoding="utf-8-sig")).metadata
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        return set()
    return {u for u in (normalize_url(str(meta.get(k) or "")) for k in ("url", "source")) if u}


def find_existing(seeds_dir: Path, urls: list[str]) -> Path | None:
    """The seed file whose `url` or `source` is one of `urls` (normalised), if any."""
    wanted = {u for u in map(normalize_url, urls) if u}
    for path in sorted(seeds_dir.iterdir()):
        if (path.is_file() and path.suffix.lower() in SEED_SUFFIXES
                and not path.name.startswith(".") and _front_matter_urls(path) & wanted):
            return path
    return None


def render_seed(article: Article, *, url: str, source: str, fetched: datetime) -> str:
    """The seed file's text: YAML front matter, then the paragraphs."""
    meta: dict[str, object] = {"title": article.title, "url": url}
    if source != url:
        meta["source"] = source
    if article.date:
        meta["date"] = article.date
    if article.authors:
        meta["author"] = article.authors[0] if len(article.authors) == 1 else article.authors
    if article.site:
        meta["site"] = article.site
    meta["fetched"] = fetched.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    body = "\n\n".join(_safe_paragraph(p) for p in article.paragraphs)
    return f"---\n{head}---\n\n{body}\n"


def _safe_paragraph(text: str) -> str:
    """A paragraph that cannot be read as the end of the front matter."""
    if text.startswith("---"):
        return "\u2014" + text.lstrip("-")
    return text


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes, as they are) to `path` so that readers see the old file or
    the whole new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes)
              else os.fdopen(fd, "w", encoding="utf-8", newline="\n")) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def choose_path(seeds_dir: Path, article: Article, urls: list[str]) -> tuple[Path, bool]:
    """(path, updating): the file that has this URL already, else a free name from the title."""
    existing = find_existing(seeds_dir, urls)
    if existing is not None:
        return existing, True
    stem = slugify(article.title)
    taken = {p.stem.lower() for p in seeds_dir.iterdir() if p.suffix.lower() in SEED_SUFFIXES}
    candidate, n = stem, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return seeds_dir / f"{candidate}.md", False


def write_seed(seeds_dir: Path, article: Article, *, url: str, source: str,
               fetched: datetime,
               inspect: Callable[[Path], Any] | None = None) -> tuple[Path, bool, Any]:
    """Write (or update) the article's seed file: (path, True when it replaced one, what
    `inspect` returned). `inspect` gets a temporary folder holding only the new file, under
    its final name, before the file goes into `seeds_dir`: it can build the index on it, and
    if it raises, nothing is written."""
    path, updating = choose_path(seeds_dir, article, [url, source])
    text = render_seed(article, url=url, source=source, fetched=fetched)
    inspected = None
    if inspect is not None:
        with tempfile.TemporaryDirectory(prefix="briefbot-add-") as tmp:
            (Path(tmp) / path.name).write_text(text, encoding="utf-8")
            inspected = inspect(Path(tmp))
    write_atomic(path, text)
    return path, updating, inspected
