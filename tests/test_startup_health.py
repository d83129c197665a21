"""Connections that never come up: the real `briefbot serve` as a subprocess, against the fake
Slack (tests/fake_slack.py) on 127.0.0.1 made unreachable, refusing, or slow.

- SIGTERM/SIGINT stop the process within the drain window whatever Slack does;
- /healthz answers 503 naming the platform while it is not connected;
- a refused app token, or a store that cannot be opened, stops start-up with one line;
- /healthz's index_version never goes backwards.

Every wait is bounded; stderr goes to a file (a pipe nobody reads could fill up).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import SHUTDOWN_GRACE_S, serve_until
from bot.engine.holder import IndexHolder
from bot.platform import AdapterDefaults
from bot.settings import Settings
from bot.store import open_store, open_store_url
from handlers import AppContext
from tests.fake_discord import TOKEN as DISCORD_TOKEN
from tests.fake_discord import running as running_discord
from tests.fake_slack import FakeSlack, slash_payload

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-111-222-startupstartup"
APP_TOKEN = "xapp-1-A111-222-startupstartup"
STEP_S = 30.0  # bound on one step: a process start (imports, index) or a reconnect with backoff
POLL_S = 0.05


def _unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScriptedSlack(FakeSlack):
    """The fake Slack with failures that last: every apps.connections.open answers `refuse`
    while it is set; the websocket URL it hands out points at a closed port while
    `socket_down`; auth.test waits while `auth_gate` is clear."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: str | None = None
        self.socket_down = False
        self.dead_ws_url = f"ws://127.0.0.1:{_unused_port()}/socket"
        self.auth_gate = asyncio.Event()
        self.auth_gate.set()

    @property
    def ws_url(self) -> str:
        return self.dead_ws_url if self.socket_down else super().ws_url

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            await self.auth_gate.wait()
        if method == "apps.connections.open" and self.refuse:
            self.script(method, self.refuse)
        return await super()._api(request)


class Served:
    """`python -m bot serve …` with its own environment, port and stderr file."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, stderr: Path) -> None:
        self.proc, self.port, self.stderr_path = proc, port, stderr
        self.seen: list[tuple[int, dict[str, Any]]] = []  # every /healthz answer, in order

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def health(self) -> tuple[int, dict[str, Any]] | None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
                    http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                answer = response.status, await response.json()
        except (aiohttp.ClientConnectionError, TimeoutError):
            return None  # not listening (yet, or any more)
        self.seen.append(answer)
        return answer

    async def wait_health(self, predicate: Callable[[int, dict[str, Any]], bool],
                          within: float = STEP_S) -> tuple[int, dict[str, Any]]:
        """Poll /healthz until `predicate(status, body)`; fails on timeout or an early exit."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                pytest.fail(f"serve exited ({self.proc.returncode}): {self.stderr[-2000:]}")
            answer = await self.health()
            if answer is not None and predicate(*answer):
                return answer
            await asyncio.sleep(POLL_S)
        pytest.fail(f"/healthz never matched within {within:.0f} s; last answers "
                    f"{self.seen[-3:]}; stderr: {self.stderr[-2000:]}")

    async def exit_code(self, within: float = STEP_S) -> int:
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            pytest.fail(f"serve still running after {within:.0f} s: {self.stderr[-2000:]}")

    async def stop(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """Send `sig`; (exit code, seconds it took), failing past the drain window."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = await self.exit_code(within=SHUTDOWN_GRACE_S)
        return code, time.monotonic() - started


@pytest.fixture
async def slack() -> AsyncIterator[ScriptedSlack]:
    fake = ScriptedSlack()
    await fake.start()
    try:
        yield fake
    finally:
        fake.auth_gate.set()
        await fake.close()


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start `briefbot serve --slack` (or the flags given) with the given variables, in a clean
    environment: loopback port, the shipped seeds, a SQLite store in tmp, warnings only."""
    running: list[Served] = []

    async def start(*flags: str, unset: tuple[str, ...] = (), cwd: Path = tmp_path,
                    **variables: str) -> Served:
        port = _unused_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "DISCORD_", "BRIEFBOT_")) and k != "DATABASE_URL"}
        env.update(PYTHONPATH=str(ROOT), BRIEFBOT_SEEDS_DIR=str(ROOT / "seeds"),
                   BRIEFBOT_DATA_DIR=str(tmp_path / "data"), BRIEFBOT_HOST="127.0.0.1",
                   BRIEFBOT_PORT=str(port), BRIEFBOT_LOG_LEVEL="WARNING",
                   SLACK_BOT_TOKEN=BOT_TOKEN, **variables)
        for name in unset:
            env.pop(name, None)
        stderr = tmp_path / f"stderr-{len(running)}.txt"
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", *(flags or ["--slack"]), cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err)
        running.append(Served(proc, port, stderr))
        return running[-1]

    try:
        yield start
    finally:
        for served in running:
            if served.proc.returncode is None:
                served.proc.kill()
                await served.proc.wait()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _not_connected(status: int, body: dict[str, Any]) -> bool:
    return status == 503 and body.get("status") == "connecting"


