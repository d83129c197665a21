"""The word-family builder's rule on fixed links (WordNet itself is a `train` extra)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _builder():
    spec = importlib.util.spec_from_file_location(
        "build_word_families", ROOT / "scripts" / "build_word_families.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_family_joins_only_stems_that_share_their_spelling() -> None:
    families = _builder().families({
        ("kidnapper", "kidnap"), ("valuation", "value"), ("value", "valuate"),
        ("person", "impersonate"), ("investor", "invest"), ("investment", "invest"),
        ("at", "atomize"),  # too short a stem to trust
    })
    assert families["kidnapp"] == "kidnap"
    assert families["investor"] == "invest"
    assert families["valuat"] == "valu"  # one family through the noun "value"
    assert "imperson" not in families and "person" not in families
    assert "atom" not in families
    assert all(len(head) <= len(stem) for stem, head in families.items())


def test_the_shipped_families_map_to_stems_that_are_not_mapped_again() -> None:
    """Each stem goes straight to its family's stem: no chains for `text.term` to follow."""
    stems = json.loads((ROOT / "bot" / "engine" / "model" / "word_families.json")
                       .read_text(encoding="utf-8"))["stems"]
    assert len(stems) > 1000
    assert not set(stems.values()) & set(stems)
