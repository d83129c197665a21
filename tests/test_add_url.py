"""`briefbot add URL`: pages served over real sockets by a local aiohttp server.

The server listens on 127.0.0.1 only, and BRIEFBOT_FETCH_ALLOW_HOSTS=127.0.0.1 lets the fetch
reach it. Redirects to private and metadata addresses are refused by the address check before
any connection: every connection attempt is recorded, and none goes anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp.connector
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer

from bot.app import make_web_app
from bot.cli import main
from bot.context import AppContext
from bot.engine.documents import seed_files
from bot.engine.holder import IndexHolder
from bot.engine.index import build_index
from bot.ingest.add import add_url
from bot.ingest.fetch import FetchRefused, decode_body, fetch_page, forbidden_reason
from bot.ingest.seedfile import slugify
from bot.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval" / "extraction"
ALLOW = ["127.0.0.1"]
WAIT_S = 30

PARAGRAPHS = [
    "The city council of Riverton approved a new harbour bridge on Tuesday after a debate "
    "that lasted well into the night, ending years of argument about the crossing.",
    "Anna Kowalczyk, the city's mayor, said the bridge would cut the morning commute by "
    "twenty minutes and bring shops back to the old docks. \"This is the day the river "
    "stops dividing us,\" she told reporters outside the town hall.",
    "Critics led by the engineer Tomasz Brandt warned that the budget of 140 million euros "
    "was too low for a structure of that length, and that the ferry operators would lose "
    "their living within two years of the opening.",
    "Construction is due to start in the spring, and the council expects the first cars "
    "to cross the bridge before the end of the decade, weather and funding permitting.",
]


def article_html(title: str = "Riverton approves the harbour bridge", *,
                 paragraphs: list[str] = PARAGRAPHS, head: str = "",
                 canonical: str | None = None) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head>{head}<title>{title} | Riverton Post</title>{link}
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Riverton Post">
<meta name="author" content="Maria Lindqvist">
<meta property="article:published_time" content="2025-03-04T08:00:00Z">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<article><h1>{title}</h1><p class="byline">By Maria Lindqvist</p>
{body}
</article>
<footer><p>© Riverton Post. All rights reserved.</p></footer>
</body></html>"""


LATIN1_PARAGRAPHS = [
    "Die Stadt Zürich hat am Montag den Bau einer neuen Brücke über die Limmat "
    "beschlossen, nachdem der Gemeinderat stundenlang über die Kosten gestritten hatte.",
    "Jürgen Müller, der Präsident des Gemeinderats, sagte, die Brücke werde den Verkehr "
    "in der Altstadt um ein Viertel verringern und die Cafés am Ufer beleben.",
    "Kritiker bemängeln, dass die Schätzung von 140 Millionen Franken zu niedrig sei und "
    "dass die Fähren über den Fluss nach der Eröffnung schließen müssten.",
    "Der Bau soll im Frühling beginnen; die ersten Fußgänger könnten die Brücke in vier "
    "Jahren überqueren, wenn das Wetter und die Finanzierung es erlauben.",
]
CYRILLIC_PARAGRAPHS = [
    "Городской совет Новгорода во вторник одобрил строительство нового моста через реку "
    "после долгих споров о его стоимости и о судьбе старого паромного причала.",
    "Мэр города Анна Ковальчук заявила, что мост сократит время поездки на работу на "
    "двадцать минут и вернёт торговлю в старый порт у реки.",
    "Критики во главе с инженером Томашем Брандтом предупреждают, что бюджет в сто сорок "
    "миллионов слишком мал для сооружения такой длины и сложности.",
    "Строительство должно начаться весной, а первые машины проедут по мосту до конца "
    "десятилетия, если позволят погода и финансирование проекта.",
]
FRONT_PAGE = """<!DOCTYPE html><html><head><title>Riverton Post: news</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/login">Log in</a></nav>
<ul><li><a href="/a">Bridge approved</a></li><li><a href="/b">Ferry strike</a></li>
<li><a href="/c">Weather: rain</a></li><li><a href="/d">Council votes</a></li></ul>
</body></html>"""


