"""The command-line contract, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=ENV, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_ask_json_contract() -> None:
    out = run("ask", "who is Tertitskiy", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data["text"], str) and data["abstained"] is False
    assert data["intent"] == "who"
    c = data["citations"][0]
    assert set(c) >= {"document", "paragraph", "quote"} and isinstance(c["paragraph"], int)


def test_ask_text_for_people() -> None:
    out = run("ask", "where is the meeting planned")
    assert out.returncode == 0 and "Vladivostok" in out.stdout and "¶" in out.stdout


def test_ask_stdin_stream_one_object_per_line() -> None:
    out = run("ask", "-", "--json", stdin="who is Frank\n\nwho is Biden\n")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 3
    first, empty, biden = (json.loads(line) for line in lines)
    assert "Vienna" in first["text"]
    assert empty["intent"] == "usage" and "/ask" in empty["text"]
    assert biden["abstained"] is True


def test_chat_reads_follow_ups_in_context() -> None:
    """`briefbot chat`: one message a line, each read after the ones before it."""
    out = run("chat", "--json", stdin="who is Frank\nwhat did he say?\n\x1b[31mwhy?\n")
    assert out.returncode == 0, out.stderr
    card, said, why = (json.loads(line) for line in out.stdout.strip().splitlines())
    person = card["title"]
    assert "Frank" in person and not card["abstained"]
    assert said["question"] == f"what did {person} say?" and said["citations"]
    assert why["question"].startswith("why ") and "\x1b" not in out.stdout


def test_chat_asks_who_he_is_before_anyone_is_named() -> None:
    out = run("chat", stdin="what did he say?\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Who do you mean?")


def test_ask_other_seeds_folder(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("Jane Roe, a historian at Example University, spoke.\n")
    out = run("ask", "who is Jane Roe", "--json", "--seeds", str(tmp_path))
    assert "historian at Example University" in json.loads(out.stdout)["text"]


def test_bad_seeds_folder_is_one_clear_line(tmp_path: Path) -> None:
    out = run("ask", "who is X", "--seeds", str(tmp_path / "missing"))
    assert out.returncode == 1 and "does not exist" in out.stderr
    assert "Traceback" not in out.stderr


def test_over_long_question_gets_usage_not_traceback() -> None:
    out = run("ask", "why " * 200, "--json")
    data = json.loads(out.stdout)
    assert data["intent"] == "error" and "500" in data["text"]


def test_ask_does_not_import_platform_libraries_http_or_the_store() -> None:
    """`briefbot ask` from a cold process: no chat platform, no HTTP stack, no database code
    (they are the server's; the command line's start-up time is spent on the index)."""
    code = ("import sys; from bot.cli import main; main(['ask', 'who is Frank']); "
            "bad = sorted({m.split('.')[0] for m in sys.modules} & {'slack_bolt', 'slack_sdk', "
            "'discord', 'aiohttp', 'sqlalchemy', 'alembic', 'prometheus_client'}); "
            "print('BAD', bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_index_shows_people_roles_and_quotes() -> None:
    out = run("index")
    assert "Rüdiger Frank — Professor of East Asian Studies" in out.stdout
    assert "quote:" in out.stdout


def test_eval_prints_score_by_kind() -> None:
    dev = ROOT.parent / "shared" / "eval" / "dev_questions.json"
    if not dev.exists():
        return
    out = run("eval", str(dev))
    assert out.returncode == 0, out.stdout
    assert "total" in out.stdout and "who" in out.stdout


def test_eval_strict_fails_only_on_a_wrong_answer(tmp_path: Path) -> None:
    qfile = tmp_path / "q.json"
    qfile.write_text(json.dumps([{"id": "a", "kind": "abstain", "question": "who is Angela Merkel",
                                  "must_include_any": []}]))
    assert run("eval", str(qfile), "--strict").returncode == 0
    qfile.write_text(json.dumps([{"id": "b", "kind": "who", "question": "who is Angela Merkel",
                                  "must_include_any": [["chancellor"]]}]))
    assert run("eval", str(qfile), "--strict").returncode != 0


def test_a_command_keeps_its_store_in_the_users_data_directory(tmp_path: Path) -> None:
    """Without BRIEFBOT_DATA_DIR, `briefbot gaps` opens its SQLite store in the user's data
    directory, not in a data/ of the folder it runs in."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in ENV.items()
           if k not in ("BRIEFBOT_DATA_DIR", "DATABASE_URL", "XDG_DATA_HOME")}
    out = subprocess.run([sys.executable, "-m", "bot", "gaps"], cwd=work,
                         env={**env, "HOME": str(home), "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (home / ".local" / "share" / "briefbot" / "briefbot.db").is_file()
    assert list(work.iterdir()) == []
