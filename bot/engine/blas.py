"""BLAS threads while answering: one, so a question's small products never wait for a core.

A question's matrix products are small (a few hundred rows, or one matrix-vector product in
the reduced space at 200,000 sentences); splitting them across OpenBLAS threads costs a
hand-off per call, and on two cores the other core is often busy (a reload, the chat
library, another process), so the split waits for it. `bench/engine_bench.py` measures the
answer latency both ways. The limit is set once per process (OpenBLAS's thread count is
process-wide, so a per-question context would race between threads) and only when the
engine first answers: a process that only builds indexes keeps every thread.
"""

from __future__ import annotations

import logging
from functools import cache

log = logging.getLogger(__name__)

SERVING_THREADS = 1
"""BLAS threads once the process answers questions."""


@cache
def limit_for_serving(threads: int = SERVING_THREADS) -> bool:
    """Limit BLAS to `threads` for the rest of the process (once); False when threadpoolctl
    cannot (the limit only costs speed, never answers)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    except Exception as exc:
        log.warning("cannot limit BLAS threads: %s", exc)
        return False
    return True


__all__ = ["SERVING_THREADS", "limit_for_serving"]
