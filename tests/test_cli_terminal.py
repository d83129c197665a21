"""The command line where a new user meets it: a pipe closed early, a terminal (issue 19).

Real processes: `python -m bot` with its stdout on a pipe nobody reads, in a shell pipeline
into `head`, and on a pseudo-terminal (alone, or with stdin on it too, as someone typing).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 60.0
RULE = "─" * 10


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "80"}


def _read_until(fd: int, needle: bytes, seen: bytearray, deadline: float) -> None:
    """Read the pty into `seen` until it holds `needle` (or fail at the deadline)."""
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} not seen in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: every writer has gone
                chunk = b""
            assert chunk, f"ended before {needle!r}: {bytes(seen)!r}"
            seen += chunk


def _read_to_end(fd: int, deadline: float) -> bytes:
    seen = bytearray()
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no end of output: {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child and every copy of the slave side are gone
            return bytes(seen)
        if not chunk:
            return bytes(seen)
        seen += chunk


@pytest.mark.parametrize("args, stdin", [
    (["ask", "who is Tertitskiy"], None),
    (["ask", "who is Tertitskiy", "--json"], None),
    (["ask", "-", "--json"], "who is Frank\nwho is Tertitskiy\n"),
    (["chat"], "who is Frank\nwhat did he say?\n"),
    (["index"], None),
])
def test_a_closed_pipe_ends_quietly_like_other_unix_tools(
        args: list[str], stdin: str | None) -> None:
    """Output to a pipe whose reader has gone: no traceback, ended by SIGPIPE (the shell
    shows 141, as for `yes | head -1`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails
    try:
        child = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=_env(),
                               stdout=write_end, stderr=subprocess.PIPE, input=stdin or "",
                               text=True, timeout=TIMEOUT_S, check=False)
    finally:
        os.close(write_end)
    assert child.returncode == -signal.SIGPIPE, (child.returncode, child.stderr)
    assert child.stderr == ""


def test_ask_into_head_prints_two_lines_and_no_traceback() -> None:
    pipeline = f"{sys.executable} -m bot ask 'who is Tertitskiy' | head -2; " \
               "echo \"status ${PIPESTATUS[0]}\" >&2"
    out = subprocess.run(["bash", "-c", pipeline], cwd=ROOT, env=_env(), capture_output=True,
                         text=True, timeout=TIMEOUT_S, check=False)
    assert out.stdout.splitlines() == [
        "# Fyodor Tertitskiy",
        "Fyodor Tertitskiy — a researcher at Kookmin University in Seoul and an expert on North "
        "Korean history and the military"]
    # 0 when everything was written before head left, 141 when a write came after
    assert out.stderr in ("status 0\n", "status 141\n"), out.stderr


def test_chat_on_a_terminal_shows_each_question_its_reading_the_reply_and_a_rule() -> None:
    """Messages from a file, replies to a terminal: each question is echoed."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=_env(),
                                 stdin=subprocess.PIPE, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        assert child.stdin is not None and child.stderr is not None
        child.stdin.write(b"who is Tertitskiy\nwhat did he say?\n")
        child.stdin.close()
        shown = _read_to_end(master, time.monotonic() + TIMEOUT_S)
        assert child.wait(TIMEOUT_S) == 0, child.stderr.read()
    finally:
        os.close(master)
    lines = shown.decode().replace("\r\n", "\n").splitlines()
    first, second = lines.index("> who is Tertitskiy"), lines.index("> what did he say?")
    assert lines[first + 1] == "# Fyodor Tertitskiy"
    assert lines[second + 1] == "(read as: what did Fyodor Tertitskiy say?)"
    assert lines[second + 3] == "Fyodor Tertitskiy said:"
    rules = [i for i, line in enumerate(lines) if line.startswith(RULE)]
    assert len(rules) == 2 and first < rules[0] < second < rules[1] == len(lines) - 1


def test_chat_typed_on_a_terminal_prompts_and_rules_each_turn() -> None:
    """Someone typing: the prompt, their question (the terminal's echo), the reply, a rule;
    Ctrl-D at the prompt ends the conversation on a line of its own."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=_env(),
                                 stdin=slave, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        deadline = time.monotonic() + TIMEOUT_S
        seen = bytearray()
        _read_until(master, b"> ", seen, deadline)
        os.write(master, b"who is Frank\n")
        _read_until(master, RULE.encode(), seen, deadline)
        _read_until(master, b"\n> ", seen, deadline)  # the next prompt
        os.write(master, b"\x04")  # Ctrl-D: end of input
        seen += _read_to_end(master, deadline)
        assert child.wait(TIMEOUT_S) == 0
    finally:
        os.close(master)
    text = seen.decode().replace("\r\n", "\n")
    assert text.startswith("> who is Frank\n# Rüdiger Frank\n"), text
    assert text.endswith("\n> \n"), text
    assert "(read as:" not in text  # asked as typed
    assert sum(line.startswith(RULE) for line in text.splitlines()) == 1


def test_chat_into_a_pipe_is_unchanged() -> None:
    out = subprocess.run([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=_env(),
                         input="who is Frank\nwhat did he say?\n", capture_output=True,
                         text=True, timeout=TIMEOUT_S, check=False)
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.startswith("# Rüdiger Frank\n")
    assert "> " not in out.stdout and RULE not in out.stdout and "(read as:" not in out.stdout
    assert out.stdout.endswith("\n\n")  # each reply, then a blank line
