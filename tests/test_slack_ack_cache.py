"""The /ask ack is rendered once per index version and question, each copy with its own id."""

from __future__ import annotations

import json
from typing import Any

import pytest

import bot.adapters.slack.acks as slack_acks
from bot.adapters.slack import AckCache, ack_body
from bot.adapters.slack.render import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.models import Answer, Citation
from tests.fake_slack import FakeSlack
from tests.test_slack_http import QUESTION, button, handler, serve_http, slash


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def served(ctx, fake):
    client, adapter = await serve_http(ctx, fake)
    yield client, adapter
    await client.close()
    await adapter.stop()


def ids_in(message: dict[str, Any]) -> set[str]:
    """The answer ids the buttons of `message` carry."""
    return {json.loads(button(message, action)["value"])["id"]
            for action in (SHARE_ACTION, VOTE_UP_ACTION, VOTE_DOWN_ACTION)}


def without_ids(message: dict[str, Any]) -> str:
    [answer_id] = ids_in(message)
    return json.dumps(message).replace(answer_id, "ID")


async def test_same_question_same_blocks_distinct_answer_ids(served, fake):
    client, adapter = served
    first = await (await slash(client, fake, "/ask", QUESTION)).json()
    second = await (await slash(client, fake, "/ask", QUESTION)).json()
    assert adapter.acks.renders == 1  # the second ack was not rendered again
    assert len(ids_in(first)) == 1 and len(ids_in(second)) == 1  # one id in all three buttons
    assert ids_in(first) != ids_in(second)  # share-once and votes stay per answer shown
    assert without_ids(first) == without_ids(second)
    assert "Vladivostok" in json.dumps(second)


async def test_cached_ack_is_exactly_what_a_fresh_render_gives(served, fake, ctx):
    client, _adapter = served
    await slash(client, fake, "/ask", QUESTION)
    resp = await slash(client, fake, "/ask", QUESTION)
    body = await resp.text()
    assert resp.content_type == "application/json"
    [answer_id] = ids_in(json.loads(body))
    answer = ctx.index.current.answer(QUESTION).model_copy(
        update={"answer_id": answer_id, "index_version": ctx.index.version})
    assert body == ack_body(answer)


async def test_a_reload_renders_afresh(served, fake, ctx):
    client, adapter = served
    await slash(client, fake, "/ask", QUESTION)
    await slash(client, fake, "/ask", QUESTION)
    assert adapter.acks.renders == 1
    ctx.index.swap(ctx.index.current)  # a reload: the version goes up
    message = await (await slash(client, fake, "/ask", QUESTION)).json()
    assert adapter.acks.renders == 2 and adapter.acks.version == ctx.index.version
    assert "Vladivostok" in json.dumps(message)


async def test_a_different_answer_to_the_same_question_is_rendered(served, fake, ctx):
    client, adapter = served
    texts = iter(["First answer.", "Second answer."])

    async def ask(req, _ctx):  # type: ignore[no-untyped-def]
        return Answer(question=req.text, text=next(texts), intent="test",
                      index_version=ctx.index.version)

    with handler("ask", ask):
        first = await (await slash(client, fake, "/ask", "same words")).json()
        second = await (await slash(client, fake, "/ask", "same words")).json()
    assert first["text"] == "First answer." and second["text"] == "Second answer."
    assert adapter.acks.renders == 2


def answer(**fields: Any) -> Answer:
    base = {"question": "who is Tertitskiy", "text": "Fyodor Tertitskiy is a researcher.",
            "intent": "person", "index_version": 3,
            "citations": [Citation(document="Doc", paragraph=2, quote="q")]}
    return Answer(**{**base, **fields})


def test_cache_per_command_and_question_bounded():
    cache = AckCache(size=2)
    for question in ("a", "b", "c"):
        cache.body("ask", question, answer(question=question))
    assert len(cache) == 2 and cache.renders == 3
    cache.body("ask", "c", answer(question="c"))
    assert cache.renders == 3  # still there
    cache.body("ask", "a", answer(question="a"))
    assert cache.renders == 4  # the least recently used was dropped
    cache.body("who", "a", answer(question="a", source_command="who"))
    assert cache.renders == 5  # /who a is not /ask a


def test_answer_id_stand_in_in_the_text_is_never_spliced(monkeypatch):
    """If the text asked held the stand-in id, splicing would rewrite the user's words: such
    an ack is rendered each time instead (checked with a second stand-in)."""
    stand_ins = iter(["0123456789abcdef", "fedcba9876543210"] * 4)
    monkeypatch.setattr(slack_acks, "new_id", lambda: next(stand_ins))
    cache = AckCache()
    shown = answer(question="what is 0123456789abcdef", answer_id="00000000000000aa")
    body = cache.body("ask", shown.question, shown)
    assert body == ack_body(shown) and len(cache) == 0
    assert "what is 0123456789abcdef" in json.loads(body)["blocks"][0]["elements"][0]["text"]


def test_abstained_answer_has_no_share_but_own_vote_ids():
    cache = AckCache()
    first = json.loads(cache.body("ask", "x", answer(abstained=True, answer_id="a" * 16)))
    second = json.loads(cache.body("ask", "x", answer(abstained=True, answer_id="b" * 16)))
    assert cache.renders == 1
    values = [json.loads(button(m, VOTE_UP_ACTION)["value"])["id"] for m in (first, second)]
    assert values == ["a" * 16, "b" * 16]
    assert not any(e["action_id"] == SHARE_ACTION for b in second["blocks"]
                   if b["type"] == "actions" for e in b["elements"])
