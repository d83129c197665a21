"""What each article gives the index on its own, kept on disk so a reload redoes only the new.

A reload of 10,000 articles after one was added spent most of its time reading, splitting,
stemming and scanning for names the 9,999 articles it had already read. Those steps depend on
the article alone (and on the engine's code), so their result, an `ArticleFacts`, is kept per
article under a key made of the engine's fingerprint, the file's name and its text; the steps
that join articles (entities merged across articles, roles and quotes, BM25) run on every
build. Entries are pickles in the data directory's cache (which only briefbot writes), written
to a temporary name and renamed; an unreadable or foreign entry is computed again and
rewritten, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from bot.engine.cache_files import entry_path, write_atomic
from bot.engine.documents import Document, Paragraph, Sentence, parse_document
from bot.engine.extract import LocalFacts, SentenceScan, Span, local_facts
from bot.engine.index_cache import engine_fingerprint
from bot.engine.text import content_tokens
from bot.engine.vectors import WordVectors

log = logging.getLogger(__name__)


@dataclass
class ArticleFacts:
    """One article parsed, tokenized and scanned, numbered as if it were the only one
    (document 0, sentences from 0): `place` renumbers it within a corpus."""

    document: Document
    sentences: list[Sentence]
    tokens: list[list[str]]
    """Per sentence: its ranking tokens (`text.content_tokens`)."""
    word_ids: list[list[int]]
    """Per sentence: the word-vector rows of its content words."""
    local: LocalFacts

    def place(self, path: Path, doc_idx: int, first: int) -> None:
        """Number the article as document `doc_idx` whose first sentence is `first` (in
        place: an entry is saved before it is placed)."""
        doc = self.document
        doc.idx, doc.path = doc_idx, str(path)
        for para in doc.paragraphs:
            para.sentences = [first + i for i in para.sentences]
        for s in self.sentences:
            s.idx += first
            s.doc = doc_idx


    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as plain tuples, rebuilt by one call (`_unpack`): unpickling 10,000
        articles' objects one by one took three times as long."""
        return _unpack, (_pack(self),)


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _flat(obj: object, **replaced: object) -> tuple[object, ...]:
    """The object's field values in order, some of them replaced."""
    return tuple(replaced[n] if n in replaced else getattr(obj, n) for n in _names(type(obj)))


def _pack(f: ArticleFacts) -> tuple[object, ...]:
    doc = _flat(f.document, paragraphs=tuple(_flat(p) for p in f.document.paragraphs))
    local = _flat(f.local, spans={k: [_flat(sp) for sp in v] for k, v in f.local.spans.items()},
                  scans={k: _flat(sc) for k, sc in f.local.scans.items()})
    return _flat(f, document=doc, sentences=tuple(_flat(s) for s in f.sentences),
                 local=local)


def _unpack(packed: tuple[Any, ...]) -> ArticleFacts:
    values = dict(zip(_names(ArticleFacts), packed, strict=True))
    doc = dict(zip(_names(Document), values["document"], strict=True))
    doc["paragraphs"] = [Paragraph(*p) for p in doc["paragraphs"]]
    local = dict(zip(_names(LocalFacts), values["local"], strict=True))
    local["spans"] = {k: [Span(*sp) for sp in v] for k, v in local["spans"].items()}
    local["scans"] = {k: SentenceScan(*sc) for k, sc in local["scans"].items()}
    values.update(document=Document(**doc), sentences=[Sentence(*s) for s in values["sentences"]],
                  local=LocalFacts(**local))
    return ArticleFacts(**values)


def compute_facts(path: Path, text: str, word_vectors: WordVectors) -> ArticleFacts:
    """Parse and scan one article (raises SeedError naming the file on bad input)."""
    doc, sentences = parse_document(path, 0, 0, text)
    doc.digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return ArticleFacts(doc, sentences, [content_tokens(s.text) for s in sentences],
                        [word_vectors.ids(s.text) for s in sentences], local_facts(sentences))


class ArticleCache:
    """`ArticleFacts` per article in `folder` (None: nothing is kept)."""

    def __init__(self, folder: Path | None, version: str | None = None) -> None:
        self.folder = folder
        self.version = version if version is not None else engine_fingerprint()

    def key(self, name: str, text: str) -> str:
        h = hashlib.sha256(self.version.encode())
        h.update(b"\x1f" + name.encode("utf-8", "surrogatepass") + b"\x1e")
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:40]

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return entry_path(self.folder, key, ".pickle")

    def load(self, key: str) -> ArticleFacts | None:
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        try:
            found = pickle.loads(blob)
        except Exception as exc:
            log.warning("article cache entry %s unreadable (%s); reading the article again",
                        path.name, exc)
            return None
        return found if isinstance(found, ArticleFacts) else None

    def save(self, key: str, facts: ArticleFacts) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        try:
            write_atomic(path, lambda fh: pickle.dump(facts, fh, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:  # a read-only or full disk costs speed, not answers
            log.warning("cannot write the article cache in %s: %s", self.folder, exc)


__all__ = ["ArticleCache", "ArticleFacts", "compute_facts"]
