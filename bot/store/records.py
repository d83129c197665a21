"""The store's records as plain data: what it writes and reads back, without SQLAlchemy.

Any layer may name these (a handler queues an `AskedQuestion`, the question log batches
them) without loading the database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AskedQuestion:
    """One question as typed, with what became of it; never who asked it."""

    platform: str
    question: str
    intent: str
    abstained: bool
    answer_id: str | None
    citations_json: str | None
    asked_at: datetime