# --- Slack that never answers ---------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_serve_while_slack_is_unreachable(serve, sig: int) -> None:
    dead_api = f"http://127.0.0.1:{_unused_port()}/api/"
    served = await serve(SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=dead_api)

    status, body = await served.wait_health(lambda status, body: True)  # it is listening
    code, seconds = await served.stop(sig)  # while auth.test / Socket Mode retry
    assert code == 0, served.stderr[-2000:]
    assert seconds < SHUTDOWN_GRACE_S
    assert "Traceback" not in served.stderr and APP_TOKEN not in served.stderr

    assert status == 503, body  # what /healthz said meanwhile
    assert body["not_connected"] == ["slack"] and body["platforms"] == {"slack": "connecting"}
    assert body["index_version"] == 0


async def test_websocket_unreachable_is_503_until_it_comes_back(serve, slack) -> None:
    slack.socket_down = True
    served = await serve(SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url)

    status, body = await served.wait_health(lambda status, body: True)
    assert (status, body["not_connected"]) == (503, ["slack"]), body
    # each retry asks Slack for a fresh websocket URL (slack_sdk reused the dead one forever)
    await slack.wait_for(lambda: len(slack.calls_to("apps.connections.open")) >= 2)
    assert _not_connected(*(await served.health() or (0, {})))

    slack.socket_down = False
    _, body = await served.wait_health(lambda status, body: status == 200)
    assert body == {**body, "status": "ok", "platforms": {"slack": "connected"}}
    envelope = await slack.push("slash_commands", slash_payload(
        "/ask", "help", response_url=slack.response_url()))
    assert (await slack.ack_for(envelope))["payload"]["text"]

    code, seconds = await served.stop()
    assert code == 0 and seconds < SHUTDOWN_GRACE_S
    assert "Traceback" not in served.stderr


