"""Reading a chat message in the context of its conversation (pure: text in, question out).

People follow up the way they talk: "what did he say?" after "who is Rüdiger Frank", "why?"
after an answer about the meeting, "tell me more". A follow-up is rewritten into a question
the engine can answer on its own, from the little the conversation keeps: the last question,
the person it was about, its topic words and the sentences already shown.

The word lists here are English grammar (pronouns, question words), not anything from an
article: the subject and topic always come from the conversation itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel

from bot.context.conversations import Context
from bot.engine.lexicon import GENERIC_QUESTION_TERMS, QUESTION_WORDS
from bot.engine.text import STOPWORDS, fold, words

MAX_SHOWN_KEPT = 60
"""Sentence ids remembered for "tell me more"; more than a few rounds is never needed."""

_MORE = re.compile(
    r"^(?:(?:ok(?:ay)?|and|so|please|pls|thanks|thank you)[\s,]+)*"
    r"(?:tell me more|more|say more|go on|continue|keep going|what else|anything else|"
    r"and\s+then|more please|more details?|details|elaborate)"
    r"(?:\s+(?:about|on)\s+(?:it|that|this|him|her|them))?"
    r"(?:[\s,]+please)?[\s?.!]*$",
    re.IGNORECASE,
)
_WHAT_ABOUT = re.compile(
    r"^(?:and|so|ok(?:ay)?)?[\s,]*(?:what|how)\s+about\s+(?P<rest>.+?)[\s?.!]*$", re.IGNORECASE)
_PERSON = frozenset({"he", "him", "she", "her", "they", "them"})
_SINGULAR = frozenset({"he", "him", "she", "her", "his", "hers"})
"""Pronouns that can only mean a person: with nobody to refer to, the message is unclear."""
_POSSESSIVE = frozenset({"his", "hers", "their", "theirs"})
_LINKS = frozenset({"and", "so", "but", "then", "ok", "okay", "also"})
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


class Followup(BaseModel):
    """A message read in context: a question to ask, or "more" for the last one."""

    kind: Literal["ask", "more", "unclear"]
    question: str
    rewritten: bool = False


def frame_words(question: str) -> list[str]:
    """The leading question words of `question` ("who is", "what did … say" → "what did")."""
    frame: list[str] = []
    for word in words(question):
        if fold(word) not in QUESTION_WORDS:
            break
        frame.append(word)
    return frame


def topic_of(question: str) -> str:
    """A question's content words, the part a bare "why?" or "when?" is about."""
    kept = [w for w in words(question)
            if (f := fold(w)) not in STOPWORDS and f not in QUESTION_WORDS
            and f not in GENERIC_QUESTION_TERMS and f not in _PERSON and f not in _POSSESSIVE]
    return " ".join(kept)


def _is_elliptical(text: str) -> bool:
    """Nothing but question words and glue: "why?", "and when?", "how so?"."""
    tokens = [fold(w) for w in words(text)]
    return bool(tokens) and all(
        t in QUESTION_WORDS or t in STOPWORDS or t in _LINKS for t in tokens)


def _replace_pronouns(text: str, subject: str) -> tuple[str, bool]:
    changed = False

    def swap(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        folded = word.lower()
        if folded in _PERSON:
            changed = True
            return subject
        if folded in _POSSESSIVE:
            changed = True
            return f"{subject}'s"
        return word

    return _WORD.sub(swap, text), changed


def _names_someone(text: str, people: Collection[str]) -> bool:
    """The text names a person itself: a known one (by any part of the name), or a
    capitalised word after the first."""
    asked = words(text)
    folded = {fold(w) for w in asked}
    if any(fold(part) in folded for name in people for part in words(name)):
        return True
    return any(w[:1].isupper() for w in asked[1:])


def resolve(text: str, context: Context | None, people: Collection[str] = ()) -> Followup:
    """`text` as a question the engine can answer without the conversation (`people`: the
    names the engine knows, so "his" in "what did Frank say about his plan" is Frank's)."""
    if _MORE.match(text):
        if context is None:
            return Followup(kind="ask", question=text)
        return Followup(kind="more", question=context.question, rewritten=True)
    if context is None or not context.subject:
        if any(fold(w) in _SINGULAR for w in words(text)) and not _names_someone(text, people):
            return Followup(kind="unclear", question=text)
        if context is None:
            return Followup(kind="ask", question=text)
    what_about = _WHAT_ABOUT.match(text)
    if what_about:  # "what about Frank?" after "who is Tertitskiy" → "who is Frank"
        frame = frame_words(context.question)
        if frame:
            return Followup(kind="ask", question=" ".join([*frame, what_about["rest"]]),
                            rewritten=True)
    if context.subject:
        swapped, changed = _replace_pronouns(text, context.subject)
        if changed:
            return Followup(kind="ask", question=swapped, rewritten=True)
    if _is_elliptical(text):
        about = context.topic or context.subject
        if about:
            asked = " ".join(w for w in words(text) if fold(w) not in _LINKS)
            return Followup(kind="ask", question=f"{asked} {about}".strip(), rewritten=True)
    return Followup(kind="ask", question=text)


def subject_of(question: str, title: str | None, command: str, people: list[str],
               previous: str | None) -> str | None:
    """The person a question is about: a person card's title, a known person named in the
    question (full name or surname), else the conversation's subject so far."""
    if command == "who" and title:
        return title
    asked = {fold(w) for w in words(question)}
    for name in people:
        parts = [fold(p) for p in words(name)]
        if parts and (parts[-1] in asked or all(p in asked for p in parts)):
            return name
    return previous


def remember(question: str, *, command: Literal["ask", "who"], title: str | None,
             sentence_ids: list[str], people: list[str], previous: Context | None,
             more: bool, index_version: int) -> Context:
    """The context after answering `question` (and showing `sentence_ids`)."""
    shown = [*(previous.shown if more and previous else []), *sentence_ids][-MAX_SHOWN_KEPT:]
    subject = subject_of(question, title, command, people,
                         previous.subject if previous else None)
    topic = topic_of(question) or (previous.topic if previous else "")
    return Context(question=question, command=command, subject=subject, topic=topic,
                   shown=shown, index_version=index_version)
