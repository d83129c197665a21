"""Chat conversations, platform-neutral: follow-up reading on fixed contexts (pure), and the
message handler on the shipped seeds with the real engine and a real SQLite store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.context import AppContext
from bot.context.conversations import Context
from bot.models import Answer, Notice
from bot.store import Store, open_store_url
from handlers.conversation import MessageRequest
from handlers.followup import frame_words, remember, resolve, topic_of
from handlers.registry import converse
from tests.clock import FakeClock

PERSON = Context(question="who is Ada Quill", command="who", subject="Ada Quill",
                 topic="Ada Quill", shown=["s1", "s2"])
TOPIC = Context(question="what happened at the harbour summit", topic="harbour summit")


# --- reading a follow-up (pure) --------------------------------------------------------------

@pytest.mark.parametrize(("text", "question"), [
    ("what did he say?", "what did Ada Quill say?"),
    ("What did she think of his plan", "What did Ada Quill think of Ada Quill's plan"),
    ("why?", "why Ada Quill"),
    ("and when?", "when Ada Quill"),
    ("what about Bo Lind?", "who is Bo Lind"),
])
def test_follow_ups_about_a_person(text: str, question: str) -> None:
    followup = resolve(text, PERSON)
    assert (followup.kind, followup.question, followup.rewritten) == ("ask", question, True)


def test_a_bare_question_word_asks_about_the_last_topic() -> None:
    assert resolve("why?", TOPIC).question == "why harbour summit"
    said = Context(question="what did Ada Quill say about the pier", subject="Ada Quill",
                   topic=topic_of("what did Ada Quill say about the pier"))
    assert resolve("why?", said).question == "why Ada Quill pier"  # the topic, not only who
    assert resolve("and how?", TOPIC).question == "how harbour summit"


@pytest.mark.parametrize("text", ["tell me more", "More please", "ok, go on", "anything else?",
                                  "tell me more about him", "and then?"])
def test_more_repeats_the_last_question(text: str) -> None:
    followup = resolve(text, PERSON)
    assert (followup.kind, followup.question) == ("more", "who is Ada Quill")


@pytest.mark.parametrize("text", ["who is Bo Lind", "what did the minister say about grain?",
                                  "why did the talks stall"])
def test_a_question_that_stands_alone_is_asked_as_typed(text: str) -> None:
    assert resolve(text, PERSON) == resolve(text, None)
    assert resolve(text, PERSON).rewritten is False


def test_without_a_conversation_nothing_is_rewritten() -> None:
    for text in ("what did they say?", "why?", "tell me more"):
        followup = resolve(text, None)
        assert (followup.kind, followup.question, followup.rewritten) == ("ask", text, False)


@pytest.mark.parametrize("context", [None, TOPIC])
def test_he_with_nobody_to_refer_to_is_unclear(context: Context | None) -> None:
    assert resolve("what did he say?", context).kind == "unclear"
    assert resolve("and her view?", context, people=["Ada Quill"]).kind == "unclear"


@pytest.mark.parametrize("text", ["what did Bo Lind say about his plan?",
                                  "what did quill say about her plan?"])
def test_a_pronoun_next_to_a_name_is_that_name_s(text: str) -> None:
    followup = resolve(text, None, people=["Ada Quill"])
    assert (followup.kind, followup.question) == ("ask", text)


def test_frames_and_topics() -> None:
    assert frame_words("who is Ada Quill") == ["who", "is"]
    assert frame_words("Ada Quill") == []
    assert topic_of("what happened at the harbour summit?") == "harbour summit"


def test_remember_keeps_the_subject_and_accumulates_shown_sentences_only_for_more() -> None:
    after = remember("what did Ada Quill say?", command="ask", title=None,
                     sentence_ids=["s3"], people=["Ada Quill", "Bo Lind"], previous=PERSON,
                     more=False, index_version=2)
    assert (after.subject, after.shown, after.index_version) == ("Ada Quill", ["s3"], 2)
    more = remember(PERSON.question, command="who", title="Ada Quill", sentence_ids=["s3"],
                    people=[], previous=PERSON, more=True, index_version=2)
    assert more.shown == ["s1", "s2", "s3"]
    other = remember("who is Lind", command="ask", title=None, sentence_ids=[],
                     people=["Ada Quill", "Bo Lind"], previous=PERSON, more=False,
                     index_version=2)
    assert other.subject == "Bo Lind"  # a surname is enough to switch


# --- the message handler on the seeds ---------------------------------------------------------

@pytest.fixture
async def stored(ctx: AppContext, tmp_path: Path) -> AsyncIterator[AppContext]:
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    store: Store = await open_store_url(f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
                                        clock=clock)
    yield dataclasses.replace(ctx, store=store, clock=clock)
    await store.close()


def said(text: str, message_id: str, conversation: str = "test:c1",
         remember_as: str | None = None) -> MessageRequest:
    return MessageRequest(text=text, platform="test", user_id="u1", channel_id="c1",
                          conversation=conversation, remember_as=remember_as,
                          message_key=f"test:{message_id}")


def shown_ids(answer: Answer) -> set[str]:
    return {sid for c in answer.citations for sid in c.sentence_ids}


async def test_a_pronoun_follow_up_asks_about_the_person_of_the_thread(
        stored: AppContext) -> None:
    person = stored.index.current.people_names()[0]
    first = await converse(said(f"who is {person}", "1"), stored)
    assert isinstance(first, Answer) and not first.abstained
    follow = await converse(said("what did he say?", "2"), stored)
    assert isinstance(follow, Answer)
    assert follow.question == f"what did {person} say?"  # shown as understood


async def test_tell_me_more_shows_sentences_not_shown_before(stored: AppContext) -> None:
    person = stored.index.current.people_names()[0]
    first = await converse(said(f"who is {person}", "1"), stored)
    assert isinstance(first, Answer) and first.citations
    seen = shown_ids(first)
    for n in range(2, 12):  # each round is new, until the articles have nothing more
        more = await converse(said("tell me more", str(n)), stored)
        assert isinstance(more, Answer)
        if more.abstained:
            assert "all the articles say" in more.text
            break
        assert shown_ids(more) and not shown_ids(more) & seen
        seen |= shown_ids(more)
    else:
        pytest.fail("tell me more never ran out")


async def test_each_message_is_answered_once(stored: AppContext) -> None:
    assert await converse(said("who is involved?", "7"), stored) is not None
    assert await converse(said("who is involved?", "7"), stored) is None
    assert await converse(said("who is involved?", "8"), stored) is not None


async def test_conversations_are_apart_and_expire_after_a_day(stored: AppContext) -> None:
    person = stored.index.current.people_names()[0]
    await converse(said(f"who is {person}", "1", conversation="test:a"), stored)
    other = await converse(said("what did he say?", "2", conversation="test:b"), stored)
    assert isinstance(other, Notice) and other.text.startswith("Who do you mean?")
    assert isinstance(stored.clock, FakeClock)
    stored.clock.advance(hours=25)
    late = await converse(said("what did he say?", "3", conversation="test:a"), stored)
    assert isinstance(late, Notice) and late.text.startswith("Who do you mean?")


async def test_context_moves_to_remember_as(stored: AppContext) -> None:
    """Discord's chains: read under the message replied to, kept under the new message."""
    person = stored.index.current.people_names()[0]
    await converse(said(f"who is {person}", "1", conversation="test:m1"), stored)
    follow = await converse(said("what did he say?", "2", conversation="test:m1",
                                 remember_as="test:m2"), stored)
    assert isinstance(follow, Answer) and person in follow.question
    again = await converse(said("tell me more", "3", conversation="test:m2"), stored)
    assert isinstance(again, Answer)  # continues the thread's last answered question
    assert again.question in {f"who is {person}", f"what did {person} say?"}
    fresh = await converse(said("tell me more", "4", conversation="test:m9"), stored)
    assert isinstance(fresh, Answer) and fresh.question == "tell me more"