class Pages:
    """The test site, with the connections the fetch attempts recorded."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.app = web.Application()
        r = self.app.router
        r.add_get("/article", self.article)
        r.add_get("/latin1", self.latin1)
        r.add_get("/meta-charset", self.meta_charset)
        r.add_get("/to-private", self.redirect(lambda _: "http://10.0.0.1/secret"))
        r.add_get("/to-metadata",
                  self.redirect(lambda _: "http://169.254.169.254/latest/meta-data/"))
        r.add_get("/to-named-metadata", self.redirect(lambda _: "http://metadata.test/x"))
        r.add_get("/hop/{n}", self.hop)
        r.add_get("/huge", self.huge)
        r.add_get("/huge-declared", self.huge_declared)
        r.add_get("/gzip-bomb", self.gzip_bomb)
        r.add_get("/pdf", self.pdf)
        r.add_get("/front", self.front)
        r.add_get("/shared/{id}", self.shared)

    def origin(self, request: web.Request) -> str:
        return f"http://{request.host}"

    async def article(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        html = article_html(canonical=f"{self.origin(request)}/article")
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def latin1(self, request: web.Request) -> web.Response:
        html = article_html("Zürich baut eine Brücke", paragraphs=LATIN1_PARAGRAPHS)
        return web.Response(body=html.encode("latin-1"), headers={"Content-Type": "text/html"})

    async def meta_charset(self, request: web.Request) -> web.Response:
        html = article_html("Новгород построит мост", paragraphs=CYRILLIC_PARAGRAPHS,
                            head='<meta charset="windows-1251">')
        return web.Response(body=html.encode("cp1251"), headers={"Content-Type": "text/html"})

    def redirect(self, where):
        async def handler(request: web.Request) -> web.Response:
            raise web.HTTPFound(where(request))
        return handler

    async def hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return await self.article(request)
        raise web.HTTPFound(f"/hop/{n - 1}")

    async def huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"<p>" + b"filler words " * 5000 + b"</p>\n"
        try:
            for _ in range(200):  # ~13 MB if nobody stopped reading
                await response.write(chunk)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        return response

    async def huge_declared(self, request: web.Request) -> web.Response:
        return web.Response(body=b"<html>" + b" " * (6 * 1024 * 1024) + b"</html>",
                            content_type="text/html")

    async def gzip_bomb(self, request: web.Request) -> web.Response:
        inflated = b"<html><body><p>" + b"a" * (12 * 1024 * 1024) + b"</p></body></html>"
        return web.Response(body=gzip.compress(inflated, compresslevel=9),
                            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})

    async def pdf(self, request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.4 ...", content_type="application/pdf")

    async def front(self, request: web.Request) -> web.Response:
        return web.Response(text=FRONT_PAGE, content_type="text/html")

    async def shared(self, request: web.Request) -> web.Response:
        page = SHARED / "html" / f"{request.match_info['id']}.html.gz"
        return web.Response(body=gzip.decompress(page.read_bytes()),
                            headers={"Content-Type": "text/html"})


@pytest.fixture
async def site() -> AsyncIterator[tuple[Pages, str]]:
    pages = Pages()
    runner = web.AppRunner(pages.app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield pages, f"http://127.0.0.1:{port}"
    finally:
        await asyncio.wait_for(runner.cleanup(), WAIT_S)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address aiohttp tries to connect to (it connects through aiohappyeyeballs)."""
    attempts: list[str] = []
    real = aiohttp.connector.aiohappyeyeballs.start_connection

    async def recording(addr_infos, *args, **kwargs):
        attempts.extend(str(info[4][0]) for info in addr_infos)
        return await real(addr_infos, *args, **kwargs)

    monkeypatch.setattr(aiohttp.connector.aiohappyeyeballs, "start_connection", recording)
    return attempts


async def add(url: str, seeds: Path, allow: list[str] = ALLOW):
    return await asyncio.wait_for(add_url(url, seeds, allow_hosts=allow), WAIT_S)


