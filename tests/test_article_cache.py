"""Per-article facts kept between builds: only new or changed articles are read again."""

from __future__ import annotations

import pickle
from pathlib import Path

from bot.engine.article_cache import ArticleCache, ArticleFacts
from bot.engine.corpus import Corpus, build_corpus

A = ("From: Ana Example\n\nGdansk officials said the harbour talks had stalled again.\n\n"
     "Jane Roe, a historian at Example University, said the treaty was signed in March. "
     "“It will not hold,” Roe told Reuters.\n")
B = ("Talks in Gdansk stalled on Monday, said Peter Vogel, the head of the port agency.\n\n"
     "According to Vogel, the harbour needs new cranes.\n")


def _seeds(tmp_path: Path, **articles: str) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    for name, text in articles.items():
        (seeds / f"{name}.txt").write_text(text, encoding="utf-8")
    return seeds


def _facts(c: Corpus) -> dict[str, object]:
    """What the extraction and the tokens say, comparable between two builds."""
    ents = {k: (e.name, e.kind, e.role, sorted(e.aliases), e.mentions, e.quotes,
                sorted(e.outlets), sorted(e.docs)) for k, e in c.extraction.entities.items()}
    return {"entities": ents, "alias": c.extraction.alias_index,
            "attributions": {i: (a.label, a.person, a.direct, a.outlet)
                             for i, a in c.extraction.attributions.items()},
            "people": c.extraction.sentence_people, "outlets": sorted(c.extraction.outlets),
            "tokens": c.tokens, "words": c.sentence_word_ids,
            "sentences": [(s.idx, s.id, s.doc, s.paragraph, s.text, s.kind) for s in c.sentences],
            "paragraphs": [[(p.number, p.sentences) for p in d.paragraphs] for d in c.documents],
            "docs": [(d.idx, d.id, d.title, d.path, d.digest, d.authors) for d in c.documents]}


def test_an_unchanged_article_comes_from_the_cache_and_a_changed_one_is_read(
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seeds = _seeds(tmp_path, a=A, b=B)
    cold = build_corpus(seeds, cache)
    assert cold.stats["articles"] == {"read": 2, "cached": 0, "rescanned": 0}
    warm = build_corpus(seeds, cache)
    assert warm.stats["articles"] == {"read": 0, "cached": 2, "rescanned": 0}
    assert _facts(warm) == _facts(cold) == _facts(build_corpus(seeds))
    _seeds(tmp_path, b=B.replace("Peter Vogel", "Petra Vogel"))
    edited = build_corpus(seeds, cache)
    assert edited.stats["articles"] == {"read": 1, "cached": 1, "rescanned": 0}
    assert "person:petra vogel" in edited.extraction.entities
    assert _facts(edited) == _facts(build_corpus(seeds))


def test_an_article_read_alone_is_scanned_again_when_another_changes_its_names(
        tmp_path: Path) -> None:
    """Alone, `Gdansk officials` opening a sentence is just the start of a sentence; once
    another article names Gdansk mid-sentence, it is a name there too."""
    cache = tmp_path / "cache"
    seeds = _seeds(tmp_path, a=A)
    alone = build_corpus(seeds, cache)
    opening = alone.sentence_at["a#p2.s1"]
    assert all(opening not in e.mentions for e in alone.extraction.entities.values()
               if e.kind == "place")
    _seeds(tmp_path, b=B)
    grown = build_corpus(seeds, cache)
    assert grown.stats["articles"] == {"read": 1, "cached": 1, "rescanned": 1}
    gdansk = grown.extraction.entities[grown.extraction.alias_index["gdansk"]]
    assert grown.sentence_at["a#p2.s1"] in gdansk.mentions
    assert _facts(grown) == _facts(build_corpus(seeds))
    again = build_corpus(seeds, cache)  # the rescanned facts were saved
    assert again.stats["articles"] == {"read": 0, "cached": 2, "rescanned": 0}


def test_a_corrupt_or_foreign_entry_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seeds = _seeds(tmp_path, a=A, b=B)
    cold = build_corpus(seeds, cache)
    entries = sorted((cache / "articles").rglob("*.pickle"))
    assert len(entries) == 2
    entries[0].write_bytes(b"\x80\x05not a pickle")
    entries[1].write_bytes(pickle.dumps({"not": "facts"}))
    rebuilt = build_corpus(seeds, cache)
    assert rebuilt.stats["articles"] == {"read": 2, "cached": 0, "rescanned": 0}
    assert _facts(rebuilt) == _facts(cold)
    assert all(isinstance(pickle.loads(p.read_bytes()), ArticleFacts) for p in entries)


def test_keys_depend_on_the_engine_the_name_and_the_text(tmp_path: Path) -> None:
    one, other = ArticleCache(tmp_path, "engine-1"), ArticleCache(tmp_path, "engine-2")
    assert one.key("a.txt", A) == one.key("a.txt", A)
    assert len({one.key("a.txt", A), one.key("b.txt", A), one.key("a.txt", A + " "),
                other.key("a.txt", A)}) == 4
    assert ArticleCache(None).load(one.key("a.txt", A)) is None
