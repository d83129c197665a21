"""The engine's process settings: BLAS threads once it answers, the GC paused in a build, the
given-names detector dropped after extraction."""

from __future__ import annotations

import gc
from pathlib import Path

from threadpoolctl import threadpool_info

from bot.engine.blas import BLAS_THREADS, limit_blas_threads
from bot.engine.gazetteer import _detector
from bot.engine.gcpause import no_cyclic_gc
from bot.engine.index import build_index

ROOT = Path(__file__).resolve().parent.parent


def test_answering_leaves_blas_at_the_engines_thread_count() -> None:
    build_index(ROOT / "seeds").compute("ask", "who is Tertitskiy")
    assert limit_blas_threads() is True
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == BLAS_THREADS for i in blas)


def test_the_collector_is_paused_inside_and_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    try:
        with no_cyclic_gc():
            assert not gc.isenabled()
            with no_cyclic_gc():  # nested: the outer one restores
                pass
            assert not gc.isenabled()
            raise ValueError("bad seed")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_build_drops_the_given_names_detector_and_a_later_lookup_reloads_it() -> None:
    index = build_index(ROOT / "seeds")
    assert _detector.cache_info().currsize == 0  # released before the vectors' peak
    assert index.answer("who is Tertitskiy").citations
    assert _detector().get_gender("Anna") != "unknown"
