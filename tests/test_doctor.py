"""`briefbot doctor` against tmp seeds, the real store, and fake Slack/Discord on 127.0.0.1."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import main
from bot.doctor import run_doctor

ROOT = Path(__file__).resolve().parent.parent
GOOD_BOT = "xoxb-111-222-goodgoodgood"
GOOD_APP = "xapp-1-A111-222-goodgoodgood"
GOOD_DISCORD = "discord-good-token-0123456789"

_PLATFORM_VARS = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                  "DISCORD_TOKEN", "DISCORD_API_URL", "DATABASE_URL", "BRIEFBOT_PORT"]


def _fake_platforms() -> web.Application:
    """Slack's auth.test / apps.connections.open and Discord's /users/@me, token-checked."""

    async def auth_test(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GOOD_BOT}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "team": "Acme", "user": "briefbot",
                                  "team_id": "T1", "user_id": "U1"})

    async def connections_open(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GOOD_APP}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "url": "wss://127.0.0.1/link"})

    async def users_me(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {GOOD_DISCORD}":
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response({"id": "42", "username": "briefbot"})

    app = web.Application()
    app.router.add_post("/api/auth.test", auth_test)
    app.router.add_post("/api/apps.connections.open", connections_open)
    app.router.add_get("/discord/users/@me", users_me)
    return app


@pytest.fixture
async def platforms() -> AsyncIterator[str]:
    server = TestServer(_fake_platforms(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A clean environment in an empty folder (no .env) with one real article as seeds."""
    for name in _PLATFORM_VARS:
        monkeypatch.delenv(name, raising=False)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    article = next(p for p in sorted((ROOT / "seeds").iterdir()) if p.suffix in {".txt", ".md"})
    shutil.copy(article, seeds / article.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))
    return {"seeds": seeds, "data": tmp_path / "data"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _doctor() -> tuple[int, str]:
    out = io.StringIO()
    code = await run_doctor(out=out)
    return code, out.getvalue()


def _line(report: str, name: str, status: str) -> str:
    return next(line for line in report.splitlines()
                if line.split()[:2] == [status, name])


async def test_healthy_setup_passes(env, platforms, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_BOT)
    monkeypatch.setenv("SLACK_APP_TOKEN", GOOD_APP)
    monkeypatch.setenv("SLACK_API_URL", f"{platforms}/api/")
    monkeypatch.setenv("DISCORD_TOKEN", GOOD_DISCORD)
    monkeypatch.setenv("DISCORD_API_URL", f"{platforms}/discord")
    code, report = await _doctor()
    assert code == 0, report
    assert "1 document," in _line(report, "seeds", "ok")
    assert "SQLite file" in _line(report, "store", "ok")
    assert "workspace Acme as @briefbot" in report and "Socket Mode" in report
    assert "logged in as briefbot (id 42)" in _line(report, "discord", "ok")
    assert "All checks passed." in report and "FAIL" not in report
    for token in (GOOD_BOT, GOOD_APP, GOOD_DISCORD):
        assert token not in report


async def test_no_tokens_is_fine_for_the_cli(env):
    code, report = await _doctor()
    assert code == 0, report
    assert "SLACK_BOT_TOKEN is not set" in _line(report, "slack", "skip")
    assert "`briefbot serve` needs SLACK_BOT_TOKEN" in report


async def test_missing_seeds_folder_says_what_to_fix(env, monkeypatch, tmp_path):
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(tmp_path / "no-such-folder"))
    code, report = await _doctor()
    assert code == 1
    assert "no-such-folder" in _line(report, "seeds", "FAIL")
    assert "fix: Create it and put the articles (.txt or .md) in it" in report
    assert "1 problem found" in report


async def test_broken_seed_file_is_named(env):
    (env["seeds"] / "empty-article.txt").write_text("", encoding="utf-8")
    code, report = await _doctor()
    assert code == 1
    assert "empty-article.txt" in _line(report, "seeds", "FAIL")
    fix = report.splitlines()[report.splitlines().index(_line(report, "seeds", "FAIL")) + 1]
    assert fix.strip().startswith("fix: ")


async def test_rejected_tokens_say_where_to_get_new_ones(env, platforms, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-999-888-revokedrevoked")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SLACK_API_URL", f"{platforms}/api/")
    monkeypatch.setenv("DISCORD_TOKEN", "Bot " + GOOD_DISCORD)
    monkeypatch.setenv("DISCORD_API_URL", f"{platforms}/discord")
    code, report = await _doctor()
    assert code == 1
    assert "invalid_auth" in _line(report, "slack", "FAIL")
    assert "OAuth & Permissions" in report
    assert "HTTP mode" in _line(report, "slack", "ok")
    assert "starts with 'Bot '" in _line(report, "discord", "FAIL")
    assert "revokedrevoked" not in report and GOOD_DISCORD not in report

    monkeypatch.setenv("DISCORD_TOKEN", "discord-wrong-token-0000000000")
    code, report = await _doctor()
    assert "401" in _line(report, "discord", "FAIL") and "Developer Portal" in report


async def test_unreachable_database_and_discord(env, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://bot:pw-s3cret@127.0.0.1:{port}/bb")
    monkeypatch.setenv("DISCORD_TOKEN", GOOD_DISCORD)
    monkeypatch.setenv("DISCORD_API_URL", f"http://127.0.0.1:{port}/api/v10")
    code, report = await _doctor()
    assert code == 1
    assert "cannot open" in _line(report, "store", "FAIL") and "pw-s3cret" not in report
    assert "fix: Start PostgreSQL or correct DATABASE_URL" in report
    assert "cannot reach" in _line(report, "discord", "FAIL")
    assert "2 problems found" in report


def test_cli_subcommand_reports_a_bad_setting(env, monkeypatch, capsys):
    monkeypatch.setenv("BRIEFBOT_PORT", "not-a-port")
    assert main(["doctor"]) == 1
    report = capsys.readouterr().out
    assert "BRIEFBOT_PORT" in _line(report, "settings", "FAIL")
    assert "fix: Correct that variable in the environment or in .env" in report


def test_cli_subcommand_passes_with_seeds_flag(env, capsys, tmp_path):
    assert main(["doctor", "--seeds", str(env["seeds"])]) == 0
    assert "ok    seeds" in capsys.readouterr().out
