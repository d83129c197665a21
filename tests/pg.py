"""A throwaway PostgreSQL cluster for the store tests, started once per test session.

Uses Debian's `postgresql` package binaries (initdb, pg_ctl from /usr/lib/postgresql/*/bin)
on a free loopback port in a temp dir, with durability switched off for speed. PostgreSQL
refuses to run as root, so as root the cluster runs as the `postgres` user. Outside CI a
missing PostgreSQL skips its tests; in CI (CI=true) it fails them loudly.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 30


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    async def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        import asyncpg

        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(
            host=self.host, port=self.port, user=self.user, database="postgres", timeout=10
        )
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)


def find_bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_cluster_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]


def _run(cmd: list[str]) -> None:
    """Run a cluster command; its output goes into the error when it fails."""
    done = subprocess.run(
        _as_cluster_user(cmd), capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S + 10,
        stdin=subprocess.DEVNULL, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed: {(done.stdout + done.stderr)[-1500:]}")


@contextmanager
def running_cluster() -> Iterator[PgServer]:
    """Start a cluster, yield it, stop it and delete its files."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="briefbot-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--no-sync"])
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
              "-t", str(STARTUP_TIMEOUT_S), "-o", options, "start"])
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        detail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc}\n{detail}") from exc
    try:
        yield PgServer("127.0.0.1", port)
    finally:
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's cluster: a loud failure in CI when it cannot start, a skip elsewhere."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(running_cluster())
        except RuntimeError as exc:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"PostgreSQL tests need a server in CI: {exc}", pytrace=False)
            pytest.skip(f"PostgreSQL not available: {exc}")
        yield server
