"""Load test for Slack HTTP mode: signed /ask requests at concurrency 100 on loopback.

Starts the real `briefbot serve --slack` and two bare slack-bolt apps: one acking a fixed
sentence, one acking the very Block Kit message briefbot returns for `/ask who is
Tertitskiy` (captured from briefbot once at start, so both carry the same payload). Each
runs in its own process; the same aiohttp load generator (this process, which also runs the
fake Slack that answers auth.test) drives them in turn, round after round. Prints
requests/s, p50, p99 and errors for each run, then the medians and briefbot's ratio to each
bare app's median requests/s.

    python bench/slack_load.py [--seconds 10] [--concurrency 100] [--rounds 3]
    python bench/slack_load.py --breakdown   # where the time goes, layer by layer

Targets: 0 errors, p99 <= 300 ms, briefbot >= 0.8x the same-payload bare app's requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_slack import FakeSlack, form, signed_headers, slash_payload  # noqa: E402

SECRET = "bench-signing-secret"
QUESTIONS = [
    "who is Tertitskiy",
    "why might the deal fail",
    "what did Frank say",
    "where is the meeting planned",
    "what does Putin want from North Korea",
    "when is the meeting",
]
BARE_SENTENCE = "Thanks, this is a fixed answer."
BENCH_QUESTION = "who is Tertitskiy"


# --- the bare slack-bolt app (run with --bare PORT API_URL) -------------------------------

def run_bare(port: int, api_url: str, payload_path: str | None = None) -> None:
    """slack-bolt with the same server wiring as briefbot, acking a fixed sentence, or (with
    `payload_path`) the Block Kit message in that file, the way a bolt app acks blocks."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    payload = None if payload_path is None else json.loads(Path(payload_path).read_text())

    async def main() -> None:
        bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
                        signing_secret=SECRET, process_before_response=True)

        @bolt.command("/ask")
        async def ask(ack) -> None:  # type: ignore[no-untyped-def]
            if payload is None:
                await ack(text=BARE_SENTENCE, response_type="ephemeral")
            else:
                await ack(text=payload["text"], blocks=payload["blocks"],
                          response_type=payload["response_type"])

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(
                await to_bolt_request(request)))

        async def healthz(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_post("/slack/events", events)
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


# --- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(kind: str, port: int, api_url: str, log_path: Path,
                 payload_path: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api_url, "BRIEFBOT_HOST": "127.0.0.1", "BRIEFBOT_PORT": str(port),
           "BRIEFBOT_DATA_DIR": str(log_path.parent)}
    env.pop("SLACK_APP_TOKEN", None)
    if kind == "bare":
        cmd = [sys.executable, __file__, "--bare", str(port), api_url]
    elif kind == "bare-same":
        cmd = [sys.executable, __file__, "--bare", str(port), api_url, str(payload_path)]
    else:
        cmd = [sys.executable, "-m", "bot", "serve", "--slack"]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=log_path.open("w"),
                            preexec_fn=functools.partial(pin, SERVER_CPU))


SERVER_CPU, GENERATOR_CPU = 1, 0


def pin(cpu: int) -> None:
    """Give the server and the generator a core each (when there are two), so they don't
    fight over one and both runs see the same split."""
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


async def wait_healthy(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen,
                       log_path: Path) -> None:
    async with asyncio.timeout(120):
        while True:
            if proc.poll() is not None:
                log = await asyncio.to_thread(log_path.read_text)
                raise SystemExit(f"server exited ({proc.returncode}):\n{log}")
            try:
                async with session.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


# --- the load generator -------------------------------------------------------------------

@dataclass
class Figures:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    generator_cpu: float
    server_cpu_s: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]

    @property
    def cpu_us(self) -> float:
        """Server CPU time (all its threads) per request: unlike requests/s, it hardly moves
        when other work on the machine takes turns on the server's core."""
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    def line(self) -> str:
        return (f"{self.name:<10} {self.rps:8.0f} req/s   p50 {self.pct(50):6.1f} ms   "
                f"p99 {self.pct(99):6.1f} ms   errors {self.errors}   server CPU "
                f"{self.cpu_us:4.0f} µs/request   ({self.requests} requests; "
                f"load generator used {self.generator_cpu:.0%} of its core)")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far, all threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(session: aiohttp.ClientSession, url: str, response_url: str, name: str,
               seconds: float, concurrency: int, expect: str | None,
               server_pid: int | None = None) -> Figures:
    latencies: list[float] = []
    errors = 0
    wanted = None if expect is None else json.dumps(expect).encode()

    def check(body: bytes, n: int) -> bool:
        """A cheap look at every answer, a full parse of every 50th: the generator must stay
        lighter than the servers, whatever the size of their answers."""
        if n % 50 == 0:
            text = json.loads(body).get("text")
            return bool(text) and (expect is None or text == expect)
        return body.startswith(b"{") and b'"text"' in body and (wanted is None or wanted in body)

    count = 0
    deadline = 0.0

    async def worker(n: int) -> None:
        nonlocal errors, count
        i = n
        while time.perf_counter() < deadline:
            body = form(slash_payload("/ask", QUESTIONS[i % len(QUESTIONS)],
                                      response_url=response_url, user_id=f"U{n}"))
            i += 1
            started = time.perf_counter()
            try:
                async with session.post(url, data=body.encode(),
                                        headers=signed_headers(SECRET, body)) as resp:
                    ok = resp.status == 200 and check(await resp.read(), count)
            except (TimeoutError, aiohttp.ClientError, ValueError):
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            count += 1
            errors += not ok

    deadline = time.perf_counter() + 1.0  # warm-up, not counted
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    latencies.clear()
    count = errors = 0
    server_cpu = process_cpu_s(server_pid) if server_pid else float("nan")
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + seconds
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    server_cpu = (process_cpu_s(server_pid) if server_pid else float("nan")) - server_cpu
    return Figures(name, count, errors, elapsed, latencies, (time.process_time() - cpu) / elapsed,
                   server_cpu)


