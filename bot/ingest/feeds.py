"""RSS/Atom feeds (issue 14): `seeds/feeds.yaml` lists them; their items, parsed.

```yaml
feeds:
  - url: https://www.example.com/news/rss
    name: Example News            # optional (default: the feed's host)
    keywords: [bridge, council]   # optional: keep only items naming one of them
```

The server's feed poller (`bot/feed_poller.py`) fetches them and adds new items; this module
only reads the list and a feed's items, so `briefbot feeds` needs no poller.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from yarl import URL

from bot.errors import SeedError
from bot.ingest.seedfile import normalize_url

FEEDS_FILE = "feeds.yaml"
MAX_KEY_CHARS = 500


class FeedSpec(BaseModel):
    """One feed in feeds.yaml. Unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    keywords: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        try:
            url = URL(value)
        except (ValueError, TypeError):
            raise ValueError(f"{value!r} is not a URL") from None
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise ValueError(f"must be an http(s):// URL, got {value!r}")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        words = [w.strip() for w in value]
        if any(not w for w in words):
            raise ValueError("keywords must not be empty")
        return words

    @property
    def title(self) -> str:
        return self.name or (URL(self.url).raw_host or self.url)

    def matches(self, text: str) -> bool:
        """No keywords: every item; else an item naming one of them (whole words, any case)."""
        if not self.keywords:
            return True
        return any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", text, re.IGNORECASE)
                   for k in self.keywords)


class FeedList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[FeedSpec] = Field(default_factory=list)

    @field_validator("feeds")
    @classmethod
    def _unique(cls, value: list[FeedSpec]) -> list[FeedSpec]:
        seen: set[str] = set()
        for spec in value:
            key = normalize_url(spec.url) or spec.url
            if key in seen:
                raise ValueError(f"{spec.url} is listed twice")
            seen.add(key)
        return value


def feeds_path(seeds_dir: Path) -> Path:
    return Path(seeds_dir) / FEEDS_FILE


def load_feeds(seeds_dir: Path) -> list[FeedSpec]:
    """The feeds of seeds/feeds.yaml ([] without the file); SeedError names file and field."""
    path = feeds_path(seeds_dir)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path.name} is not valid YAML: {exc}".splitlines()[0],
                        hint="Fix the file; feeds are not polled until then.") from None
    if not isinstance(data, dict):
        raise SeedError(f"{path.name} must be a mapping with a `feeds` list.",
                        hint="Fix the file; feeds are not polled until then.")
    try:
        return FeedList.model_validate(data).feeds
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SeedError(f"{path.name}: field `{where}`: {err['msg']}.",
                        hint="Fix the file; feeds are not polled until then.") from None


@dataclass(frozen=True, slots=True)
class FeedItem:
    key: str  # "guid:…" or "url:…"
    url: str
    title: str
    text: str  # title, summary and tags: what keywords are matched against


def item_key(key: str) -> str:
    """The key as stored: a very long guid or link is hashed (index entries have a limit)."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    prefix = key.split(":", 1)[0]
    return f"{prefix}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def parse_items(xml: str, base_url: str) -> list[FeedItem]:
    """The items of an RSS or Atom document, in feed order (links resolved on `base_url`)."""
    import feedparser

    parsed = feedparser.parse(
        xml.encode("utf-8"),
        response_headers={"content-type": "application/xml; charset=utf-8",
                          "content-location": base_url})
    items: list[FeedItem] = []
    for entry in parsed.entries:
        link = str(entry.get("link") or "").strip()
        if not link:
            continue
        try:
            link = str(URL(base_url).join(URL(link)).with_fragment(None))
        except (ValueError, TypeError):
            continue
        guid = str(entry.get("id") or "").strip()
        key = item_key(f"guid:{guid}" if guid else f"url:{normalize_url(link)}")
        title = str(entry.get("title") or "").strip()
        tags = " ".join(str(t.get("term") or "") for t in entry.get("tags") or [])
        text = " ".join((title, str(entry.get("summary") or ""), tags))
        items.append(FeedItem(key=key, url=link, title=title, text=text))
    return items
