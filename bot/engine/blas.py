"""BLAS at one thread: on two cores, splitting a product waits for a core that is often busy.

The engine's own matrix work is small (a question's products: a few hundred rows, or one
matrix-vector product in the reduced space at 200,000 sentences) or medium (the principal
directions of a big index, `dense_search.py`). Measured on this 2-core machine with another
process busy: an eigendecomposition of 384 x 384 took 1.9 s on two OpenBLAS threads and
0.05 s on one, a 32,768 x 384 covariance 0.68 s and 0.08 s; `bench/engine_bench.py` measures
answer latency both ways. OpenBLAS's thread count is process-wide, so a per-call context would
race between threads (one restoring two threads while another wants one): the limit is set
once, for the rest of the process, the first time the engine answers or reduces vectors.
Embedding is onnxruntime's and is not affected.
"""

from __future__ import annotations

import logging
from functools import cache

log = logging.getLogger(__name__)

BLAS_THREADS = 1
"""BLAS threads once the engine does matrix work."""


@cache
def limit_blas_threads(threads: int = BLAS_THREADS) -> bool:
    """Limit BLAS to `threads` for the rest of the process (once); False when threadpoolctl
    cannot (the limit only costs speed, never answers)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    except Exception as exc:
        log.warning("cannot limit BLAS threads: %s", exc)
        return False
    return True


__all__ = ["BLAS_THREADS", "limit_blas_threads"]