async def test_an_unreadable_context_starts_afresh(stored: AppContext) -> None:
    assert stored.store is not None
    await stored.store.put_conversation("test:c1", '{"not": "a context"}',
                                        ttl=timedelta(hours=1))
    answer = await converse(said("what did he say?", "1"), stored)
    assert isinstance(answer, Notice) and answer.text.startswith("Who do you mean?")


async def test_he_without_anyone_named_asks_who(ctx: AppContext) -> None:
    result = await converse(said("what did he say?", "u1"), ctx)
    assert isinstance(result, Notice) and result.text.startswith("Who do you mean?")
    assert ctx.index.current.people_names()[0] in result.text


async def test_greetings_and_empty_messages_get_usage(ctx: AppContext) -> None:
    for n, text in enumerate(["", "hi", "help", "  "]):
        result = await converse(said(text, f"g{n}"), ctx)
        assert isinstance(result, Notice) and "tell me more" in result.text


async def test_without_a_store_the_conversation_lives_in_memory(ctx: AppContext) -> None:
    person = ctx.index.current.people_names()[0]
    await converse(said(f"who is {person}", "1"), ctx)
    follow = await converse(said("what did he say?", "2"), ctx)
    assert isinstance(follow, Answer) and person in follow.question
    assert await converse(said("what did he say?", "2"), ctx) is None
