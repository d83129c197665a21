"""Seed files → documents with stable paragraph and sentence ids.

A block (text between blank lines) is a byline (`From: …` / `By …`), a photo caption (it
carries a © credit), a heading (a short line without a final full stop) or a body paragraph.
Ids are `<doc>#p<n>` and `<doc>#p<n>.s<m>`, numbered in reading order, so a citation's
paragraph number is what a reader counts in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import frontmatter
import yaml

from bot.engine.text import split_sentences, words
from bot.errors import SeedError

BlockKind = Literal["byline", "caption", "heading", "body", "signoff"]

SEED_SUFFIXES = (".txt", ".md", ".markdown")
MAX_SEED_BYTES = 5 * 1024 * 1024
_BYLINE = re.compile(r"^(?:from|by|author)\s*:?\s+(?P<who>[^\n]{2,80})$", re.IGNORECASE)
_SIGNOFF = re.compile(r"^\((?P<who>[A-ZÀ-Þ][\w .’'\-]{1,60})\)$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_TERMINAL = (".", ":", ";", ",", "…")


@dataclass(slots=True)
class Sentence:
    idx: int
    id: str
    doc: int
    paragraph: int
    position: int
    text: str
    kind: BlockKind


@dataclass(slots=True)
class Paragraph:
    number: int
    kind: BlockKind
    text: str
    sentences: list[int] = field(default_factory=list)
    section: str | None = None
    credit: str | None = None


@dataclass(slots=True)
class Document:
    idx: int
    id: str
    title: str
    path: str
    url: str | None = None
    date: str | None = None
    authors: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    digest: str = ""


def _humanize(stem: str) -> str:
    return re.sub(r"[-_]+", " ", stem).strip().title() or stem


_INTERVIEW_QUESTION = re.compile(r"(?:Q|Question)\s*:\s+\S")
"""`Q: Where did you grow up?` in an interview: context for the `A:` paragraph after it,
never an answer on its own."""


def classify_block(block: str) -> BlockKind:
    line = block.strip()
    if "\n" not in line and _BYLINE.match(line) and len(words(line)) <= 10:
        return "byline"
    if "©" in line or line.lower().startswith(("photo:", "image:", "picture:")):
        return "caption"
    if _SIGNOFF.match(line):
        return "signoff"
    if _MD_HEADING.match(line):
        return "heading"
    if "\n" not in line and _INTERVIEW_QUESTION.match(line) and len(words(line)) <= 80:
        return "heading"  # the interviewer's question heads the answer that follows it
    tail = line.rstrip("\"'”’)]* ")
    if "\n" not in line and len(words(line)) <= 20 and not tail.endswith(_TERMINAL):
        return "heading"
    return "body"


def read_seed_text(path: Path) -> str:
    """Read one seed as UTF-8, refusing what would silently corrupt the index."""
    size = path.stat().st_size
    if size == 0:
        raise SeedError(f"{path.name} is empty.", hint="Add the article text or remove the file.")
    if size > MAX_SEED_BYTES:
        raise SeedError(
            f"{path.name} is {size / 1e6:.1f} MB; seed files must be under 5 MB.",
            hint="Split it into separate articles.",
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise SeedError(f"{path.name} looks like a binary file, not an article.",
                        hint="Seeds must be plain text or Markdown.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeedError(
            f"{path.name} is not valid UTF-8 (byte {exc.start}).",
            hint="Save it as UTF-8 text.",
        ) from None


def parse_document(
    path: Path, idx: int, first_sentence: int, text: str
) -> tuple[Document, list[Sentence]]:
    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise SeedError(f"{path.name}: the front matter is not valid YAML ({exc}).") from None
    meta = post.metadata
    body = post.content.replace("\r\n", "\n")
    doc = Document(idx=idx, id=path.stem, title="", path=str(path),
                   url=str(meta["url"]) if meta.get("url") else None,
                   date=str(meta["date"]) if meta.get("date") else None)
    if meta.get("author"):
        author = meta["author"]
        doc.authors = [str(a) for a in author] if isinstance(author, list) else [str(author)]
    sentences: list[Sentence] = []
    section: str | None = None
    blocks = [b.strip() for b in re.split(r"\n\s*\n", body) if b.strip()]
    for number, block in enumerate(blocks, 1):
        kind = classify_block(block)
        text_ = " ".join(line.strip() for line in block.splitlines())
        credit = None
        if kind == "heading":
            text_ = _MD_HEADING.sub("", text_)
            section = text_
            if not doc.title and _MD_HEADING.match(block) and block.startswith("# "):
                doc.title = text_
        elif kind == "caption":
            text_, _, credit = text_.partition("©")
            text_, credit = text_.strip(), credit.strip() or None
        elif kind == "byline":
            who = _BYLINE.match(text_)
            if who and not doc.authors:
                names = re.split(r",| and ", who.group("who"))
                doc.authors = [a.strip() for a in names if a.strip()]
        elif kind == "signoff":
            who = _SIGNOFF.match(text_)
            if who and not doc.authors:
                doc.authors = [who.group("who").strip()]
        if kind == "heading" and not doc.title and not any(
                p.kind == "body" for p in doc.paragraphs):
            doc.title = text_
        para = Paragraph(number=number, kind=kind, text=text_, section=section, credit=credit)
        pieces = [text_] if kind in ("heading", "byline", "signoff") else split_sentences(text_)
        for position, sentence in enumerate(pieces, 1):
            s_idx = first_sentence + len(sentences)
            sent_kind: BlockKind = kind
            if kind == "body" and _SIGNOFF.match(sentence):
                sent_kind = "signoff"
                if not doc.authors:
                    doc.authors = [sentence.strip("() ")]
            sentences.append(Sentence(idx=s_idx, id=f"{doc.id}#p{number}.s{position}", doc=idx,
                                      paragraph=number, position=position, text=sentence,
                                      kind=sent_kind))
            para.sentences.append(s_idx)
        doc.paragraphs.append(para)
    doc.title = str(meta.get("title") or doc.title or _humanize(path.stem))
    return doc, sentences


def seed_files(seeds_dir: Path) -> list[Path]:
    if not seeds_dir.is_dir():
        raise SeedError(f"The seeds folder {seeds_dir} does not exist.",
                        hint="Create it and put the articles (.txt or .md) in it.")
    files = sorted(
        p for p in seeds_dir.iterdir()
        if p.is_file() and p.suffix.lower() in SEED_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise SeedError(f"The seeds folder {seeds_dir} has no .txt or .md articles.")
    return files
