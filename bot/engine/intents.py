"""What kind of answer a question asks for, and what it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine.text import fold

_SPEAK = r"(?:say|said|says|tell|told|think|thinks|believe|believes|claim|claimed|argue|argued|warn|warned|predict|predicted|suggest|suggested|mean|meant)"
_QUOTE = [
    re.compile(rf"^what (?:did|does|has|had|do|is|was) (?P<x>.+?) (?:also )?{_SPEAK}\b(?P<rest>.*)$"),
    re.compile(r"^(?:quotes?|statements?|comments?) (?:by|from|of) (?P<x>.+)$"),
    re.compile(r"^what (?:are|were) (?P<x>.+?)(?:'s|s') (?:views?|opinions?|quotes?|comments?|words)(?P<rest>.*)$"),
    re.compile(r"^how (?:did|does) (?P<x>.+?) (?:see|view|assess|judge|describe)\b(?P<rest>.*)$"),
]
_WHO_SAID = re.compile(rf"^who (?:{_SPEAK}|doubts?|questions?|warns?|thinks?|expects?)\b(?P<rest>.*)$")
_WHO = [
    re.compile(r"^(?:who|what) (?:is|was|are|were|'s) (?P<x>.+)$"),
    re.compile(r"^who'?s (?P<x>.+)$"),
    re.compile(r"^(?:tell me about|who is|describe|profile of|what do we know about|what about) (?P<x>.+)$"),
    re.compile(r"^what (?:is|was) (?P<x>.+?)(?:'s|s') (?:role|job|title|position)$"),
    re.compile(r"^what (?:does|did) (?P<x>.+?) do$"),
]
_AUTHOR = re.compile(r"^(?:who (?:is|was|are) the (?:author|writer|reporter|journalist)s?|who (?:wrote|authored|reported) (?:this|the|it)\b.*|(?:the )?authors?|byline)$")


@dataclass(frozen=True)
class Intent:
    kind: str  # who | author | summary | people | quote | who_said | reasons | why | when | where | how_much | how | yesno | what
    subject: str | None = None
    rest: str = ""


def normalize_question(question: str) -> str:
    q = fold(question).strip()
    q = re.sub(r"[?!.\s]+$", "", q)
    return re.sub(r"\s+", " ", q)


_SUMMARY = re.compile(r"^(?:(?:please |can you |could you )?(?:summari[sz]e|sum up|recap|brief me"
                      r"|give me (?:the |a )?(?:background|summary|overview|gist|rundown|tl;?dr)"
                      r"|tl;?dr|summary|overview|background|gist|main points|key points"
                      r"|what(?:'s| is| are) (?:this|the|these) (?:articles?|story|stories|news) about)"
                      r"\b.*|what happened)$")
_REASON_NOUNS = (r"(?:reasons?|risks?|obstacles?|challenges?|problems?|hurdles?|dangers?|threats?"
                 r"|causes?|drivers?|factors?|downsides?|concerns?|difficult(?:y|ies)|barriers?"
                 r"|pitfalls?|weak(?:ness|nesses)|stumbling blocks?|sticking points?)")
_REASONS = [
    # "why might the deal fail", "why could talks collapse": a why with a modal asks what
    # could make it so, which articles give as several reasons
    re.compile(r"^why (?:might|could|would|may|will|can|should) (?P<x>.+)$"),
    re.compile(rf"^what (?:are|were|is|'s|might be|could be) (?:the |some |any )?(?:main |key |biggest |major |possible |potential )?{_REASON_NOUNS} (?:of|to|for|with|behind|facing|in|against|about) (?P<x>.+)$"),
    re.compile(rf"^(?:list |name )?(?:the )?{_REASON_NOUNS} (?:of|to|for|with|behind|facing) (?P<x>.+)$"),
    re.compile(r"^what (?:stands?|stood|is|could stand|might stand) in the way of (?P<x>.+)$"),
    re.compile(r"^what (?:could|might|would|can) (?:go wrong|stop|derail|block|prevent|hinder|"
               r"endanger|threaten|jeopardi[sz]e|undermine|sink|kill|delay|cause)\b(?P<x>.*)$"),
    re.compile(r"^what(?:'s| is| are) (?:causing|driving|behind|holding (?:back|up)|making|keeping|"
               r"stopping|preventing) (?P<x>.+)$"),
    re.compile(r"^why (?:is|are|was|were|did|does|do|has|have) (?P<x>.+) (?:fail(?:ing|ed)?|"
               r"struggl(?:e|ing|ed)|stall(?:ing|ed)?|in trouble|at risk|doubtful|unlikely)$"),
]
_PEOPLE = re.compile(r"^who (?:is|are|was|were|'s) (?:involved|mentioned|named|quoted|in (?:the|this|these) (?:articles?|story|stories|news))$")


def classify(question: str) -> Intent:
    q = normalize_question(question)
    if _AUTHOR.match(q):
        return Intent("author")
    if _SUMMARY.match(q):
        return Intent("summary")
    if _PEOPLE.match(q):
        return Intent("people")
    for rx in _QUOTE:
        m = rx.match(q)
        if m:
            return Intent("quote", m.group("x").strip(), (m.groupdict().get("rest") or "").strip())
    m = _WHO_SAID.match(q)
    if m:
        return Intent("who_said", None, m.group("rest").strip())
    for rx in _REASONS:
        m = rx.match(q)
        if m:
            return Intent("reasons", (m.groupdict().get("x") or "").strip() or None)
    first = q.split(" ", 1)[0] if q else ""
    if first == "why":
        return Intent("why")
    if first == "who":
        for rx in _WHO:
            m = rx.match(q)
            if m:
                return Intent("who", m.group("x").strip())
        return Intent("who_said", None, q[4:])
    if first == "when" or re.match(r"^(?:what|which) (?:time|date|day|month|year)\b", q):
        return Intent("when")
    if first == "where" or re.match(r"^(?:what|which) (?:city|country|place|location|town)\b", q):
        return Intent("where")
    if re.match(r"^how (?:much|many|far|long|big|large)\b", q):
        return Intent("how_much")
    if first == "how":
        return Intent("how")
    for rx in _WHO[2:]:
        m = rx.match(q)
        if m:
            return Intent("who", m.group("x").strip())
    if first in {"is", "are", "was", "were", "will", "would", "could", "can", "does", "do", "did",
                 "has", "have", "should", "might", "may"}:
        return Intent("yesno")
    return Intent("what")