async def refused(url: str, seeds: Path, allow: list[str] = ALLOW) -> str:
    with pytest.raises(FetchRefused) as caught:
        await add(url, seeds, allow)
    message = caught.value.message
    assert message.count(". ") == 0 and message.endswith("."), message  # one sentence
    assert not await asyncio.to_thread(os.listdir, seeds), "nothing is written on a refusal"
    return message


def body_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]


# --- a normal article ------------------------------------------------------------------------

async def test_article_is_written_with_front_matter_and_builds_into_the_index(
        site, tmp_path: Path) -> None:
    _, base = site
    added = await add(f"{base}/article", tmp_path)
    path = added.path
    assert path == tmp_path / "riverton-approves-the-harbour-bridge.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Riverton approves the harbour bridge\n")
    for field in ("url: ", "date: '2025-03-04'", "author: Maria Lindqvist",
                  "site: Riverton Post", "fetched: "):
        assert field in text
    body = body_of(path)
    assert "Anna Kowalczyk, the city's mayor" in body and "Home" not in body
    assert "All rights reserved" not in body
    assert await asyncio.to_thread(os.listdir, tmp_path) == [path.name]  # no temp file left
    index = build_index(tmp_path)
    doc = index.documents[0]
    assert (doc.title, doc.date, doc.authors) == (
        "Riverton approves the harbour bridge", "2025-03-04", ["Maria Lindqvist"])
    assert "Anna Kowalczyk" in index.people_names()
    assert "the city's mayor" in index.answer("who is Anna Kowalczyk").text
    assert "140 million euros" in index.answer("what did Tomasz Brandt warn about?").text


async def test_same_url_or_canonical_url_updates_the_file(site, tmp_path: Path) -> None:
    _, base = site
    first = await add(f"{base}/article", tmp_path)
    again = await add(f"{base}/article", tmp_path)
    tracked = await add(f"{base}/article?utm_source=newsletter", tmp_path)  # same canonical
    assert not first.updated and again.updated and tracked.updated
    assert first.path == again.path == tracked.path
    assert [p.name for p in seed_files(tmp_path)] == [first.path.name]


async def test_five_redirects_are_followed(site, tmp_path: Path) -> None:
    _, base = site
    added = await add(f"{base}/hop/5", tmp_path)
    assert added.article.title == "Riverton approves the harbour bridge"


# --- encodings -------------------------------------------------------------------------------

async def test_latin1_bytes_without_any_charset_come_out_right(site, tmp_path: Path) -> None:
    _, base = site
    added = await add(f"{base}/latin1", tmp_path)
    body = body_of(added.path)
    assert "Jürgen Müller, der Präsident des Gemeinderats" in body and "Zürich" in body
    assert "\ufffd" not in body and "Ã" not in body
    assert added.article.title == "Zürich baut eine Brücke"


async def test_meta_charset_is_used_when_the_header_has_none(site, tmp_path: Path) -> None:
    _, base = site
    added = await add(f"{base}/meta-charset", tmp_path)
    assert added.page.charset == "cp1251"
    assert "Мэр города Анна Ковальчук заявила" in body_of(added.path)
    assert added.path.name == "article.md"  # a title with no ASCII letters


def test_decoding_order_header_then_meta_then_detection() -> None:
    html = '<meta charset="utf-8"><p>caf\u00e9</p>'
    assert decode_body(html.encode("cp1252"), "windows-1252")[0].endswith("café</p>")
    assert decode_body(html.encode("utf-8"), None) == (html, "utf-8")
    assert decode_body("\ufeffé".encode(), None)[0] == "é"
    assert slugify("Putin & Kim: the arms deal") == "putin-kim-the-arms-deal"


# --- safety ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path,reason", [
    ("/to-private", "10.0.0.1 is a private address"),
    ("/to-metadata", "169.254.169.254 is a cloud metadata address"),
])
async def test_redirect_to_a_private_address_is_refused_before_connecting(
        site, tmp_path: Path, connections: list[str], path: str, reason: str) -> None:
    _, base = site
    message = await refused(f"{base}{path}", tmp_path)
    assert reason in message
    assert set(connections) == {"127.0.0.1"}, connections  # only the test server