async def test_discord_gateway_unreachable_is_503_naming_discord(serve) -> None:
    async with running_discord() as discord:
        served = await serve("--discord", DISCORD_TOKEN=DISCORD_TOKEN,
                             DISCORD_API_URL=discord.api_url,
                             DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{_unused_port()}/gateway")
        status, body = await served.wait_health(lambda status, body: True)
        code, seconds = await served.stop()
    assert (status, body["not_connected"]) == (503, ["discord"]), body
    assert code == 0 and seconds < SHUTDOWN_GRACE_S


# --- a token Slack refuses -------------------------------------------------------------------

@pytest.mark.parametrize("error", ["invalid_auth", "not_allowed_token_type"])
async def test_refused_app_token_stops_start_up_with_one_line(serve, slack, error: str) -> None:
    slack.refuse = error
    served = await serve(SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url)

    assert await served.exit_code() == 2
    lines = _lines(served.stderr)
    assert len(lines) == 1, served.stderr[-3000:]
    assert lines[0].startswith(f"briefbot: SLACK_APP_TOKEN: Slack refused it ({error});")
    assert APP_TOKEN not in served.stderr


async def test_token_refused_after_an_outage_still_stops_with_that_line(serve, slack) -> None:
    slack.socket_down = True
    served = await serve(SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url)
    await served.wait_health(_not_connected)

    slack.refuse = "invalid_auth"  # revoked while Slack was out of reach
    assert await served.exit_code() == 2
    lines = _lines(served.stderr)
    assert lines[-1].startswith("briefbot: SLACK_APP_TOKEN: Slack refused it (invalid_auth);")
    assert "Traceback" not in served.stderr
    assert all("retrying" in line or "still not connected" in line for line in lines[:-1])


# --- a store that cannot be opened -----------------------------------------------------------

@pytest.mark.parametrize("url", [
    "mysql://bot:pw-s3cret@127.0.0.1/bb",
    "postgresql://bot:pw-s3cret@127.0.0.1/bb",
    "postgresql+asyncpg://bot:pw-s3cret@127.0.0.1:{port}/bb",
], ids=["mysql", "postgresql-without-asyncpg", "unreachable"])
async def test_bad_database_url_stops_start_up_with_one_line(serve, slack, url: str) -> None:
    served = await serve(DATABASE_URL=url.format(port=_unused_port()),
                         SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef",
                         SLACK_API_URL=slack.api_url)

    assert await served.exit_code() == 2
    lines = _lines(served.stderr)
    assert len(lines) == 1, served.stderr[-3000:]
    assert lines[0].startswith("briefbot: DATABASE_URL: cannot open ")
    assert "pw-s3cret" not in lines[0]
    fix = ("must name an async driver" if "asyncpg" not in url
           else "Start PostgreSQL or correct DATABASE_URL")
    assert fix in lines[0]


# --- the index version -----------------------------------------------------------------------

async def test_index_version_is_the_stores_from_the_start_and_never_goes_back(
        serve, slack, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    slack.auth_gate.clear()  # start-up stays at auth.test until released
    served = await serve(DATABASE_URL=url, SLACK_API_URL=slack.api_url,
                         SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef")
    store = await open_store_url(url)  # another replica on the same store
    try:
        _, first = await served.wait_health(lambda status, body: "index_version" in body)
        assert first["index_version"] == await store.get_index_version() == 0
        slack.auth_gate.set()
        await slack.wait_for(lambda: slack.calls_to("auth.test"))

        version = await store.bump_index_version("reload on another replica")
        _, body = await served.wait_health(
            lambda status, body: body.get("index_version") == version)
        assert status_ok(body)
    finally:
        await store.close()
    versions = [body["index_version"] for _, body in served.seen if "index_version" in body]
    assert versions == sorted(versions), versions  # never backwards
    code, _ = await served.stop()
    assert code == 0


def status_ok(body: dict[str, Any]) -> bool:
    return body.get("status") == "ok" and body.get("platforms") == {"slack": "connected"}


# --- stop wins whatever is going on -----------------------------------------------------------

class StuckAdapter(AdapterDefaults):
    """An adapter whose start never finishes (a platform that never answers)."""

    name = "stuck"
    connected = False

    def __init__(self) -> None:
        self.starting = asyncio.Event()
        self.stopped = False

    def attach_routes(self, app: web.Application) -> None:
        pass

    async def start(self) -> None:
        self.starting.set()
        await asyncio.Event().wait()

    async def stop(self) -> None:
        self.stopped = True

    async def post_briefing(self, channel_id: str, briefing: Any) -> None:
        return None



def _listening(port: int) -> set[str]:
    """The local addresses that listen on `port`, from the kernel's socket tables."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, _, hex_port = local.rpartition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's socket tables")
async def test_without_settings_serve_listens_on_loopback_and_keeps_data_in_the_users_folder(
        serve, slack, tmp_path: Path) -> None:
    """No BRIEFBOT_HOST, no BRIEFBOT_DATA_DIR (a laptop, not the image): loopback only, and
    the store and admin token in the user's data directory, not in the folder run from."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    served = await serve(SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url, HOME=str(home),
                         unset=("BRIEFBOT_HOST", "BRIEFBOT_DATA_DIR", "XDG_DATA_HOME"), cwd=work)
    await served.wait_health(lambda status, body: status == 200)
    assert _listening(served.port) == {"0100007F"}  # 127.0.0.1, and nothing else
    data = home / ".local" / "share" / "briefbot"
    assert (data / "briefbot.db").is_file() and (data / "admin.token").is_file()
    assert list(work.iterdir()) == []
    code, _ = await served.stop()
    assert code == 0, served.stderr[-2000:]


async def test_stop_wins_while_an_adapter_is_still_starting(tmp_path: Path) -> None:
    settings = Settings(seeds_dir=tmp_path, data_dir=tmp_path, host="127.0.0.1",
                        port=_unused_port(), _env_file=None)
    ctx = AppContext(settings=settings, index=IndexHolder(version=0),
                     store=await open_store(settings))
    adapter, stop = StuckAdapter(), asyncio.Event()
    server = asyncio.create_task(serve_until(ctx, [adapter], stop))  # type: ignore[list-item]
    await asyncio.wait_for(adapter.starting.wait(), 5)
    stop.set()
    assert await asyncio.wait_for(server, 5) == 0
    assert adapter.stopped


_STUCK_SHUTDOWN = """
import asyncio, sys, time
from bot.signals import HardStop, install_signal_handlers

async def main():
    stop = asyncio.Event()
    install_signal_handlers(stop, on_signal=HardStop(float(sys.argv[1])).arm)
    print("ready", flush=True)
    await stop.wait()
    print("stopping", flush=True)
    await asyncio.to_thread(time.sleep, 60)  # a thread nobody can cancel: asyncio.run waits

asyncio.run(main())
"""


async def _stuck_process(deadline_s: float) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _STUCK_SHUTDOWN, str(deadline_s), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), STEP_S) == b"ready\n"
    return proc


async def test_hard_stop_ends_a_shutdown_that_is_stuck() -> None:
    proc = await _stuck_process(0.5)
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 5)
        assert proc.returncode == 1
        assert err.decode().strip() == ("briefbot: shutdown did not finish within 0.5 s; "
                                        "stopping now")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_second_signal_stops_at_once() -> None:
    proc = await _stuck_process(60)
    try:
        assert proc.stdout is not None
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.stdout.readline(), 5) == b"stopping\n"
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 5)
        assert proc.returncode == 1
        assert err.decode().strip() == "briefbot: second signal: stopping now"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
