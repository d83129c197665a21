"""Fetch one web page for `briefbot add`, treating the URL as untrusted input.

Only http and https. Every hop (the URL typed and each redirect, at most 5) is checked before
anything is sent: a host written as an address is checked as written, a host name is resolved
by `GuardedResolver`, which refuses the whole host when any of its addresses is loopback,
private, link-local (cloud metadata), multicast, reserved or otherwise not global. aiohttp then
connects only to the addresses the resolver returned, so the address checked is the address
connected to. Hosts in `BRIEFBOT_FETCH_ALLOW_HOSTS` skip the address check.

Limits: 10 s per fetch (all hops), 5 MB per page (streamed; reading stops past it), HTML,
XHTML and XML content types only (RSS, Atom and XML for a feed: `FEED_TYPES`). The body
is decoded with the header's charset, else the page's `<meta charset>`, else detection
(charset_normalizer), else UTF-8 with replacements.
Every refusal is a `FetchRefused` whose message is one sentence naming the reason.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.errors import UserFacingError

TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 5 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml",
                        "application/xml", "text/xml"})
FEED_ACCEPT = ("application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,"
               "application/xml;q=0.8,text/xml;q=0.8")
USER_AGENT = "briefbot/0.1 (+article import by an admin)"
# Metadata services some clouds expose at addresses that are otherwise global or shared.
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._\-]+)""")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(UserFacingError):
    """The page was not fetched or not kept; `message` is one sentence saying why."""


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: the URL asked for, the URL it ended at, and its text."""

    requested_url: str
    final_url: str
    status: int
    content_type: str
    charset: str
    text: str
    size: int
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """A conditional request answered 304 (the page has no text then)."""
        return self.status == 304


def forbidden_reason(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused ("a private address"...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_reason(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = ((address.is_loopback, "a loopback address"),
              (address.is_link_local, "a link-local address"),
              (address.is_multicast, "a multicast address"),
              (address.is_unspecified, "an unspecified address"),
              (address.is_reserved, "a reserved address"),
              (address.is_private, "a private address"))
    for hit, reason in checks:
        if hit:
            return reason
    if not address.is_global:
        return "a non-public address"
    return None


def parse_allow_hosts(items: Iterable[str]) -> frozenset[str]:
    """Host names (lower-cased) and addresses (normalised) an admin allowed."""
    allowed: set[str] = set()
    for item in items:
        item = item.strip().strip("[]").lower().rstrip(".")
        if not item:
            continue
        try:
            allowed.add(str(ipaddress.ip_address(item)))
        except ValueError:
            allowed.add(item)
    return frozenset(allowed)


def _as_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses a host when any of its addresses
    is not public (unless the host or that address is allowed). aiohttp connects only to what
    this returns, so no packet goes to a refused address."""

    def __init__(self, allow: frozenset[str], inner: AbstractResolver | None = None) -> None:
        self.allow = allow
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if host.lower().rstrip(".") in self.allow:
            return results
        for result in results:
            address = _as_address(result["host"])
            if address is None:
                raise FetchRefused(f"Refused: {host} resolved to {result['host']!r}, which "
                                   f"is not an IP address.")
            if str(address) in self.allow:
                continue
            reason = forbidden_reason(address)
            if reason is not None:
                raise FetchRefused(f"Refused: {host} resolves to {address}, {reason}, and "
                                   f"briefbot only fetches public addresses (see "
                                   f"BRIEFBOT_FETCH_ALLOW_HOSTS).")
        return results

    async def close(self) -> None:
        await self.inner.close()


def check_url(url: URL, allow: frozenset[str]) -> None:
    """Scheme and (for a host written as an address) address checks for one hop."""
    if url.scheme not in ("http", "https"):
        shown = url.scheme or "no scheme"
        raise FetchRefused(f"Refused: only http and https URLs can be added, not {shown}.")
    host = url.raw_host or ""
    if not host:
        raise FetchRefused("Refused: the URL has no host name.")
    if url.user is not None or url.password is not None:
        raise FetchRefused("Refused: URLs with a user name or password are not fetched.")
    if host.lower().rstrip(".") in allow:
        return
    address = _as_address(host)
    if address is not None and str(address) not in allow:
        reason = forbidden_reason(address)
        if reason is not None:
            raise FetchRefused(f"Refused: {address} is {reason}, and briefbot only fetches "
                               f"public addresses (see BRIEFBOT_FETCH_ALLOW_HOSTS).")


def parse_url(text: str) -> URL:
    """The URL as typed, or a refusal sentence when it is not an absolute http(s) URL."""
    text = text.strip()
    try:
        url = URL(text)
    except (ValueError, TypeError):
        raise FetchRefused(f"Refused: {text!r} is not a URL.") from None
    if url.scheme and url.scheme not in ("http", "https"):
        raise FetchRefused(f"Refused: only http and https URLs can be added, not {url.scheme}.")
    if not url.absolute:
        raise FetchRefused(f"Refused: {text!r} is not an absolute http(s) URL "
                           f"(it needs http:// or https:// and a host).")
    return url.with_fragment(None)