class Server:
    """One server process (bare or briefbot) on its own port, pinned to the server core."""

    def __init__(self, kind: str, fake: FakeSlack, tmp: Path, payload_path: Path | None = None,
                 expect: str | None = None) -> None:
        self.kind, self.port, self.expect = kind, free_port(), expect
        self.log_path = tmp / f"{kind}.log"
        self.proc = start_server(kind, self.port, fake.api_url, self.log_path, payload_path)
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def measure(server: Server, fake: FakeSlack, args: argparse.Namespace) -> Figures:
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await wait_healthy(session, server.base, server.proc, server.log_path)
        return await load(session, f"{server.base}/slack/events", fake.response_url(),
                          server.kind, args.seconds, args.concurrency, server.expect,
                          server.proc.pid)


async def capture_ack(server: Server, fake: FakeSlack) -> dict:
    """briefbot's ack for the benchmark question, as the same-payload bare app will send it."""
    async with aiohttp.ClientSession() as session:
        await wait_healthy(session, server.base, server.proc, server.log_path)
        body = form(slash_payload("/ask", BENCH_QUESTION, response_url=fake.response_url()))
        async with session.post(f"{server.base}/slack/events", data=body.encode(),
                                headers=signed_headers(SECRET, body)) as resp:
            if resp.status != 200:
                raise SystemExit(f"briefbot answered the benchmark question with {resp.status}")
            ack = json.loads(await resp.read())
    if not ack.get("blocks"):
        raise SystemExit(f"briefbot's ack has no blocks: {ack}")
    return ack


def median_of(runs: list[Figures], what: str) -> float:
    return statistics.median(getattr(r, what) if what == "rps" else r.pct(99) for r in runs)


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


# --- where the time goes (run with --breakdown) -------------------------------------------

async def breakdown(rounds: int = 5, n: int = 600) -> None:
    """Time per /ask inside slack-bolt's dispatch (no HTTP), adding one layer at a time."""
    import logging

    from pydantic import SecretStr
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.adapters.slack.acks import ack_body
    from bot.app import build_context, make_adapters, make_web_app
    from bot.observability import setup_logging, stop_logging
    from bot.settings import Settings
    from handlers.registry import HANDLERS

    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:  # noqa: ASYNC230
        # as serve logs (queued, production format), output discarded
        setup_logging("INFO", False, stream=devnull, queued=True)
        settings = Settings(_env_file=None, data_dir=Path(tmp),
                            slack_bot_token=SecretStr("xoxb-bench"), slack_app_token=None,
                            slack_signing_secret=SecretStr(SECRET), slack_api_url=fake.api_url)
        ctx = await build_context(settings)
        [adapter] = make_adapters(ctx, ["slack"])
        make_web_app(ctx, [adapter])  # installs the metrics hook, as in serve
        bare = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url),
                        signing_secret=SECRET, process_before_response=True)

        @bare.command("/ask")
        async def ask(ack) -> None:  # type: ignore[no-untyped-def]
            await ack(text=BARE_SENTENCE, response_type="ephemeral")

        same = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url),
                        signing_secret=SECRET, process_before_response=True)
        payload = json.loads(ack_body(ctx.index.current.answer(BENCH_QUESTION)))

        @same.command("/ask")
        async def ask_same(ack) -> None:  # type: ignore[no-untyped-def]
            await ack(text=payload["text"], blocks=payload["blocks"],
                      response_type=payload["response_type"])

        answers = {q: ctx.index.current.answer(q) for q in QUESTIONS}
        real, store = HANDLERS["ask"], ctx.store

        async def precomputed(req, _ctx):  # type: ignore[no-untyped-def]
            return answers[req.text]

        steps = [  # (label, app, ask handler, store, log level)
            ("bare slack-bolt, fixed ack", bare, real, store, logging.INFO),
            ("bare slack-bolt, same Block Kit ack", same, real, store, logging.INFO),
            ("briefbot adapter: signature, request, dispatch, ack", adapter.app, precomputed,
             None, logging.WARNING),
            ("+ the per-command log line", adapter.app, precomputed, None, logging.INFO),
            ("+ the engine answering", adapter.app, real, None, logging.INFO),
            ("+ queueing the question for the store", adapter.app, real, store, logging.INFO),
        ]
        best = [float("inf")] * len(steps)
        for _ in range(rounds):
            for k, (_, app, handler, st, level) in enumerate(steps):
                HANDLERS["ask"], ctx.store = handler, st
                logging.getLogger().setLevel(level)
                bodies = [form(slash_payload("/ask", QUESTIONS[i % len(QUESTIONS)],
                                             response_url=fake.response_url()))
                          for i in range(n)]
                started = time.perf_counter()
                for body in bodies:
                    headers = {k.lower(): v for k, v in signed_headers(SECRET, body).items()}
                    if app is adapter.app:  # briefbot checks the signature in its front door
                        assert adapter.edge.signature_problem(
                            body.encode(), headers["x-slack-request-timestamp"],
                            headers["x-slack-signature"]) is None
                    await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
                best[k] = min(best[k], (time.perf_counter() - started) / n * 1e6)
        HANDLERS["ask"], ctx.store = real, store
        questions = ctx.question_log
        if questions is not None:
            await questions.close()
        await ctx.store.close()
        stop_logging()
    await fake.close()
    for (label, *_), us in zip(steps, best, strict=True):
        print(f"{label:<50} {us:7.0f} µs per request")


