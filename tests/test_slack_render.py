"""Block Kit rendering: escaping and Slack's size limits (pure functions, no I/O)."""

from __future__ import annotations

import json

from bot.adapters.slack.render import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    MAX_VALUE_CHARS,
    SHARE_ACTION,
    chunks,
    escape,
    render,
)
from bot.models import Answer, Briefing, BriefingSection, Citation, Notice, UserError

PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam^S1>")


def _texts(message: dict) -> list[str]:
    """Every mrkdwn/plain text string in a message, fallback included."""
    found = [message["text"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["blocks"])
    return found


def assert_within_limits(message: dict) -> None:
    assert message["text"]
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_CHARS
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= MAX_SECTION_CHARS for e in block["elements"])
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= MAX_VALUE_CHARS


def assert_harmless(message: dict) -> None:
    for text in _texts(message):
        for ping in PINGS:
            assert ping not in text
        for word in ("@channel", "@here", "@everyone"):
            assert word not in text.lower()


def test_escape_neutralises_mentions_and_markup():
    text = "A & B <!channel> <@U123> <https://x|y> @everyone @Here @channel"
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert "&amp;" in escaped and "&lt;!channel&gt;" in escaped
    assert "@everyone" not in escaped and "@Here" not in escaped
    assert "@\u2060everyone" in escaped


def test_long_answer_is_split_within_limits():
    sentence = "Tertitskiy doubts that Kim & Putin agree on anything <soon>. "
    answer = Answer(question="why " * 120, text=sentence * 2000, intent="why",
                    citations=[Citation(document=f"Doc {i} " * 30, paragraph=i + 1, quote="q")
                               for i in range(60)])
    message = render(answer)
    assert_within_limits(message)
    assert message["blocks"][-1]["type"] == "actions"  # buttons survive the trimming
    assert "left out" in json.dumps(message)
    assert len(message["text"]) <= 3000


def test_chunks_never_split_an_entity():
    text = escape("&" * 5000)
    pieces = chunks(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(pieces) == text
    assert all(p.startswith("&amp;") and p.endswith("&amp;") for p in pieces)


def test_buttons_carry_small_json_values():
    answer = Answer(question="x" * 1990, text="t", intent="what",
                    citations=[Citation(document="d" * 100, paragraph=1, quote="q")] * 40)
    actions = render(answer)["blocks"][-1]["elements"]
    share = next(a for a in actions if a["action_id"] == SHARE_ACTION)
    data = json.loads(share["value"])
    assert data["id"] == answer.answer_id and data["c"] == "ask"
    for button in actions:
        assert len(button["value"]) <= MAX_VALUE_CHARS
        json.loads(button["value"])


def test_seed_text_with_pings_renders_harmlessly():
    cites = [Citation(document="<!here> news", paragraph=2, quote="q")]
    for result in [
        Answer(question="<@U123> @here?", text="Kim said <!channel> and @everyone.",
               intent="what", citations=cites, title="<!everyone>"),
        Briefing(title="@channel brief", text="<!subteam^S1> hi",
                 sections=[BriefingSection(heading="<@U123>", lines=["@everyone"])]),
        Notice(title="<!here>", text="@channel", lines=["<@U123>"]),
        UserError(message="<!channel>", hint="@here"),
    ]:
        assert_harmless(render(result))


def test_shared_answer_has_no_buttons_and_names_the_sharer():
    answer = Answer(question="q", text="t", intent="what", shared_by="ana")
    message = render(answer, interactive=False, shared_by="U42")
    assert all(b["type"] != "actions" for b in message["blocks"])
    assert "Shared by <@U42>" in json.dumps(message)
    assert "Shared by &lt;!channel&gt;" in json.dumps(
        render(answer, interactive=False, shared_by="<!channel>"))


def test_abstained_answer_offers_votes_not_share():
    answer = Answer(question="q", text="The articles don't cover that.", intent="what",
                    abstained=True, suggestions=["the arms deal"])
    ids = [e["action_id"] for e in render(answer)["blocks"][-1]["elements"]]
    assert ids == ["briefbot_vote_up", "briefbot_vote_down"]


def test_big_briefing_fits_fifty_blocks():
    briefing = Briefing(title="Today", text="Summary",
                        sections=[BriefingSection(heading=f"H{i}", lines=["line"] * 3)
                                  for i in range(80)],
                        citations=[Citation(document="D", paragraph=1, quote="q")] * 200)
    assert_within_limits(render(briefing))


def test_manifest_declares_every_command_scope_and_socket_mode():
    import yaml

    from bot.adapters.slack import COMMANDS
    from tests.conftest import ROOT

    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == {f"/{name}" for name in COMMANDS}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read"} <= scopes
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
