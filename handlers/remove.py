"""`remove URL|FILE`: admins take an article out of the seeds, on every replica (issue 19).

The same path as `/add`: the file is deleted here, the index rebuilt, and the removal is
recorded in the store (a tombstone) with the new index version, so every replica deletes its
copy before it rebuilds. If the reload fails, the file is put back: nothing changed. The
article is named by its URL (as in its front matter: what `/add` was given, or the page's
canonical URL) or by its file name in the seeds folder (`harbour-bridge.md`, or the
document id `briefbot index` shows, `harbour-bridge`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import frontmatter
import yaml

from bot.context import AppContext
from bot.engine.documents import SEED_SUFFIXES
from bot.errors import UserFacingError
from bot.ingest.mirror import removal, safe_name
from bot.ingest.seedfile import find_existing, normalize_url, write_atomic
from bot.models import Notice, Result, UserError
from bot.store.records import StoredArticle
from handlers.add import url_of
from handlers.reload import added_by, reload_seeds, require_admin
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.remove")

USAGE = Notice(
    title="Remove an article (admins)",
    text="`/remove https://www.example.com/news/2025/03/04/harbour-bridge` or `/remove "
         "harbour-bridge.md` takes the article out of the seeds, on every replica, and "
         "reloads. Name it by its URL or by its file in the seeds folder.",
)
MAX_TARGET_CHARS = 2000


def _title(data: bytes | None, name: str) -> str:
    if data is not None:
        try:
            title = frontmatter.loads(data.decode("utf-8-sig")).metadata.get("title")
        except (UnicodeDecodeError, yaml.YAMLError, ValueError, AttributeError):
            title = None
        if title:
            return str(title)[:150]
    return name


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


async def _by_url(url: str, ctx: AppContext) -> list[tuple[str, StoredArticle | None]]:
    """The files holding the article with this URL: the one in this folder and the one the
    store keeps (the same file, unless the two replicas named it differently)."""
    seeds_dir = ctx.settings.seeds_dir
    local = await asyncio.to_thread(find_existing, seeds_dir, [url]) \
        if await asyncio.to_thread(seeds_dir.is_dir) else None
    stored = None
    if ctx.store is not None:
        stored = await ctx.store.articles.find(url=normalize_url(url))
    found: dict[str, StoredArticle | None] = {}
    if local is not None:
        found[local.name] = stored if stored is not None and stored.name == local.name else None
    if stored is not None:
        found.setdefault(stored.name, stored)
    if not found:
        raise UserFacingError(f"No article in the seeds has the URL {url}.",
                              hint="Name it by its file instead (`briefbot index` lists them).")
    return list(found.items())


async def _by_name(name: str, ctx: AppContext) -> list[tuple[str, StoredArticle | None]]:
    seeds_dir = ctx.settings.seeds_dir
    candidates = [name] if Path(name).suffix.lower() in SEED_SUFFIXES else \
        [name + suffix for suffix in SEED_SUFFIXES]
    for candidate in candidates:
        if not safe_name(candidate):
            raise UserFacingError(
                f"{name[:100]} is neither an http(s) URL nor the name of an article file in "
                "the seeds folder.", hint="e.g. /remove harbour-bridge.md")
        stored = None if ctx.store is None else await ctx.store.articles.find(name=candidate)
        if await asyncio.to_thread((seeds_dir / candidate).is_file) or stored is not None:
            return [(candidate, stored)]
    raise UserFacingError(f"No article named {name[:100]} in the seeds.",
                          hint="`briefbot index` lists the documents; a file name is the "
                               "document id with .md or .txt.")


async def remove(req: CommandRequest, ctx: AppContext) -> Result:
    words = req.text.split()
    if not words or (len(words) == 1 and words[0].lower() == "help"):
        return USAGE
    require_admin(req, ctx, "remove articles")
    if len(words) > 1 or len(words[0]) > MAX_TARGET_CHARS:
        return UserError(message="Give one URL or one file name, and nothing else, to remove "
                                 "an article.", hint="e.g. /remove harbour-bridge.md")
    target = url_of(words[0])
    if target.lower().startswith(("http://", "https://")):
        found = await _by_url(target, ctx)
    else:
        found = await _by_name(target, ctx)
    seeds_dir = ctx.settings.seeds_dir
    removed: list[tuple[Path, bytes | None]] = []
    changes = []
    for name, stored in found:
        data = await asyncio.to_thread(_read, seeds_dir / name)
        changes.append(removal(name, data, stored, by=added_by(req)))
        removed.append((seeds_dir / name, data))
    for path, data in removed:
        if data is not None:
            await asyncio.to_thread(path.unlink, missing_ok=True)
    reloaded = await reload_seeds(req, ctx, changes)
    names = ", ".join(change.name for change in changes)
    if isinstance(reloaded, UserError):
        for path, data in removed:  # lose nothing: the files go back as they were
            if data is not None:
                await asyncio.to_thread(write_atomic, path, data)
        return UserError(message=f"{reloaded.message} {names} is back in place.",
                         hint=reloaded.hint)
    log.info("removed article", extra={"platform": req.platform, "user": req.user_id,
                                       "path": names})
    path, data = removed[0]
    title = _title(data, path.name)
    here = any(data is not None for _, data in removed)
    return Notice(
        title=f"Article removed: {title}",
        text=f"{names} {'deleted' if here else 'was not in this folder'}; the removal is "
             f"recorded for every replica. {reloaded.text}",
        lines=reloaded.lines,
        data={**reloaded.data, "path": path.name, "url": changes[0].url, "title": title},
    )