class FakeDNS(AbstractResolver):
    """metadata.test resolves to the metadata address; nothing else resolves."""

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host == "metadata.test":
            return [{"hostname": host, "host": "169.254.169.254", "port": port,
                     "family": socket.AF_INET, "proto": 0, "flags": 0}]
        raise OSError(f"no such host {host}")

    async def close(self) -> None:
        return None


async def test_a_host_name_resolving_to_metadata_is_refused_by_the_resolver(
        site, connections: list[str]) -> None:
    _, base = site
    with pytest.raises(FetchRefused) as caught:
        await asyncio.wait_for(fetch_page(f"{base}/to-named-metadata", allow_hosts=ALLOW,
                                          resolver=FakeDNS()), WAIT_S)
    assert "metadata.test resolves to 169.254.169.254, a cloud metadata address" in (
        caught.value.message)
    assert set(connections) == {"127.0.0.1"}, connections


async def test_loopback_is_refused_unless_allowed(site, tmp_path: Path,
                                                  connections: list[str]) -> None:
    _, base = site
    assert "127.0.0.1 is a loopback address" in await refused(f"{base}/article", tmp_path, [])
    port = base.rsplit(":", 1)[1]
    for host, reason in (("[::1]", "::1 is a loopback"), ("[::ffff:127.0.0.1]", "a loopback"),
                         ("0.0.0.0", "an unspecified address"),
                         ("0x7f000001", "0x7f000001 resolves to 127.0.0.1, a loopback")):
        assert reason in await refused(f"http://{host}:{port}/article", tmp_path, [])
    assert connections == []
    for url in ("file:///etc/passwd", "ftp://example.com/a", "gopher://x/"):
        assert "only http and https" in await refused(url, tmp_path)
    assert "not an absolute" in await refused("example.com/news", tmp_path)


def test_address_rules() -> None:
    import ipaddress

    def reason(text: str) -> str | None:
        return forbidden_reason(ipaddress.ip_address(text))

    assert reason("93.184.216.34") is None and reason("2606:4700::1111") is None
    for text in ("127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1",
                 "fe80::1", "224.0.0.1", "0.0.0.0", "100.64.0.1", "fc00::1", "240.0.0.1",
                 "::ffff:127.0.0.1", "169.254.169.254", "fd00:ec2::254"):
        assert reason(text) is not None, text


async def test_too_many_redirects(site, tmp_path: Path) -> None:
    _, base = site
    assert "more than 5 redirects" in await refused(f"{base}/hop/6", tmp_path)


async def test_oversized_pages_are_refused(site, tmp_path: Path) -> None:
    _, base = site
    assert "over the 5 MB limit" in await refused(f"{base}/huge", tmp_path)
    assert "6.3 MB, over the 5 MB limit" in await refused(f"{base}/huge-declared", tmp_path)
    # 12 MB once decompressed, 12 kB on the wire: the limit counts what is decompressed
    assert "over the 5 MB limit" in await refused(f"{base}/gzip-bomb", tmp_path)


async def test_non_html_content_type_is_refused(site, tmp_path: Path) -> None:
    _, base = site
    message = await refused(f"{base}/pdf", tmp_path)
    assert "application/pdf" in message and "HTML" in message


async def test_pages_without_an_article_are_refused(site, tmp_path: Path) -> None:
    _, base = site
    assert "no article found" in await refused(f"{base}/front", tmp_path)
    assert "HTTP 404" in await refused(f"{base}/no-such-page", tmp_path)


async def test_a_page_that_never_arrives_times_out(tmp_path: Path) -> None:
    hang = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await hang.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with pytest.raises(FetchRefused) as caught:
            await asyncio.wait_for(fetch_page(f"http://127.0.0.1:{port}/", allow_hosts=ALLOW,
                                              timeout_s=0.5), WAIT_S)
        assert "within 0.5 seconds" in caught.value.message
    finally:
        hang.set()
        await asyncio.wait_for(runner.cleanup(), WAIT_S)


# --- a real page from the shared benchmark sample --------------------------------------------

