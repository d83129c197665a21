"""Versioned schema, upgraded in place at start-up, keeping data.

`schema_version` holds one row: the number of steps applied. `STEPS[i]` takes the schema
from version i to i+1 and never changes once released; a later change to a table is a new
step with explicit DDL (ALTER TABLE ...), so an old database replays exactly what a new one
did. All pending steps run in one transaction; on PostgreSQL an advisory lock makes replicas
that start together migrate one at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import Connection, insert, select, text, update

from bot.store import tables as t

Step = Callable[[Connection], None]

_PG_LOCK_KEY = 0x62726566  # "bref": serialises migrations across replicas


def _v1_briefings(conn: Connection) -> None:
    """Issue 5: idempotency claims, subscriptions and per-day deliveries."""
    for table in (t.claims, t.subscriptions, t.deliveries):
        table.create(conn)


def _v2_curation(conn: Connection) -> None:
    """Issue 6: questions and votes for /gaps, index versions for replicas to poll."""
    for table in (t.questions, t.votes, t.index_versions):
        table.create(conn)


STEPS: list[Step] = [_v1_briefings, _v2_curation]
LATEST = len(STEPS)


def current_version(conn: Connection) -> int:
    t.schema_version.create(conn, checkfirst=True)
    return conn.execute(select(t.schema_version.c.version)).scalar() or 0


class Migration(NamedTuple):
    """What opening the store did to the schema: the version found and the version left."""

    before: int
    after: int

    @property
    def applied(self) -> bool:
        return self.after != self.before


def upgrade(conn: Connection, target: int = LATEST) -> Migration:
    """Apply the pending steps up to `target` inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"the database schema is version {version}, newer than this briefbot "
            f"understands ({LATEST}): upgrade briefbot"
        )
    for step in STEPS[version:target]:
        step(conn)
    if target > version:
        if version == 0:
            conn.execute(insert(t.schema_version).values(id=1, version=target))
        else:
            conn.execute(update(t.schema_version).values(version=target))
    return Migration(version, max(version, target))


def migrate(conn: Connection, target: int = LATEST) -> int:
    """`upgrade`, returning the schema version now."""
    return upgrade(conn, target).after
