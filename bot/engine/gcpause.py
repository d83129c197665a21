"""The cyclic garbage collector paused while the engine makes or loads a big index.

A build or an index load allocates millions of small objects (tokens, spans, sentences) that
all stay alive; every full collection meanwhile walks each of them again: at 10,000 articles
that was a third of a reload's time. Reference counting still frees everything else, and
whatever cycles were made are collected once the collector is on again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["no_cyclic_gc"]
