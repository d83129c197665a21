"""Chat markup removed from questions (Slack and Discord), and text made safe to print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.markup import clean_question, printable

EXAMPLES = [  # the ones the issue names
    ("@channel who is Frank", "who is Frank"),
    ("<@U123ABC> where is Kookmin University", "where is Kookmin University"),
    ("<@123456789> who is Frank?", "who is Frank?"),
    ("who is \x1b[31mFrank\x1b[0m", "who is Frank"),
    ("what about R&amp;D", "what about R&D"),
]

SLACK = [
    ("<!channel> who is Frank", "who is Frank"),
    ("<!here> who is Frank", "who is Frank"),
    ("<!everyone> who is Frank", "who is Frank"),
    ("<!here|@here> who is Frank", "who is Frank"),
    ("<!subteam^S123|@team> who is Frank", "who is Frank"),
    ("<@U123ABC> who is Frank", "who is Frank"),
    ("<@W123ABC> who is Frank", "who is Frank"),
    ("<@U123|frank.r> who is Frank", "who is Frank"),
    ("who in <#C123|general> is Frank", "who in general is Frank"),
    ("who in <#C123> is Frank", "who in is Frank"),
    ("who in <#C123|> is Frank", "who in is Frank"),
    ("what does <https://example.org/a?b=1|this article> say", "what does this article say"),
    ("what does <https://example.org/a> say", "what does https://example.org/a say"),
    ("ask <mailto:a@example.org|a@example.org>", "ask a@example.org"),
    ("since <!date^1392734382^{date}|Feb 18, 2014>", "since Feb 18, 2014"),
    ("what about R&amp;D", "what about R&D"),
    ("is 2 &lt; 3 &amp;&amp; 4 &gt; 1", "is 2 < 3 && 4 > 1"),
    ("&amp;lt;b&amp;gt;", "<b>"),  # double-escaped: decodes fully, once
    ("&gt; who is Frank", "who is Frank"),  # a Slack quote arrives escaped
    ("*who* is _Frank_", "who is Frank"),  # mrkdwn bold, italic
    ("~who~ is Frank", "who is Frank"),
    ("`who is Frank`", "who is Frank"),
    ("```who is Frank```", "who is Frank"),
]

DISCORD = [
    ("@everyone who is Frank", "who is Frank"),
    ("@here who is Frank", "who is Frank"),
    ("<@123456789> who is Frank", "who is Frank"),
    ("<@!123456789> who is Frank", "who is Frank"),
    ("<@&987654321> who is Frank", "who is Frank"),
    ("who in <#123456> is Frank", "who in is Frank"),
    ("</ask:123456> who is Frank", "who is Frank"),
    ("</brief subscribe:123456> when", "when"),
    ("<:pepe:123456> who is Frank <a:wave:42>", "who is Frank"),
    ("what happened <t:1700000000:R>", "what happened"),
    ("**who** is __Frank__", "who is Frank"),
    ("who is `Frank`", "who is Frank"),
    ("who is ``Fr`ank``", "who is Fr`ank"),
    ("who is ||Frank||", "who is Frank"),
    ("who is ~~not~~ Frank", "who is not Frank"),
    ("who is *Frank*", "who is Frank"),
    ("> who is Frank", "who is Frank"),
    (">>> who is\nFrank", "who is Frank"),
    ("# who is Frank", "who is Frank"),
    ("-# who is Frank", "who is Frank"),
    ("```\nwho is Frank\n```", "who is Frank"),
    ("```text\nwho is Frank```", "who is Frank"),
    ("<https://example.org/a> what is this", "https://example.org/a what is this"),
]

PLAIN = [
    ("@channel who is Frank", "who is Frank"),
    ("@Here who is Frank", "who is Frank"),
    ("who is Frank @EVERYONE", "who is Frank"),
    ("mail frank@here.org", "mail frank@here.org"),  # not a mention: part of an address
    ("who is @everyones", "who is @everyones"),
    ("snake_case and 2 * 3 * 4", "snake_case and 2 * 3 * 4"),  # not markdown
    ("is 3 > 2", "is 3 > 2"),
    ("who is <Frank>", "who is <Frank>"),  # angle brackets that are no markup stay
    ("R&D and AT&T", "R&D and AT&T"),
    ("", ""),
    ("   ", ""),
    ("<@U1>", ""),
]

CHARACTERS = [
    ("who is \x1b[31mFrank\x1b[0m", "who is Frank"),
    ("who is \x1b[1;31;48;5;200mFrank", "who is Frank"),
    ("\x1b]0;pwned\x07who is Frank", "who is Frank"),  # OSC: window title
    ("\x1b]8;;https://x\x1b\\who\x1b]8;;\x1b\\ is Frank", "who is Frank"),  # OSC 8 hyperlink
    ("who\x1b(B is Frank", "who is Frank"),
    ("\x9b2Jwho is Frank", "who is Frank"),  # 8-bit CSI
    ("who\tis\nFrank\r\n", "who is Frank"),
    ("who\x00 is\x07 Fr\x08ank\x7f", "who is Frank"),
    ("who is Fr\u200bank\ufeff", "who is Frank"),  # zero-width space, BOM
    ("who is Fr\u200d\u200cank\u2060", "who is Frank"),  # joiners, word joiner
    ("who is \u202eknarF\u202c", "who is knarF"),  # bidi override: removed, not reordered
    ("who is \u2066Frank\u2069\u200f", "who is Frank"),
    ("who is Fr\u00adank", "who is Frank"),  # soft hyphen
    ("who is Ru\u0308diger", "who is Rüdiger"),  # NFC
    ("who is Ru\u200b\u0308diger", "who is Rüdiger"),  # NFC after a removal
    ("who\u00a0is\u2003Frank\u3000", "who is Frank"),  # Unicode spaces
    ("who is Frank\u2028why", "who is Frank why"),
    ("who is \ud800Frank", "who is Frank"),  # a lone surrogate (undecodable argv bytes)
]


@pytest.mark.parametrize(("raw", "clean"), EXAMPLES + SLACK + DISCORD + PLAIN + CHARACTERS)
def test_clean_question(raw: str, clean: str) -> None:
    assert clean_question(raw) == clean
    assert clean_question(clean_question(raw)) == clean_question(raw)


@pytest.mark.parametrize("raw", [
    "&<https://x|amp;>lt;",  # a kept label completing an entity
    "&<@U1>lt;", "&\x00lt;", "&\u200blt;",  # removals joining one
    "****who****", "**__~~||who||~~__**", "<<@U1>@U2>", "@<@U1>here",
    "&lt;@U123&gt; who", "&amp;amp;amp;", "&\u037e",  # U+037E: NFC makes it ';'
    "@here" * 50, "> " * 50 + "who", "**__~~||" * 20 + "who" + "||~~__**" * 20,  # deep
    "<<<<https://x|a>|b>|c>|d>" * 5, "&" + "<@U1>" * 30 + "lt;",
])
def test_clean_question_is_idempotent_on_tricky_input(raw: str) -> None:
    once = clean_question(raw)
    assert clean_question(once) == once


MARKUP_ALPHABET = st.sampled_from(
    ["<", ">", "@", "!", "#", "&", "amp;", "lt;", "gt;", "|", "*", "_", "~", "`", ":", "/",
     "U1", "123", "a", " ", "\n", "\x1b", "[", "m", "here", "channel", "https:", "\u200b",
     "\u0301", "e", "\u037e", ">", "# ", "-"]
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.one_of(st.text(), st.lists(MARKUP_ALPHABET, max_size=30).map("".join)))
def test_clean_question_properties(raw: str) -> None:
    once = clean_question(raw)
    assert clean_question(once) == once
    assert once == once.strip() and "  " not in once
    assert not [c for c in once if unicodedata.category(c) in ("Cc", "Cf", "Cs")]
    assert not [c for c in once if c.isspace() and c != " "]


PRINTABLE = [
    ("who is \x1b[31mFrank\x1b[0m", "who is Frank"),
    ("\x1b]0;pwned\x07title", "title"),
    ("\x1b[2J\x1b[Hcleared", "cleared"),
    ("\x9b31mred", "red"),
    ("line 1\nline 2\n", "line 1\nline 2\n"),  # newlines stay
    ("a\tb", "a b"),
    ("crlf\r\nline", "crlf\nline"),
    ("over\rwrite", "over\nwrite"),  # a bare CR would overwrite the line
    ("bell\x07 nul\x00 del\x7f bs\x08", "bell nul del bs"),
    ("nel\x85 csi\x9b", "nel csi"),
    ("\u202eevil\u202c", "evil"),
    ("Rüdiger — ¶ “quoted” 北朝鮮", "Rüdiger — ¶ “quoted” 北朝鮮"),  # text stays as it is
    ("surrogate \udcff", "surrogate \ufffd"),
]


@pytest.mark.parametrize(("raw", "shown"), PRINTABLE)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_printable_never_lets_a_control_character_through(raw: str) -> None:
    shown = printable(raw)
    assert not [c for c in shown if c != "\n" and _control(c)]
    assert printable(shown) == shown
    shown.encode("utf-8")  # print() can always write it


def _control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF


# -- the CLI prints nothing that could drive a terminal ------------------------------------

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ)
HOSTILE = "\x1b[31m\x1b]0;pwned\x07\x01\x02\x08\x0b\x0c\x0e\x1f\x7f\x9b2J"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=ENV, input=stdin,
                          capture_output=True, text=True, timeout=60)


def unsafe(output: str) -> list[str]:
    """Characters a terminal acts on: C0 controls but newline, DEL, C1 controls."""
    return [c for c in output if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]


def test_cli_ask_prints_no_control_characters() -> None:
    out = run_cli("ask", f"who is {HOSTILE}Frank\x1b[0m")
    assert out.returncode == 0, out.stderr
    assert not unsafe(out.stdout) and "[31m" not in out.stdout and "pwned" not in out.stdout
    assert "Rüdiger Frank" in out.stdout  # the question was understood once cleaned


def test_cli_ask_json_and_stdin_print_no_control_characters() -> None:
    out = run_cli("ask", f"{HOSTILE}who is {HOSTILE}nobody at all", "--json")
    data = json.loads(out.stdout)
    assert not unsafe(out.stdout) and not unsafe(data["text"]) and "\x1b" not in data["question"]
    out = run_cli("ask", "-", stdin=f"who is {HOSTILE}Frank\n{HOSTILE}\n")
    assert out.returncode == 0, out.stderr
    assert not unsafe(out.stdout) and "Rüdiger Frank" in out.stdout


def test_cli_shows_a_hostile_seed_safely(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(
        f"Jane Roe, a historian at Example University{HOSTILE}, spoke in Vienna.\n\n"
        f"Jane Roe said the museum\x1b[2J will open in May.\n", encoding="utf-8")
    commands = [["ask", "who is Jane Roe"], ["index"], ["brief"],
                ["ask", "who is Jane Roe", "--json"], ["index", "--json"], ["brief", "--json"]]
    seeds = ["--seeds", str(tmp_path)]
    code = ("import sys; from bot.cli import main\n"
            f"for args in {commands!r}:\n"
            f"    print('--- end of', args, main([*args, *{seeds!r}]), flush=True)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=60)
    outputs = out.stdout.split("--- end of")
    assert len(outputs) == len(commands) + 1, out.stderr
    for args, output in zip(commands, outputs, strict=False):
        assert "Jane Roe" in output, args
        assert not unsafe(output), (args, unsafe(output))
    assert out.stdout.count("] 0\n") == len(commands)  # every command exited 0


def test_to_json_escapes_what_json_dumps_leaves_raw() -> None:
    from bot.cli.common import to_json

    data = {"text": "del\x7f csi\x9b nel\x85 lone\udcff sep\u2028 ü"}
    line = to_json(data)
    assert not unsafe(line) and "\\u009b" in line and "ü" in line
    assert json.loads(line) == data
    line.encode("utf-8")  # printable, unlike json.dumps(..., ensure_ascii=False) here