async def main(args: argparse.Namespace) -> int:
    pin(GENERATOR_CPU)
    print(f"machine: {machine()}")
    print(f"{args.concurrency} concurrent signed /ask requests over HTTP for {args.seconds:.0f} s "
          f"each, loopback; the three servers alternate for {args.rounds} rounds, each "
          "in its own process on the other core")
    fake = await FakeSlack().start()
    runs: dict[str, list[Figures]] = {"bare": [], "bare-same": [], "briefbot": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            servers = [Server("bare", fake, Path(tmp), expect=BARE_SENTENCE),
                       Server("briefbot", fake, Path(tmp))]
            try:
                ack = await capture_ack(servers[1], fake)
                payload_path = Path(tmp) / "ack.json"
                payload_path.write_text(json.dumps(ack))
                print(f"same-payload bare app acks briefbot's answer to /ask {BENCH_QUESTION} "
                      f"({len(json.dumps(ack)):,} bytes of JSON)", flush=True)
                servers.insert(1, Server("bare-same", fake, Path(tmp), payload_path,
                                         expect=ack["text"]))
                for n in range(args.rounds):  # alternating, so a busy moment hits all three
                    for server in servers:
                        figures = await measure(server, fake, args)
                        runs[server.kind].append(figures)
                        print(figures.line(), flush=True)
                    ours = runs["briefbot"][-1].rps
                    print(f"round {n + 1}    ratio {ours / runs['bare-same'][-1].rps:.2f}x "
                          f"same payload, {ours / runs['bare'][-1].rps:.2f}x fixed sentence",
                          flush=True)
            finally:
                for server in servers:
                    server.stop()
    finally:
        await fake.close()
    bare_rps, same_rps = median_of(runs["bare"], "rps"), median_of(runs["bare-same"], "rps")
    ours_rps = median_of(runs["briefbot"], "rps")
    ours_p99 = median_of(runs["briefbot"], "p99")
    errors = sum(r.errors for rs in runs.values() for r in rs)
    ratio = ours_rps / same_rps if same_rps else 0.0
    fixed_ratio = ours_rps / bare_rps if bare_rps else 0.0
    ok = errors == 0 and ours_p99 <= 300 and ratio >= 0.8
    cpu = {kind: statistics.median(r.cpu_us for r in rs) for kind, rs in runs.items()}
    print(f"server CPU per request (median): bare {cpu['bare']:.0f} µs, bare same payload "
          f"{cpu['bare-same']:.0f} µs, briefbot {cpu['briefbot']:.0f} µs "
          f"({cpu['briefbot'] - cpu['bare-same']:+.0f} µs on the same-payload bare app)")
    print(f"median     bare (fixed sentence) {bare_rps:.0f} req/s, bare (same payload) "
          f"{same_rps:.0f} req/s, briefbot {ours_rps:.0f} req/s, briefbot p99 "
          f"{ours_p99:.1f} ms, errors {errors}")
    print(f"ratio      {ratio:.2f}x the same-payload bare app's requests/s "
          f"({fixed_ratio:.2f}x the fixed-sentence one)  "
          f"(targets: 0 errors, p99 <= 300 ms, >= 0.8x same payload) -> "
          f"{'PASS' if ok else 'MISS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--bare":
        run_bare(int(sys.argv[2]), sys.argv[3], *sys.argv[4:])
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements of each server, alternating; medians are quoted")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: time per request inside slack-bolt, layer by layer")
    options = parser.parse_args()
    if options.breakdown:
        print(f"machine: {machine()}\nTime per signed /ask inside slack-bolt's dispatch, "
              "one at a time, no HTTP, best of 5 rounds of 600:")
        asyncio.run(breakdown())
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(options)))
