"""The durable store: `await open_store(settings)` gives a migrated `Store`.

SQLite file by default (WAL mode, so a killed process loses no committed write); PostgreSQL
with `DATABASE_URL=postgresql+asyncpg://user:pass@host/db` for several replicas. Opening is
`connect.py`; `store.py` is the `Store`, one module a concern under it; `records.py` the
plain data they read and write.

The names below load on first use, so a module that only names a record or a claim key
(`from bot.store.records import MESSAGE_CLAIM`, as the handlers do) does not load SQLAlchemy:
`briefbot ask` never opens a store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.connect import create_engine_for, open_store, open_store_url
    from bot.store.migrations import Migration
    from bot.store.questions import normalize_question
    from bot.store.records import FeedState, GapGroup, Known, LastDelivery, Subscription
    from bot.store.store import Store

_HOME = {
    "create_engine_for": "bot.store.connect",
    "open_store": "bot.store.connect",
    "open_store_url": "bot.store.connect",
    "Migration": "bot.store.migrations",
    "normalize_question": "bot.store.questions",
    "FeedState": "bot.store.records",
    "GapGroup": "bot.store.records",
    "Known": "bot.store.records",
    "LastDelivery": "bot.store.records",
    "Subscription": "bot.store.records",
    "Store": "bot.store.store",
}


def __getattr__(name: str) -> Any:
    """`from bot.store import open_store` imports the module that holds it, on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "FeedState",
    "GapGroup",
    "Known",
    "LastDelivery",
    "Migration",
    "Store",
    "Subscription",
    "create_engine_for",
    "normalize_question",
    "open_store",
    "open_store_url",
]
