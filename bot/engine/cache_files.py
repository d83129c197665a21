"""The files of the engine's caches (vectors, article facts, built indexes): where an entry
lives, and writing one so that a reader never sees half of it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def entry_path(folder: Path, key: str, suffix: str) -> Path:
    """An entry's file, under a sub-folder named by the key's first two characters (so no
    folder holds tens of thousands of files)."""
    return folder / key[:2] / f"{key}{suffix}"


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through `write` into a temporary file beside `path`, then rename it into place.
    Raises OSError (or what `write` raises); the temporary file is removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["entry_path", "write_atomic"]