def _charset_from_bytes(body: bytes) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = body[:4096]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec(name: str | None) -> str | None:
    """A Python codec for a declared charset; Latin-1 and ASCII read as windows-1252, as
    browsers do (pages labelled Latin-1 use its extra characters: curly quotes, dashes)."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def decode_body(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """(text, charset used): header charset, else BOM/meta/XML declaration, else detection."""
    codec = _codec(header_charset) or _codec(_charset_from_bytes(body))
    if codec is None:
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        codec = _codec(best.encoding) if best is not None else None
        codec = codec or "utf-8"
    text = body.decode(codec, errors="replace")
    return text.removeprefix("\ufeff"), codec


def _media_type(response: aiohttp.ClientResponse) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit:
        raise FetchRefused(f"Refused: the page is {declared / 1e6:.1f} MB, over the "
                           f"{limit // (1024 * 1024)} MB limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise FetchRefused(f"Refused: the page is over the {limit // (1024 * 1024)} MB "
                               f"limit (stopped reading at {size / 1e6:.1f} MB).")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_page(url: str, *, allow_hosts: Iterable[str] = (),
                     timeout_s: float = TIMEOUT_S, max_redirects: int = MAX_REDIRECTS,
                     max_bytes: int = MAX_PAGE_BYTES,
                     resolver: AbstractResolver | None = None,
                     types: frozenset[str] = HTML_TYPES,
                     accept: str | None = None,
                     conditional: dict[str, str] | None = None) -> Page:
    """Fetch `url` under the rules above; raise FetchRefused with one sentence otherwise.

    `types` are the content types kept (FEED_TYPES for a feed); `conditional` is sent as
    `If-None-Match` / `If-Modified-Since` headers, and a 304 answer then comes back as a
    Page with `not_modified` and no text."""
    allow = parse_allow_hosts(allow_hosts)
    current = parse_url(url)
    guarded = GuardedResolver(allow, resolver)
    connector = aiohttp.TCPConnector(resolver=guarded, use_dns_cache=False, limit=1)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    headers = {"User-Agent": USER_AGENT,
               "Accept": accept or "text/html,application/xhtml+xml,application/xml;q=0.9,"
                                   "*/*;q=0.1"}
    headers.update(conditional or {})
    try:
        async with asyncio.timeout(timeout_s), aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers=headers,
                trust_env=False) as session:
            for hop in range(max_redirects + 1):
                check_url(current, allow)
                async with session.get(current, allow_redirects=False) as response:
                    if response.status in _REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchRefused(f"Refused: the page answered HTTP "
                                               f"{response.status} without a Location.")
                        if hop == max_redirects:
                            raise FetchRefused(f"Refused: more than {max_redirects} "
                                               f"redirects.")
                        current = current.join(URL(location)).with_fragment(None)
                        continue
                    if response.status == 304 and conditional:
                        return Page(requested_url=url, final_url=str(current), status=304,
                                    content_type="", charset="", text="", size=0,
                                    etag=response.headers.get("ETag"),
                                    last_modified=response.headers.get("Last-Modified"))
                    return await _page(url, current, response, max_bytes, types)
    except FetchRefused:
        raise
    except TimeoutError:
        raise FetchRefused(f"Refused: the page did not arrive within {timeout_s:g} "
                           f"seconds.") from None
    except aiohttp.InvalidURL as exc:
        raise FetchRefused(f"Refused: {exc.url} is not a valid URL.") from None
    except aiohttp.ClientConnectorError as exc:
        raise FetchRefused(f"Refused: cannot connect to {exc.host}:{exc.port} "
                           f"({exc.os_error.strerror or exc.os_error}).") from None
    except (aiohttp.ClientError, OSError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, FetchRefused) else None
        if cause is not None:
            raise cause from None
        raise FetchRefused(f"Refused: fetching the page failed ({type(exc).__name__}: "
                           f"{exc}).") from None
    finally:
        await guarded.close()
    raise AssertionError("unreachable")


async def _page(requested: str, url: URL, response: aiohttp.ClientResponse,
                max_bytes: int, types: frozenset[str] = HTML_TYPES) -> Page:
    if response.status >= 400:
        raise FetchRefused(f"Refused: the page answered HTTP {response.status} "
                           f"{response.reason or ''}".rstrip() + ", so there is no article.")
    if response.status != 200:
        raise FetchRefused(f"Refused: the page answered HTTP {response.status}, not 200.")
    media = _media_type(response)
    if media not in types:
        wanted = ("HTML, XHTML or XML pages are added" if types == HTML_TYPES
                  else "RSS, Atom or XML feeds are read")
        raise FetchRefused(f"Refused: the page is {media or 'of no declared type'}, and only "
                           f"{wanted}.")
    body = await _read_limited(response, max_bytes)
    text, charset = decode_body(body, response.charset)
    return Page(requested_url=requested, final_url=str(url), status=response.status,
                content_type=media, charset=charset, text=text, size=len(body),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"))

