"""TEMPORARY minimal index (being replaced by the real engine): BM25 over sentences."""

from __future__ import annotations

import re
from pathlib import Path

import bm25s

from bot.errors import SeedError
from bot.models import Answer, Briefing, BriefingSection, Citation


class KnowledgeIndex:
    def __init__(self, sentences: list[tuple[str, str, int]]) -> None:
        self.sentences = sentences
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([s for s, _, _ in sentences], show_progress=False),
                             show_progress=False)

    def answer(self, question: str) -> Answer:
        docs, scores = self.retriever.retrieve(bm25s.tokenize([question], show_progress=False),
                                               k=min(3, len(self.sentences)), show_progress=False)
        cites = [Citation(document=self.sentences[i][1], paragraph=self.sentences[i][2],
                          quote=self.sentences[i][0]) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]
        if not cites:
            return Answer(question=question, text="The articles don't cover that.", abstained=True,
                          intent="what")
        return Answer(question=question, text=" ".join(c.quote for c in cites), intent="what",
                      citations=cites)

    def who(self, name: str) -> Answer:
        return self.answer(f"who is {name}")

    def people_names(self) -> list[str]:
        return sorted({w for s, _, _ in self.sentences for w in re.findall(r"[A-Z][a-z]+", s)})

    def briefing(self, since: object = None) -> Briefing:
        first = self.sentences[0]
        c = Citation(document=first[1], paragraph=first[2], quote=first[0])
        return Briefing(title="Briefing", text=first[0],
                        sections=[BriefingSection(heading=first[1], lines=[first[0]],
                                                  citations=[c])], citations=[c])


def build_index(seeds_dir: Path, semantic: str = "auto") -> KnowledgeIndex:
    if not Path(seeds_dir).is_dir():
        raise SeedError(f"Seeds folder {seeds_dir} does not exist.")
    sentences = []
    for path in sorted(Path(seeds_dir).glob("*.txt")) + sorted(Path(seeds_dir).glob("*.md")):
        paras = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        for n, para in enumerate(paras, 1):
            for sent in re.split(r"(?<=[.!?])\s+", para):
                sentences.append((sent, path.stem, n))
    return KnowledgeIndex(sentences)
