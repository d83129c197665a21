"""The built corpus: documents, sentences, entities and a BM25 ranker over sentences.

Data and lookups only. Answering lives in `bot.engine.engine`, which imports this module
(as do answer, briefing, decide...); this module imports none of them, so the engine's
modules form no import cycle (`tests/test_engine_imports.py` checks it).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from bot.engine.article_cache import ArticleCache, ArticleFacts, compute_facts
from bot.engine.curation import Curation, load_curation
from bot.engine.dense_search import LazyCosines, ReducedVectors, reduce_vectors
from bot.engine.documents import Document, Sentence, read_seed_text, seed_files
from bot.engine.embedder import load_embedder
from bot.engine.extract import Entity, Extraction, LocalFacts, corpus_noninitial, extract, settle
from bot.engine.gazetteer import release_detector
from bot.engine.gcpause import no_cyclic_gc
from bot.engine.lexical import FastBM25
from bot.engine.text import content_tokens, fold
from bot.engine.vector_cache import EmbedReport, VectorCache, embed_grouped
from bot.engine.vectors import WordVectors, load_word_vectors, sentence_word_ids

ANSWERABLE = frozenset({"body"})
_EMPTY = "\u2400"


@dataclass
class Corpus:
    documents: list[Document]
    sentences: list[Sentence]
    extraction: Extraction
    curation: Curation
    tokens: list[list[str]]
    ranker: bm25s.BM25
    df: Counter[str]
    answerable: np.ndarray
    synonyms: dict[str, set[str]]
    section_heading: np.ndarray
    texts: list[str]
    para_start: np.ndarray
    """Per sentence: index of the first sentence of its paragraph."""
    para_end: np.ndarray
    """Per sentence: one past the last sentence of its paragraph."""
    paragraph_starts: np.ndarray
    """First sentence of each paragraph, in order (for per-paragraph reductions)."""
    paragraph_of: np.ndarray
    """Per sentence: the ordinal of its paragraph in `paragraph_starts`."""
    doc_position: np.ndarray
    """Per sentence: 1 at the start of its document, falling towards 0 at its end."""
    word_vectors: WordVectors
    dense: np.ndarray
    """Per sentence: its unit MiniLM vector (`embedder.py`), float32, one row a sentence."""
    sentence_word_ids: list[list[int]]
    """Per sentence: the word-vector rows of its content words."""
    embed_report: EmbedReport = field(default_factory=EmbedReport)
    """How many articles' vectors were embedded for this build and how many were cached."""
    build_seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    reduced: ReducedVectors | None = None
    """Above `dense_search.EXACT_LIMIT` sentences: the vectors' principal subspace, for the
    two-pass dense search; None below it (every cosine exact)."""

    # -- pickling (the index cache) ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The data only: the shared word vectors are loaded again, and what is computed
        on demand (memos, lookups) is computed again."""
        state = {f.name: getattr(self, f.name) for f in fields(Corpus)}
        state["word_vectors"] = None
        state["stats"] = {}
        # float16 loses nothing: the vectors were rounded to it (`vector_cache.py`)
        state["dense"] = self.dense.astype(np.float16)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.word_vectors = load_word_vectors()
        self.dense = self.dense.astype(np.float32)

    # -- lookups ------------------------------------------------------------------------
    @cached_property
    def person_aliases(self) -> dict[str, str]:
        """Folded alias → person key, for fuzzy name lookup (built once per index)."""
        return {fold(a): p.key for p in self.people() for a in p.aliases}

    @cached_property
    def first_names(self) -> dict[str, str]:
        return {fold(p.name.split()[0]): p.key for p in self.people() if len(p.name.split()) > 1}

    @cached_property
    def all_aliases(self) -> list[str]:
        return sorted({fold(a) for e in self.entities.values() for a in e.aliases})

    @cached_property
    def attributed(self) -> np.ndarray:
        """Per sentence: does the text attribute it to someone (a quote, 'according to')?"""
        mask = np.zeros(len(self.sentences), dtype=bool)
        mask[list(self.extraction.attributions)] = True
        return mask

    @cached_property
    def sentence_at(self) -> dict[str, int]:
        """Sentence id (as cited in `Citation.sentence_ids`) → its index."""
        return {s.id: s.idx for s in self.sentences}

    @property
    def entities(self) -> dict[str, Entity]:
        return self.extraction.entities

    def people(self) -> list[Entity]:
        return self._people

    @cached_property
    def _people(self) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind == "person"]

    def people_names(self) -> list[str]:
        """People by how often they are mentioned: autocomplete and suggestions."""
        return self._people_names

    @cached_property
    def _people_names(self) -> list[str]:
        return [e.name for e in sorted(self.people(), key=lambda e: (-len(e.mentions), e.name))]

    def idf(self, term: str) -> float:
        n = len(self.sentences)
        return math.log((n + 1) / (self.df.get(term, 0) + 0.5))

    def covered(self, term_stem: str) -> bool:
        return term_stem in self.df

    def expand(self, folded_word: str) -> set[str]:
        """Stems of the curated and general synonyms of a question word."""
        out: set[str] = set()
        for syn in self.synonyms.get(folded_word, set()):
            out.update(content_tokens(syn))
        return out

    def scores(self, query_stems: list[str]) -> np.ndarray:
        known = [t for t in query_stems if t in self.df]
        if not known:
            return np.zeros(len(self.sentences), dtype=np.float32)
        return np.asarray(self.ranker.get_scores(known), dtype=np.float32)

    def cosines(self, question: str) -> np.ndarray | LazyCosines:
        """Per sentence: the cosine (float32) between its MiniLM vector and the question's:
        all at once with one product, or, above `dense_search.EXACT_LIMIT` sentences, each
        computed when read (`LazyCosines`). The last few questions' cosines are kept: one
        question may be scored more than once (a reasons question and its topic, a who-said
        question with and without its filter). Read-only."""
        memo, lock = self._question_cosines
        with lock:
            found = memo.get(question)
        if found is None:
            query = load_embedder().embed_one(question)
            if self.reduced is not None:
                found = LazyCosines(self.dense, self.reduced, query)
            else:
                found = self.dense @ query
                found.flags.writeable = False
            with lock:
                memo[question] = found
                while len(memo) > 4:
                    memo.pop(next(iter(memo)))
        return found

    @cached_property
    def _question_cosines(self) -> tuple[dict[str, np.ndarray | LazyCosines], threading.Lock]:
        return {}, threading.Lock()

    def digest(self) -> dict[str, str]:
        return {d.id: d.digest for d in self.documents}

    # -- for curators -------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "documents": [{"id": d.id, "title": d.title, "authors": d.authors, "url": d.url,
                           "date": d.date, "paragraphs": len(d.paragraphs)}
                          for d in self.documents],
            "people": [{"name": e.name, "role": e.role, "aliases": sorted(e.aliases),
                        "descriptions": sorted(e.descriptions), "mentions": len(e.mentions),
                        "quotes": [self.sentences[i].text for i in e.quotes],
                        "outlets": sorted(e.outlets)}
                       for e in sorted(self.people(), key=lambda e: -len(e.mentions))],
            "organisations": sorted(e.name for e in self.entities.values() if e.kind == "org"),
            "places": sorted(e.name for e in self.entities.values() if e.kind == "place"),
            "outlets": sorted(self.extraction.outlets),
            "sentences": len(self.sentences),
            "build_seconds": round(self.build_seconds, 3),
            "vectors": self.embed_report.as_dict(),
        }

    def describe(self) -> str:
        s = self.summary()
        v = s["vectors"]
        lines = [f"{len(s['documents'])} document(s), {s['sentences']} sentences, "
                 f"built in {s['build_seconds']} s (sentence vectors: {v['embedded']} "
                 f"article(s) embedded, {v['cached']} from the cache)", ""]
        lines += [f"  {d['id']}: {d['title']} (by {', '.join(d['authors']) or 'unknown'}, "
                  f"{d['paragraphs']} paragraphs)" for d in s["documents"]]
        lines += ["", "People:"]
        for p in s["people"]:
            lines.append(f"  {p['name']} — {p['role'] or 'no role found'}")
            lines.append(f"      aliases: {', '.join(p['aliases'])}")
            if p["outlets"]:
                lines.append(f"      talked to: {', '.join(p['outlets'])}")
            for q in p["quotes"]:
                lines.append(f"      quote: {q}")
        lines += ["", "Organisations: " + ", ".join(s["organisations"]),
                  "Places: " + ", ".join(s["places"]),
                  "Outlets: " + ", ".join(s["outlets"])]
        return "\n".join(lines)


def _layout(documents: list[Document], n: int) -> dict[str, np.ndarray]:
    """Paragraph bounds and document position of every sentence, as arrays."""
    para_start = np.zeros(n, dtype=np.int64)
    para_end = np.zeros(n, dtype=np.int64)
    doc_position = np.zeros(n, dtype=np.float64)
    starts: list[int] = []
    for doc in documents:
        ids = [i for p in doc.paragraphs for i in p.sentences]
        for k, i in enumerate(ids):
            doc_position[i] = 1.0 - k / max(1, len(ids))
        for p in doc.paragraphs:
            if p.sentences:
                para_start[p.sentences] = p.sentences[0]
                para_end[p.sentences] = p.sentences[-1] + 1
                starts.append(p.sentences[0])
    paragraph_starts = np.asarray(sorted(starts), dtype=np.int64)
    paragraph_of = np.searchsorted(paragraph_starts, np.arange(n), side="right") - 1
    return {"para_start": para_start, "para_end": para_end, "paragraph_starts": paragraph_starts,
            "paragraph_of": np.maximum(paragraph_of, 0), "doc_position": doc_position}


def _apply_curation(curation: Curation, extraction: Extraction, sentences: list[Sentence],
                    answerable: np.ndarray) -> None:
    for fix in curation.entities:
        key = extraction.alias_index.get(fold(fix.name)) or f"{fix.kind}:{fold(fix.name)}"
        ent = extraction.entities.get(key)
        if ent is None:
            ent = Entity(key=key, name=fix.name, kind=fix.kind, aliases={fix.name})
            extraction.entities[key] = ent
            needles = [fold(a) for a in {fix.name, *fix.aliases}]
            ent.mentions = [s.idx for s in sentences if any(n in fold(s.text) for n in needles)]
        if fix.role:
            ent.role, ent.role_sentence = fix.role, None
        if fix.description:
            ent.note = fix.description
        for alias in {fix.name, *fix.aliases}:
            ent.aliases.add(alias)
            extraction.alias_index[fold(alias)] = key
    hidden = {h.strip() for h in curation.hide}
    for s in sentences:
        if s.id in hidden or s.text.strip() in hidden:
            answerable[s.idx] = False


def _sentence_vectors(documents: list[Document], sentences: list[Sentence],
                      cache_dir: Path | None) -> tuple[np.ndarray, EmbedReport]:
    """MiniLM vectors of every sentence, article by article through the vector cache."""
    embedder = load_embedder()
    cache = VectorCache(cache_dir / "vectors" if cache_dir else None, embedder.version)
    groups: list[list[str]] = [[] for _ in documents]
    for s in sentences:
        groups[s.doc].append(s.text)
    return embed_grouped(groups, embedder.dims, embedder.embed_groups, cache)


class _Clock:
    """Seconds spent in each stage of a build (for `stats["stages"]`, the bench's breakdown)."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self._last
        self._last = now


@dataclass
class Prepared:
    """What the articles give on their own (`article_cache.py`), numbered in the corpus."""

    tokens: list[list[str]]
    word_ids: list[list[int]]
    facts: list[LocalFacts]
    firsts: list[int]
    """Per article: the number of its first sentence."""


def _read_articles(files: list[Path], cache: ArticleCache, word_vectors: WordVectors,
                   counts: dict[str, int]) -> list[ArticleFacts]:
    """Every article's facts, from the cache or computed (and then saved), settled against
    the whole corpus (see `extract.settle`)."""
    facts: list[ArticleFacts] = []
    keys: list[str] = []
    dirty: list[int] = []
    computed = 0
    for path in files:
        text = read_seed_text(path)
        key = cache.key(path.name, text)
        found = cache.load(key)
        if found is None:
            found = compute_facts(path, text, word_vectors)
            dirty.append(len(facts))
            computed += 1
        facts.append(found)
        keys.append(key)
    noninitial = corpus_noninitial(f.local for f in facts)
    for k, f in enumerate(facts):
        settled = settle(f.local, f.sentences, noninitial)
        if settled is not f.local:
            f.local = settled
            dirty.append(k)
    for k in sorted(set(dirty)):
        cache.save(keys[k], facts[k])
    counts["read"] = computed
    counts["cached"] = len(files) - computed
    counts["rescanned"] = len(set(dirty)) - computed
    return facts


def build_corpus(seeds_dir: Path | str, cache_dir: Path | None = None) -> Corpus:
    """Read every seed, extract, and index. Raises SeedError naming the file on bad input.
    With `cache_dir`, what each unchanged article gives on its own (parse, tokens, names,
    sentence vectors) is read from there."""
    with no_cyclic_gc():
        return _build_corpus(Path(seeds_dir), cache_dir)


def _build_corpus(seeds_dir: Path, cache_dir: Path | None) -> Corpus:
    started = time.perf_counter()
    files = seed_files(seeds_dir)
    curation = load_curation(seeds_dir)
    cache = ArticleCache(cache_dir / "articles" if cache_dir else None)
    clock, counts = _Clock(), {}
    facts = _read_articles(files, cache, load_word_vectors(), counts)
    documents: list[Document] = []
    sentences: list[Sentence] = []
    prepared = Prepared([], [], [], [])
    for path, f in zip(files, facts, strict=True):
        prepared.firsts.append(len(sentences))
        f.place(path, len(documents), len(sentences))
        documents.append(f.document)
        sentences.extend(f.sentences)
        prepared.tokens.extend(f.tokens)
        prepared.word_ids.extend(f.word_ids)
        prepared.facts.append(f.local)
    clock.lap("articles")
    corpus = index_documents(documents, sentences, curation, started, cache_dir, prepared, clock)
    corpus.stats["articles"] = counts
    return corpus


def index_documents(documents: list[Document], sentences: list[Sentence], curation: Curation,
                    started: float | None = None, cache_dir: Path | None = None,
                    prepared: Prepared | None = None, clock: _Clock | None = None) -> Corpus:
    started = started if started is not None else time.perf_counter()
    clock = clock or _Clock()
    word_vectors = load_word_vectors()
    texts = [s.text for s in sentences]
    if prepared is None:
        extraction = extract(documents, sentences)
        tokens = [content_tokens(t) for t in texts]
        word_ids = sentence_word_ids(word_vectors, texts)
    else:
        extraction = extract(documents, sentences, (prepared.facts, prepared.firsts))
        tokens, word_ids = prepared.tokens, prepared.word_ids
    clock.lap("extract")
    release_detector()
    answerable = np.array([s.kind in ANSWERABLE for s in sentences], dtype=bool)
    _apply_curation(curation, extraction, sentences, answerable)
    df: Counter[str] = Counter()
    for toks in tokens:
        df.update(set(toks))
    ranker = FastBM25()
    ranker.index([t or [_EMPTY] for t in tokens], show_progress=False)
    clock.lap("bm25")
    synonyms = {fold(k): {fold(v) for v in vs} for k, vs in curation.synonyms.items()}
    for k, vs in list(synonyms.items()):
        for v in vs:
            synonyms.setdefault(v, set()).add(k)
    section_heading = np.full(len(sentences), -1, dtype=np.int64)
    for doc in documents:
        heading = -1
        for para in doc.paragraphs:
            if para.kind == "heading" and para.sentences:
                heading = para.sentences[0]
            elif para.kind == "body":
                section_heading[para.sentences] = heading
    layout = _layout(documents, len(sentences))
    clock.lap("layout")
    dense, report = _sentence_vectors(documents, sentences, cache_dir)
    clock.lap("vectors")
    reduced = reduce_vectors(dense)
    clock.lap("reduce")
    corpus = Corpus(documents=documents, sentences=sentences, extraction=extraction,
                    curation=curation, tokens=tokens, ranker=ranker, df=df,
                    answerable=answerable, synonyms=synonyms,
                    section_heading=section_heading, texts=texts,
                    word_vectors=word_vectors, dense=dense,
                    sentence_word_ids=word_ids,
                    embed_report=report, reduced=reduced, **layout)
    corpus.build_seconds = time.perf_counter() - started
    corpus.stats["stages"] = clock.stages
    return corpus


__all__ = ["Corpus", "build_corpus", "index_documents"]
