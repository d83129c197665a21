"""Rebuild the index off the event loop and swap it in: no question fails or waits.

Bad seeds change nothing: the build raises SeedError naming the file, and the old index
keeps serving. A lock makes two reloads run one after the other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.engine.holder import IndexHolder
from bot.engine.index import KnowledgeIndex, build_index
from bot.settings import Settings


@dataclass
class ReloadReport:
    version: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    people_added: list[str] = field(default_factory=list)
    seconds: float = 0.0
    documents: int = 0

    def lines(self) -> list[str]:
        def names(items: list[str]) -> str:
            return ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10
                                             else "") if items else "none"
        return [
            f"Documents added: {names(self.added)}",
            f"Documents changed: {names(self.changed)}",
            f"Documents removed: {names(self.removed)}",
            f"People added: {names(self.people_added)}",
            f"{self.documents} documents indexed in {self.seconds:.2f} s (index version "
            f"{self.version}).",
        ]


def compare(old: KnowledgeIndex | None, new: KnowledgeIndex) -> ReloadReport:
    before = old.digest() if old else {}
    after = new.digest()
    old_people = set(old.people_names()) if old else set()
    return ReloadReport(
        version=0,
        added=sorted(set(after) - set(before)),
        changed=sorted(d for d in after if d in before and before[d] != after[d]),
        removed=sorted(set(before) - set(after)),
        people_added=[p for p in new.people_names() if p not in old_people],
        documents=len(new.documents),
    )


async def reload_index(holder: IndexHolder, settings: Settings,
                       version: int | None = None, *,
                       publish: Callable[[], Awaitable[int]] | None = None) -> ReloadReport:
    """Build from settings.seeds_dir in a thread, then swap. Raises SeedError on bad input.

    `publish` (the store's version bump) runs after the build succeeded and before the swap,
    and its result is the new version: if it raises, nothing was swapped, so this replica and
    the store (which the other replicas follow) still agree on the old index.
    """
    async with holder.reload_lock:
        started = time.perf_counter()
        new = await asyncio.to_thread(build_index, settings.seeds_dir, settings.cache_dir)
        report = compare(holder.current if holder.loaded else None, new)
        if publish is not None:
            version = await publish()
        holder.swap(new, version)
        report.version = holder.version
        report.seconds = time.perf_counter() - started
        return report