@pytest.mark.skipif(not (SHARED / "ground-truth.json").is_file(),
                    reason="no shared extraction sample beside the checkout")
async def test_a_real_news_page(site, tmp_path: Path) -> None:
    _, base = site
    truth = json.loads((SHARED / "ground-truth.json").read_text())
    key = sorted(truth)[0]
    added = await add(f"{base}/shared/{key}", tmp_path)
    expected = set(re.findall(r"\w+", truth[key]["articleBody"].lower()))
    got = set(re.findall(r"\w+", body_of(added.path).lower()))
    assert len(expected & got) / len(expected) > 0.9
    assert added.article.title and len(added.article.paragraphs) > 3
    build_index(tmp_path)


# --- the command line ------------------------------------------------------------------------

async def test_cli_json_and_text(site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys) -> None:
    _, base = site
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    monkeypatch.setenv("BRIEFBOT_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))
    argv = ["add", f"{base}/article", "--seeds", str(seeds), "--json"]
    assert await asyncio.wait_for(asyncio.to_thread(main, argv), WAIT_S) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == str(seeds / "riverton-approves-the-harbour-bridge.md")
    assert (out["title"], out["date"], out["author"]) == (
        "Riverton approves the harbour bridge", "2025-03-04", "Maria Lindqvist")
    assert out["url"] == f"{base}/article" and out["paragraphs"] == 4
    assert "Anna Kowalczyk" in out["people"] and out["reload"] is None
    assert "not the server's seeds folder" in out["note"]

    assert await asyncio.wait_for(asyncio.to_thread(main, argv[:-1]), WAIT_S) == 0
    text = capsys.readouterr().out
    assert text.startswith("Updated 'Riverton approves the harbour bridge' (2025-03-04, by "
                           "Maria Lindqvist)")
    assert "4 paragraphs" in text and "Anna Kowalczyk" in text

    argv = ["add", f"{base}/pdf", "--seeds", str(seeds)]
    assert await asyncio.wait_for(asyncio.to_thread(main, argv), WAIT_S) == 1
    err = capsys.readouterr().err
    assert err.startswith("briefbot add: Refused: the page is application/pdf")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit) as usage:
        main(["add"])
    assert usage.value.code == 2


async def test_cli_asks_the_running_server_to_reload(
        site, seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _, base = site
    settings = Settings(seeds_dir=seeds, data_dir=tmp_path, _env_file=None)
    ctx = AppContext(settings=settings, index=IndexHolder(build_index(seeds), 1))
    client = TestClient(TestServer(make_web_app(ctx, []), host="127.0.0.1"))
    await client.start_server()
    try:
        monkeypatch.setenv("BRIEFBOT_FETCH_ALLOW_HOSTS", "127.0.0.1")
        monkeypatch.setenv("BRIEFBOT_PORT", str(client.port))
        monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
        argv = ["add", f"{base}/article", "--json", "--timeout", "30"]
        assert await asyncio.wait_for(asyncio.to_thread(main, argv), WAIT_S) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["reload"]["ok"] is True
        assert "Documents added: riverton-approves-the-harbour-bridge" in out["reload"]["text"]
        assert ctx.index.version == 2
        assert "the city's mayor" in ctx.index.current.answer("who is Anna Kowalczyk").text
    finally:
        await asyncio.wait_for(client.close(), WAIT_S)


def test_allow_hosts_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ingest.fetch import parse_allow_hosts
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv("BRIEFBOT_FETCH_ALLOW_HOSTS", " 127.0.0.1, Wiki.Intranet. ,[::1]")
    hosts = load_settings(_env_file=None).fetch_allow_hosts
    assert hosts == ["127.0.0.1", "Wiki.Intranet.", "[::1]"]
    assert parse_allow_hosts(hosts) == {"127.0.0.1", "wiki.intranet", "::1"}
    monkeypatch.setenv("BRIEFBOT_FETCH_ALLOW_HOSTS", "10.0.0.0/8")
    with pytest.raises(SettingsError, match="BRIEFBOT_FETCH_ALLOW_HOSTS"):
        load_settings(_env_file=None)
