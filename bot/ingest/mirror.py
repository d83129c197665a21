"""Each replica's seeds folder follows the articles in the store (issue 19).

Before a replica builds its index (at start, when it follows another replica's reload, and
before a reload of its own) `SeedMirror.sync` writes into its seeds folder the articles the
store has and the folder lacks or holds in another version, and deletes the ones the store
removed: each file atomically (`seedfile.write_atomic`: a hidden temporary file, fsynced,
renamed), with the very text `briefbot add` wrote on the replica that added it.

Files placed by hand keep working: a file is replaced or deleted only when it is the store's
article, that is when its front matter names the same URL, or it is the very same text. A
hand-placed file under the name of a different stored article is kept, and the clash logged.

After its first sync a mirror acts only on what changed in the store since it last looked,
so a file this process has just written and not yet recorded (an /add, a removal under way)
is never undone by a sync that runs meanwhile (the version poller following another
replica). Names come from the store, which other replicas write: a name that is not a plain
seed file name is refused, never joined into a path.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import frontmatter
import yaml

from bot.engine.documents import SEED_SUFFIXES
from bot.ingest.seedfile import normalize_url, write_atomic
from bot.store.records import ArticleChange, StoredArticle

if TYPE_CHECKING:  # the store's code (SQLAlchemy) is what a caller passes in
    from bot.store.articles import ArticleStore

log = logging.getLogger("briefbot.mirror")

MAX_NAME_CHARS = 200
_NAME = re.compile(r"[^\x00-\x1f\x7f/\\:]+")

Action = Literal["write", "delete", "same", "clash", "refused"]


class SeedSyncError(Exception):
    """The seeds folder could not be brought in step with the store (a file could not be
    written or deleted); `message` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def safe_name(name: str) -> bool:
    """A plain, visible seed file name (no folder, no '..', a seed suffix)."""
    return (0 < len(name) <= MAX_NAME_CHARS and _NAME.fullmatch(name) is not None
            and not name.startswith(".") and name.strip() == name
            and Path(name).suffix.lower() in SEED_SUFFIXES)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def front_matter_url(data: bytes) -> str | None:
    """The normalised `url` of a seed file's front matter, if it has one."""
    try:
        url = frontmatter.loads(data.decode("utf-8-sig")).metadata.get("url")
    except (UnicodeDecodeError, yaml.YAMLError, ValueError, AttributeError):
        return None
    return normalize_url(str(url)) if url else None


def change_from_file(path: Path, *, by: str) -> ArticleChange:
    """The seed file at `path` as an article to record: its text exactly as on disk."""
    data = path.read_bytes()
    return ArticleChange(name=path.name, text=data.decode("utf-8"), sha256=sha256_of(data),
                         url=front_matter_url(data), by=by)


def removal(name: str, data: bytes | None, stored: StoredArticle | None, *,
            by: str) -> ArticleChange:
    """A tombstone for the article `name`: the text removed here (`data`), else the one the
    store had, says which files other replicas delete."""
    if data is not None:
        return ArticleChange(name=name, text=None, sha256=sha256_of(data),
                             url=front_matter_url(data) or (stored.url if stored else None),
                             by=by)
    if stored is None:
        raise ValueError(f"nothing to remove under {name}")
    return ArticleChange(name=name, text=None, sha256=stored.sha256, url=stored.url, by=by)


@dataclass
class Synced:
    """What a sync did: the store version the folder now holds every article of (those
    skipped aside), and the files written, deleted and kept (clashes)."""

    version: int
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


class SeedMirror:
    """One seeds folder, kept in step with the store's articles by one process."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = Path(seeds_dir)
        self.behind = False
        """Articles were recorded by another replica while this one built an index it then
        recorded: the version poller syncs and rebuilds although the version did not move."""
        self.pending: dict[str, str] = {}
        """Files written here whose recording failed (name → who added them): the next
        reload on this replica records them."""
        self._seen: dict[str, tuple[str, bool]] = {}
        self._reported: set[tuple[str, str]] = set()

    def recorded(self, changes: Iterable[ArticleChange]) -> None:
        """These changes are in the store as this folder holds them."""
        for change in changes:
            self._seen[change.name] = (change.sha256, change.removed)
            self.pending.pop(change.name, None)

    async def sync(self, articles: ArticleStore, *, skip: Collection[str] = ()) -> Synced:
        """Write and delete files until the folder holds the store's articles (but `skip`,
        the names this process is about to record). Raises SeedSyncError."""
        version, rows = await articles.listing()
        todo = [row for row in rows if row.name not in skip
                and self._seen.get(row.name) != (row.sha256, row.removed)]
        synced = Synced(version)
        if not todo or not await asyncio.to_thread(self.seeds_dir.is_dir):
            return synced  # a missing folder: the build says so
        plan = await asyncio.to_thread(self._plan, todo)
        texts = await articles.texts([row.name for row, action in plan if action == "write"])
        await asyncio.to_thread(self._apply, plan, texts, synced)
        if synced.written or synced.deleted:
            log.info("seeds folder brought in step with the store",
                     extra={"version": version, "written": len(synced.written),
                            "deleted": len(synced.deleted)})
        return synced

    def _plan(self, rows: list[StoredArticle]) -> list[tuple[StoredArticle, Action]]:
        return [(row, self._action(row)) for row in rows]

    def _action(self, row: StoredArticle) -> Action:
        if not safe_name(row.name):
            return "refused"
        path = self.seeds_dir / row.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return "same" if row.removed else "write"
        except OSError:  # a folder under that name, unreadable: not ours to touch
            return "clash"
        if sha256_of(data) == row.sha256:
            return "delete" if row.removed else "same"
        same_article = row.url is not None and front_matter_url(data) == row.url
        if row.removed:
            return "delete" if same_article else "same"  # another file: not ours to delete
        return "write" if same_article else "clash"

    def _apply(self, plan: list[tuple[StoredArticle, Action]], texts: dict[str, str],
               synced: Synced) -> None:
        for row, action in plan:
            path = self.seeds_dir / row.name
            try:
                if action == "write":
                    text = texts.get(row.name)
                    if text is None:  # removed since it was listed: the next sync deletes it
                        continue
                    write_atomic(path, text)
                    synced.written.append(row.name)
                elif action == "delete":
                    path.unlink(missing_ok=True)
                    synced.deleted.append(row.name)
                elif action in ("clash", "refused"):
                    self._report(row, action)
                    if action == "clash":
                        synced.kept.append(row.name)
                        continue  # looked at again next time: the file may be renamed
            except OSError as exc:
                raise SeedSyncError(
                    f"cannot {'write' if action == 'write' else 'delete'} {row.name} in the "
                    f"seeds folder {self.seeds_dir} ({exc.strerror or exc}) to bring it in "
                    f"step with the store") from None
            self._seen[row.name] = (row.sha256, row.removed)

    def _report(self, row: StoredArticle, action: Action) -> None:
        if (row.name, row.sha256) in self._reported:
            return
        self._reported.add((row.name, row.sha256))
        if action == "refused":
            log.warning("the store holds an article under a name that is not a seed file name; "
                        "it is not written", extra={"article": row.name[:80]})
        else:
            log.warning("%s in the seeds folder is not the article the store keeps under that "
                        "name (another URL); the file is kept and that article is not served "
                        "here until the file is renamed", row.name,
                        extra={"path": str(self.seeds_dir / row.name), "url": row.url})
