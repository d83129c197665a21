"""Files only the server's user may read: the data directory, the SQLite database, the admin
token. `briefbot.db` holds the questions people typed and `admin.token` lets its holder reload.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) if missing; the directory itself is made 0700.

    A directory that already exists is left as it is (it may be a mounted volume or a folder
    the operator chose); what we put in it is 0600 anyway.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # or another process just made it
            path.mkdir(mode=DIR_MODE)  # the umask can only take bits away from 0700
    return path


def private_file(path: Path) -> Path:
    """Make sure `path` exists and only its owner can read or write it (0600).

    Used for the SQLite database before SQLite opens it: SQLite creates a new file 0644 and
    gives its -wal and -shm files the database's mode, so creating it 0600 first covers all
    three. An existing file (and its -wal/-shm) that others could read is tightened.
    """
    path = Path(path).expanduser()
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(each).st_mode
            if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                os.chmod(each, stat.S_IMODE(mode) & 0o700)
    return path


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, mode 0600.

    The text goes to a new temporary file in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW,
    0600: nobody else's file, no symlink followed) and is then renamed over `path`: a reader
    sees the old file or the new one, never a missing or half-written one, and a stale file
    left by a killed process (whoever made it, whatever its mode) is replaced, not reused.
    """
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
