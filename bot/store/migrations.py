"""The store's schema, upgraded in place at start-up by Alembic, keeping data.

The revisions live in `bot/store/revisions/versions/` (shipped inside the package) and each
spells out its own tables: none imports the live `bot/store/tables.py`, so a later change
there cannot change what an old revision does, and an old database replays exactly what a new
one did. A change to a table is a new revision with explicit operations (op.add_column …).

`upgrade(conn)` runs every pending revision inside the caller's transaction (the async engine
hands a sync connection over with `connection.run_sync`). On PostgreSQL it first takes an
advisory lock held to the end of that transaction, so replicas starting together migrate one
at a time: the first upgrades, the others find the schema current.

A database made by the pre-Alembic code has a `schema_version` table (1 or 2) instead of
`alembic_version`: revision 0001 keeps the tables it has and adds the missing ones, and 0002
drops `schema_version`.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

SCRIPT_LOCATION = Path(__file__).with_name("revisions")
LEGACY_TABLE = "schema_version"
LEGACY_LATEST = 2  # the last schema_version the pre-Alembic code wrote
_PG_LOCK_KEY = 0x62726566  # "bref": serialises migrations across replicas

# Alembic says "Context impl …" and "Will assume … DDL" at INFO on every start; open_store_url
# logs one line when the schema actually changed.
logging.getLogger("alembic").setLevel(logging.WARNING)


class Migration(NamedTuple):
    """What opening the store did to the schema: the revision found and the revision left
    (`before` is None for an empty database, "schema_version N" for a pre-Alembic one)."""

    before: str | None
    after: str | None

    @property
    def applied(self) -> bool:
        return self.after != self.before


def config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["connection"] = conn
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The newest revision this briefbot knows."""
    return str(_script().get_current_head())


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _legacy_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(LEGACY_TABLE):
        return None
    return int(conn.execute(text(f"SELECT version FROM {LEGACY_TABLE}")).scalar() or 0)


def upgrade(conn: Connection, target: str = "head") -> Migration:
    """Apply the pending revisions up to `target` inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    before: str | None = current_revision(conn)
    if before is not None and before not in known_revisions():
        raise RuntimeError(
            f"the database schema is at revision {before}, newer than this briefbot "
            f"understands ({head()}): upgrade briefbot"
        )
    if before is None:
        legacy = _legacy_version(conn)
        if legacy is not None:
            if legacy > LEGACY_LATEST:
                raise RuntimeError(
                    f"the database schema is version {legacy}, newer than this briefbot "
                    f"understands: upgrade briefbot"
                )
            before = f"{LEGACY_TABLE} {legacy}"
    command.upgrade(config(conn), target)
    return Migration(before, current_revision(conn))
