"""The built index kept on disk, so a command on unchanged seeds starts in well under a second.

`briefbot ask` is a new process each time; building the index again (reading, extracting,
BM25, sentence vectors) would cost most of its run. The built corpus is pickled under a key
made of everything it is a function of: the bytes of every seed file and of the curation
file, the engine's code and its model files. Any change gives a new key, so a stale index is
never served; the few latest entries are kept, older ones deleted.

The cache lives in the data directory, which only briefbot writes (files are created private
to the user); a corrupt or unreadable entry is rebuilt, never trusted.

A new index is written in a background thread (`save(..., background=True)`): at 10,000
articles pickling it takes seconds that a reload need not wait for, as the index serves from
memory. The thread is not a daemon, so a command that exits still finishes the file; a load
of the same key in this process waits for it; `wait_for_saves` waits for all of them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import time
from functools import cache
from pathlib import Path
from typing import TypeVar

from bot.engine.cache_files import write_atomic
from bot.engine.curation import CURATION_FILE
from bot.engine.documents import seed_files
from bot.engine.gcpause import no_cyclic_gc

log = logging.getLogger(__name__)

KEEP = 4
"""Index files kept per cache folder (a few seeds folders or versions side by side)."""
T = TypeVar("T")
_saving: dict[Path, threading.Thread] = {}
_saving_lock = threading.Lock()


def wait_for_saves() -> None:
    """Wait until every index being written in the background is on disk."""
    with _saving_lock:
        threads = list(_saving.values())
    for t in threads:
        t.join()


def _wait_for(path: Path) -> None:
    with _saving_lock:
        thread = _saving.get(path)
    if thread is not None and thread is not threading.current_thread():
        thread.join()


@cache
def engine_fingerprint() -> str:
    """A digest of the engine's code and model files: a new version rebuilds."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), *(here / "model").glob("*.json")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for path in sorted((here / "model").glob("*.npz")):  # big: size and name are enough
        h.update(f"{path.name}:{path.stat().st_size}".encode())
    return h.hexdigest()


def seeds_key(seeds_dir: Path) -> str:
    """A digest of what an index of `seeds_dir` is built from. Reads every seed file (fast:
    hashing runs at hundreds of MB/s), so an edit that keeps size and time still counts."""
    h = hashlib.sha256(engine_fingerprint().encode())
    for path in [*seed_files(seeds_dir), seeds_dir / CURATION_FILE]:
        if not path.is_file():
            continue
        h.update(b"\x1f" + path.name.encode() + b"\x1e")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:40]


class IndexCache:
    """Pickled built indexes in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, key: str, kind: type[T]) -> T | None:
        path = self.folder / f"{key}.pickle"
        _wait_for(path)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        try:
            with no_cyclic_gc():
                found = pickle.loads(blob)
        except Exception as exc:
            log.warning("index cache %s unreadable (%s); building again", path.name, exc)
            return None
        if not isinstance(found, kind):
            return None
        os.utime(path)  # recently used: kept by the pruning below
        return found

    def save(self, key: str, value: object, background: bool = False,
             seconds: dict[str, float] | None = None) -> None:
        """Write `value` under `key` (now, or from a thread with `background`); the seconds
        it took go to `seconds["index_cache_save"]`."""
        if not background:
            self._save(key, value, seconds)
            return
        path = self.folder / f"{key}.pickle"
        thread = threading.Thread(target=self._save, args=(key, value, seconds),
                                  name="index-cache-save")
        with _saving_lock:
            _saving[path] = thread
        thread.start()

    def _save(self, key: str, value: object, seconds: dict[str, float] | None) -> None:
        started = time.perf_counter()
        try:
            write_atomic(self.folder / f"{key}.pickle",
                         lambda fh: pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL))
            self._prune()
        except Exception as exc:  # a read-only or full disk costs start-up time, not answers
            log.warning("cannot write the index cache in %s: %s", self.folder, exc)
        finally:
            if seconds is not None:
                seconds["index_cache_save"] = time.perf_counter() - started
            with _saving_lock:
                if _saving.get(self.folder / f"{key}.pickle") is threading.current_thread():
                    del _saving[self.folder / f"{key}.pickle"]

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)


__all__ = ["IndexCache", "engine_fingerprint", "seeds_key", "wait_for_saves"]
