"""The ack of an answer, rendered once per index version, command and question."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from bot.adapters.slack.render import render
from bot.adapters.slack.requests import response_type
from bot.ids import new_id
from bot.models import Answer, Result

ACK_CACHE_SIZE = 256
"""Distinct (command, question) acks kept per index version, least recently used dropped."""
ACK_CACHE_MAX_CHARS = 32_000
"""A longer ack (a huge answer) is rendered each time rather than kept."""


def ack_body(result: Result) -> str:
    """The JSON body of the ack for `result`, exactly as slack-bolt's `ack()` would write it."""
    message = render(result)
    return json.dumps({"text": message["text"], "response_type": response_type(result),
                       "blocks": message["blocks"]})


class AckCache:
    """The serialised ack of an answer, rendered once per index version, command and question.

    An answer is a pure function of the index and the text asked (the engine memoizes it the
    same way), so its Block Kit message is too, but for one thing: each answer shown carries
    its own `answer_id` in the Share and vote buttons (share-once and votes are per answer
    shown). So the message is rendered with a stand-in id and kept as the pieces around it;
    each request joins them with its own id, about 1 µs instead of rendering and
    `json.dumps` (about 35 µs for the benchmark's 3.6 kB answer).

    An entry is used only if the answer is the one it was rendered from (same text, title,
    citations: identity checks, as the engine hands out copies of one memoized answer), so a
    reload (new version), or an engine that answers differently, renders afresh.
    """

    def __init__(self, size: int = ACK_CACHE_SIZE) -> None:
        self.size = size
        self.version: int | None = None
        self._entries: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], list[str]]] = (
            OrderedDict())
        self.renders = 0  # how many times an answer was rendered (tests, benchmarks)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _fingerprint(answer: Answer) -> tuple[Any, ...]:
        return (answer.text, answer.title, answer.citations, answer.abstained, answer.intent,
                answer.suggestions, answer.question, answer.source_command)

    def body(self, command: str, text: str, answer: Answer) -> str:
        """The ack's JSON for `answer` (to /`command` `text`), with the answer's own id."""
        if answer.index_version != self.version:
            self._entries.clear()
            self.version = answer.index_version
        key = (command, text)
        entry = self._entries.get(key)
        fingerprint = self._fingerprint(answer)
        if entry is None or not _same(entry[0], fingerprint):
            pieces = self._pieces(answer)
            if pieces is None:
                return ack_body(answer)
            entry = self._entries[key] = (fingerprint, pieces)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return answer.answer_id.join(entry[1])

    def _pieces(self, answer: Answer) -> list[str] | None:
        """The ack split around the answer id; None when that cannot be done safely (the id
        stand-in also occurs in the text, or the ack is too long to keep)."""
        self.renders += 1
        first, second = new_id(), new_id()
        pieces = ack_body(answer.model_copy(update={"answer_id": first})).split(first)
        check = ack_body(answer.model_copy(update={"answer_id": second})).split(second)
        if pieces != check or sum(map(len, pieces)) > ACK_CACHE_MAX_CHARS:
            return None
        return pieces


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal fingerprints; the usual case (the same memoized answer) is identity checks."""
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


