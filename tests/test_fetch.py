"""The safe fetcher over real HTTP: a local site (tests/fakes/site.py) on 127.0.0.1, raw TCP
servers for what a web framework will not send, and real TLS with a throwaway CA. No mock of
the network, no sleep: /slow waits for an event the test never sets in time."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import logging
import re
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.web.fetch import SafeFetcher, public_address
from bot.i18n import Translator, catalog
from bot.web import MAX_REDIRECTS, Fetched, FetchError
from tests.fakes.site import BOMB_SIZE, CAFE, OG_TITLE, PAGES, Site, gzip_bomb, make_tls

ROOT = Path(__file__).resolve().parent.parent
MakeFetcher = Callable[..., SafeFetcher]
# The system trust store, loaded once: building it for every fetcher is most of the run.
SYSTEM_TLS = ssl.create_default_context()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with Site() as running:
        yield running


@pytest.fixture
async def make_fetcher() -> AsyncIterator[MakeFetcher]:
    built: list[SafeFetcher] = []

    def factory(**options: Any) -> SafeFetcher:
        fetcher = SafeFetcher(**{"verify": SYSTEM_TLS, **options})
        built.append(fetcher)
        return fetcher

    yield factory
    for fetcher in built:
        await fetcher.aclose()


@pytest.fixture
def open_fetcher(make_fetcher: MakeFetcher) -> SafeFetcher:
    """A fetcher allowed onto loopback, for tests about pages rather than addresses."""
    return make_fetcher(allow_private=True)


@pytest.fixture
def guarded(make_fetcher: MakeFetcher, site: Site) -> SafeFetcher:
    """The production check, with only the site's own port exempt (the test seam)."""
    return make_fetcher(exempt=frozenset({("127.0.0.1", site.port)}))


async def fails(fetch: Awaitable[Fetched], key: str, **params: Any) -> FetchError:
    """The fetch raises `key` (with at least `params`), and the message reads in both
    languages with exactly the params given."""
    with pytest.raises(FetchError) as caught:
        await fetch
    error = caught.value
    assert error.key == key, (error.key, error.params)
    assert params.items() <= error.params.items()
    for language in ("en", "fr"):
        text = catalog(language)[key]
        assert isinstance(text, str)
        assert set(re.findall(r"{(\w+)}", text)) == set(error.params)
        assert Translator(language)(key, **error.params)
    return error


@asynccontextmanager
async def raw_server(
    reply: bytes, *, host: str = "127.0.0.1", heads: list[bytes] | None = None
) -> AsyncIterator[int]:
    """A TCP server that reads one request head (kept in `heads`) and sends `reply` verbatim."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if heads is not None:
                heads.append(head)
            writer.write(reply)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, host, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# A good page


async def test_a_good_page(open_fetcher: SafeFetcher, site: Site) -> None:
    fetched = await open_fetcher.get(site.url("/og"))
    assert fetched.status == 200
    assert fetched.url == site.url("/og")
    assert fetched.content_type == "text/html"
    assert fetched.charset == "utf-8"
    assert fetched.body == PAGES["/og"].encode()
    assert OG_TITLE in fetched.body.decode()
    assert fetched.truncated is False
    assert fetched.etag is None


async def test_what_the_request_says(open_fetcher: SafeFetcher, site: Site) -> None:
    await open_fetcher.get(site.url("/og"), accept="application/rss+xml")
    (received,) = site.requests
    assert received.method == "GET"
    assert received.headers["Host"] == f"127.0.0.1:{site.port}"
    assert received.headers["Accept"] == "application/rss+xml"
    assert received.headers["Accept-Encoding"] == "gzip, deflate"
    assert received.headers["User-Agent"].startswith("AmbassadorBot/0.1 (link previews")
    assert "If-None-Match" not in received.headers
    assert "Cookie" not in received.headers


async def test_charset_as_given_and_types_without_parameters(
    open_fetcher: SafeFetcher, site: Site
) -> None:
    klingon = await open_fetcher.get(site.url("/klingon"))
    assert (klingon.content_type, klingon.charset) == ("text/html", "x-klingon")
    assert CAFE in klingon.body.decode()
    meta = await open_fetcher.get(site.url("/meta-charset"))
    assert (meta.content_type, meta.charset) == ("text/html", None)
    assert CAFE in meta.body.decode("cp1252")
    pdf = await open_fetcher.get(site.url("/pdf"))
    assert (pdf.content_type, pdf.charset) == ("application/pdf", None)
    png = await open_fetcher.get(site.url("/img/cover.png"))
    assert png.content_type == "image/png"
    assert png.body.startswith(b"\x89PNG")


async def test_content_type_is_lowered_and_quotes_dropped(open_fetcher: SafeFetcher) -> None:
    reply = (
        b'HTTP/1.1 200 OK\r\nContent-Type: Text/HTML ; Charset="ISO-8859-1"\r\n'
        b"Content-Length: 2\r\nConnection: close\r\n\r\nok"
    )
    async with raw_server(reply) as port:
        fetched = await open_fetcher.get(f"http://127.0.0.1:{port}/")
    assert (fetched.content_type, fetched.charset, fetched.body) == (
        "text/html",
        "ISO-8859-1",
        b"ok",
    )


async def test_no_content_type_means_unknown_bytes(open_fetcher: SafeFetcher) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    async with raw_server(reply) as port:
        fetched = await open_fetcher.get(f"http://127.0.0.1:{port}/")
    assert (fetched.content_type, fetched.charset) == ("application/octet-stream", None)


async def test_an_ipv6_address_is_pinned_in_brackets(open_fetcher: SafeFetcher) -> None:
    try:
        socket.socket(socket.AF_INET6).close()
        heads: list[bytes] = []
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        async with raw_server(reply, host="::1", heads=heads) as port:
            fetched = await open_fetcher.get(f"http://[::1]:{port}/page")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert (fetched.url, fetched.body) == (f"http://[::1]:{port}/page", b"ok")
    assert heads[0].startswith(b"GET /page HTTP/1.1\r\n")
    assert f"\r\nHost: [::1]:{port}\r\n".encode() in heads[0]


async def test_one_fetcher_serves_many_tasks(open_fetcher: SafeFetcher, site: Site) -> None:
    paths = ["/og", "/plain", "/job", "/event", "/training", "/redirect/2"]
    fetched = await asyncio.gather(*(open_fetcher.get(site.url(path)) for path in paths))
    assert [f.url for f in fetched] == [site.url(p) for p in paths[:-1]] + [site.url("/og")]
    assert fetched[1].body == PAGES["/plain"].encode()


async def test_cookies_are_never_kept(open_fetcher: SafeFetcher, site: Site) -> None:
    await open_fetcher.get(site.url("/set-cookie"))
    await open_fetcher.get(site.url("/og"))
    assert "Cookie" not in site.requests[-1].headers


async def test_proxies_from_the_environment_are_ignored(
    open_fetcher: SafeFetcher, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    fetcher = SafeFetcher(allow_private=True)  # built after the environment changed
    try:
        assert (await fetcher.get(site.url("/og"))).status == 200
    finally:
        await fetcher.aclose()


# Addresses


async def test_loopback_is_refused_before_connecting(
    make_fetcher: MakeFetcher, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "ambassador.fetch")
    fetcher = make_fetcher()
    await fails(
        fetcher.get(site.url("/og")),
        "fetch.refused_address",
        host="127.0.0.1",
        address="127.0.0.1",
    )
    assert site.requests == []
    assert "fetch.refused_address" in caplog.text


async def test_loopback_is_allowed_when_private_addresses_are(
    make_fetcher: MakeFetcher, site: Site
) -> None:
    fetched = await make_fetcher(allow_private=True).get(site.url("/og"))
    assert fetched.status == 200
    assert site.paths() == ["/og"]


async def test_localhost_by_name_is_refused(make_fetcher: MakeFetcher, site: Site) -> None:
    await fails(
        make_fetcher().get(site.url("/og", host="localhost")),
        "fetch.refused_address",
        host="localhost",
    )
    assert site.requests == []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        ("172.16.0.1", "172.16.0.1"),
        ("192.168.1.1", "192.168.1.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("100.64.0.1", "100.64.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("224.0.0.1", "224.0.0.1"),
        ("240.0.0.1", "240.0.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("192.0.2.1", "192.0.2.1"),
        ("198.18.0.1", "198.18.0.1"),
        ("[::1]", "::1"),
        ("[::]", "::"),
        ("[fe80::1]", "fe80::1"),
        ("[fc00::1]", "fc00::1"),
        ("[ff02::1]", "ff02::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe"),
        ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"),
        ("[2002:7f00:1::]", "2002:7f00:1::"),
        ("[::7f00:1]", "::7f00:1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
    ],
)
async def test_literals_are_refused_without_connecting(
    make_fetcher: MakeFetcher, site: Site, host: str, address: str
) -> None:
    await fails(
        make_fetcher().get(f"http://{host}:{site.port}/og"),
        "fetch.refused_address",
        address=address,
    )
    assert site.requests == []


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address: str) -> None:
    assert public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["2002:a00:1::", "2001:0:4136:e378:8000:63bf:3fff:fdd2"])
def test_tunnels_to_private_addresses_do_not_pass(address: str) -> None:
    assert not public_address(ipaddress.ip_address(address))


async def test_exempt_addresses_need_the_exact_port(make_fetcher: MakeFetcher, site: Site) -> None:
    fetcher = make_fetcher(exempt=frozenset({("127.0.0.1", site.inner_port)}))
    await fails(fetcher.get(site.url("/og")), "fetch.refused_address")
    assert site.requests == []


# Redirects


async def test_a_redirect_to_loopback_is_refused(guarded: SafeFetcher, site: Site) -> None:
    await fails(
        guarded.get(site.url("/to-loopback")),
        "fetch.refused_address",
        host="127.0.0.1",
        address="127.0.0.1",
    )
    assert site.paths() == ["/to-loopback"]


async def test_the_loopback_redirect_leads_somewhere_real(
    open_fetcher: SafeFetcher, site: Site
) -> None:
    """What the refusal above protects: the target is a live service."""
    fetched = await open_fetcher.get(site.url("/to-loopback"))
    assert fetched.url == f"http://127.0.0.1:{site.inner_port}/og"
    assert site.paths() == ["/to-loopback", "/og"]


async def test_a_redirect_to_the_metadata_service_is_refused(
    guarded: SafeFetcher, site: Site
) -> None:
    await fails(
        guarded.get(site.url("/to-metadata")),
        "fetch.refused_address",
        host="169.254.169.254",
    )
    assert site.paths() == ["/to-metadata"]


async def test_a_redirect_to_ftp_is_refused(guarded: SafeFetcher, site: Site) -> None:
    await fails(guarded.get(site.url("/to-ftp")), "fetch.refused_scheme", scheme="ftp")
    assert site.paths() == ["/to-ftp"]


async def test_three_redirects_are_followed(guarded: SafeFetcher, site: Site) -> None:
    fetched = await guarded.get(site.url("/redirect/3"))
    assert fetched.status == 200
    assert fetched.url == site.url("/og")
    assert fetched.body == PAGES["/og"].encode()
    assert site.paths() == ["/redirect/3", "/redirect/2", "/redirect/1", "/og"]


async def test_four_redirects_are_too_many(guarded: SafeFetcher, site: Site) -> None:
    await fails(
        guarded.get(site.url("/redirect/4")), "fetch.too_many_redirects", limit=MAX_REDIRECTS
    )
    assert site.paths() == ["/redirect/4", "/redirect/3", "/redirect/2", "/redirect/1"]


async def test_a_redirect_without_location_is_an_http_error(
    open_fetcher: SafeFetcher, site: Site
) -> None:
    await fails(open_fetcher.get(site.url("/status/302")), "fetch.http_status", status=302)


async def test_a_broken_location_is_a_bad_url(open_fetcher: SafeFetcher) -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n"
    async with raw_server(reply) as port:
        await fails(open_fetcher.get(f"http://127.0.0.1:{port}/"), "fetch.bad_url")


# URLs


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("ftp://example.com/file", "fetch.refused_scheme"),
        ("file:///etc/passwd", "fetch.refused_scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "fetch.refused_scheme"),
        ("javascript:alert(1)", "fetch.refused_scheme"),
        ("http://user:secret@example.com/", "fetch.refused_userinfo"),
        ("http://user@example.com/", "fetch.refused_userinfo"),
        ("example.com/page", "fetch.bad_url"),
        ("http:///nohost", "fetch.bad_url"),
        ("http://[::1/", "fetch.bad_url"),
        ("http://example.com:99999/", "fetch.bad_url"),
        ("", "fetch.bad_url"),
        ("http://0177.0.0.1/", "fetch.bad_url"),  # octal: httpx will not guess
    ],
)
async def test_urls_that_are_not_fetched(make_fetcher: MakeFetcher, url: str, key: str) -> None:
    await fails(make_fetcher().get(url), key)


async def test_an_unknown_name_is_unresolvable(make_fetcher: MakeFetcher) -> None:
    await fails(
        make_fetcher().get("http://no-such-host.invalid/"),
        "fetch.unresolvable",
        host="no-such-host.invalid",
    )


# Statuses and failures


@pytest.mark.parametrize("status", [404, 500, 403, 410, 204])
async def test_other_statuses(open_fetcher: SafeFetcher, site: Site, status: int) -> None:
    url = site.url(f"/status/{status}")
    if status == 204:  # 2xx with nothing in it is still a success
        fetched = await open_fetcher.get(url)
        assert (fetched.status, fetched.body) == (204, b"")
    else:
        await fails(open_fetcher.get(url), "fetch.http_status", status=status)


async def test_a_closed_port_is_unreachable(open_fetcher: SafeFetcher) -> None:
    await fails(
        open_fetcher.get(f"http://127.0.0.1:{free_port()}/"), "fetch.unreachable", host="127.0.0.1"
    )


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-\xff\xfe: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["closed", "garbage", "short-body", "bad-header", "bad-chunk"],
)
async def test_broken_servers_are_unreachable(open_fetcher: SafeFetcher, reply: bytes) -> None:
    async with raw_server(reply) as port:
        await fails(open_fetcher.get(f"http://127.0.0.1:{port}/"), "fetch.unreachable")


async def test_a_slow_site_times_out(make_fetcher: MakeFetcher, site: Site) -> None:
    fetcher = make_fetcher(allow_private=True, timeout=0.5)
    try:
        await fails(fetcher.get(site.url("/slow")), "fetch.timeout", seconds=0.5)
    finally:
        site.release_slow.set()
    assert site.paths() == ["/slow"]


# Size and encodings


async def test_a_huge_page_is_cut_at_max_bytes(open_fetcher: SafeFetcher, site: Site) -> None:
    fetched = await open_fetcher.get(site.url("/huge"))
    assert len(fetched.body) == 1_000_000
    assert fetched.truncated is True
    assert fetched.body.startswith(b"<!doctype html>")


async def test_max_bytes_is_exact(make_fetcher: MakeFetcher, site: Site) -> None:
    page = PAGES["/og"].encode()
    exact = await make_fetcher(allow_private=True, max_bytes=len(page)).get(site.url("/og"))
    assert (exact.body, exact.truncated) == (page, False)
    short = await make_fetcher(allow_private=True, max_bytes=len(page) - 1).get(site.url("/og"))
    assert (short.body, short.truncated) == (page[:-1], True)


async def test_a_gzip_bomb_stays_small(open_fetcher: SafeFetcher, site: Site) -> None:
    limit = 1_000_000
    gzip_bomb()  # built (and cached) by the site outside the measure
    tracemalloc.start()
    try:
        fetched = await open_fetcher.get(site.url("/gzip-bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(fetched.body) <= limit
    assert fetched.truncated is True
    assert fetched.body == bytes(len(fetched.body))
    assert peak < 8 * limit < BOMB_SIZE  # decoding it all would need 50 MB


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_pages_are_decoded(
    open_fetcher: SafeFetcher, site: Site, coding: str
) -> None:
    fetched = await open_fetcher.get(site.url(f"/encoded/{coding}"))
    assert fetched.body == PAGES["/og"].encode()
    assert fetched.truncated is False


async def test_a_compressed_page_is_cut_after_decoding(
    make_fetcher: MakeFetcher, site: Site
) -> None:
    fetched = await make_fetcher(allow_private=True, max_bytes=100).get(site.url("/encoded/gzip"))
    assert (fetched.body, fetched.truncated) == (PAGES["/og"].encode()[:100], True)


async def test_an_unknown_encoding_is_refused(open_fetcher: SafeFetcher, site: Site) -> None:
    await fails(open_fetcher.get(site.url("/encoded/br")), "fetch.bad_encoding", encoding="br")


async def test_corrupt_gzip_is_a_bad_encoding(open_fetcher: SafeFetcher) -> None:
    body = gzip.compress(b"hello")[:10] + b"\x07" + b"\xff" * 40  # a reserved block type
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    async with raw_server(reply) as port:
        await fails(open_fetcher.get(f"http://127.0.0.1:{port}/"), "fetch.bad_encoding")


# Conditional requests


async def test_an_etag_round_trip(open_fetcher: SafeFetcher, site: Site) -> None:
    first = await open_fetcher.get(site.url("/feeds/rss"))
    assert first.status == 200
    assert first.content_type == "application/rss+xml"
    assert first.etag
    assert first.last_modified
    again = await open_fetcher.get(site.url("/feeds/rss"), etag=first.etag)
    assert (again.status, again.body, again.truncated) == (304, b"", False)
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    assert site.requests[-1].headers["If-None-Match"] == first.etag
    assert "If-Modified-Since" not in site.requests[-1].headers


async def test_a_last_modified_round_trip(open_fetcher: SafeFetcher, site: Site) -> None:
    first = await open_fetcher.get(site.url("/feeds/atom"))
    assert first.content_type == "application/atom+xml"
    again = await open_fetcher.get(site.url("/feeds/atom"), last_modified=first.last_modified)
    assert again.status == 304
    assert again.last_modified == first.last_modified
    assert site.requests[-1].headers["If-Modified-Since"] == first.last_modified
    assert "If-None-Match" not in site.requests[-1].headers


async def test_a_changed_feed_answers_in_full(open_fetcher: SafeFetcher, site: Site) -> None:
    first = await open_fetcher.get(site.url("/feeds/rss"))
    entries = [*site.feeds["/feeds/rss"], {"id": "new", "link": "/event", "title": "Open day"}]
    site.set_feed("/feeds/rss", entries)
    again = await open_fetcher.get(site.url("/feeds/rss"), etag=first.etag)
    assert again.status == 200
    assert again.etag != first.etag
    assert f"{site.url('/event')}".encode() in again.body


async def test_a_validator_that_is_no_header_value_is_not_sent(
    open_fetcher: SafeFetcher, site: Site
) -> None:
    fetched = await open_fetcher.get(site.url("/og"), etag='"a"\r\nX-Evil: 1', last_modified="é")
    assert fetched.status == 200
    headers = site.requests[-1].headers
    assert "X-Evil" not in headers
    assert "If-None-Match" not in headers
    assert "If-Modified-Since" not in headers


# TLS


async def test_https_is_pinned_with_the_real_name(
    make_fetcher: MakeFetcher, tmp_path: Path
) -> None:
    server, client = make_tls(tmp_path, "localhost")
    async with Site(tls=server) as site:
        fetcher = make_fetcher(allow_private=True, verify=client)
        fetched = await fetcher.get(site.url("/og", host="localhost"))
        assert fetched.status == 200
        assert fetched.url == f"https://localhost:{site.port}/og"
        assert site.server_names == ["localhost"]  # SNI names the host, not the address
        assert site.requests[-1].headers["Host"] == f"localhost:{site.port}"


async def test_a_certificate_for_another_name_is_unreachable(
    make_fetcher: MakeFetcher, tmp_path: Path
) -> None:
    server, client = make_tls(tmp_path, "wrong.example")
    async with Site(tls=server) as site:
        fetcher = make_fetcher(allow_private=True, verify=client)
        await fails(
            fetcher.get(site.url("/og", host="localhost")), "fetch.unreachable", host="localhost"
        )
        assert site.requests == []


async def test_a_certificate_by_name_does_not_cover_the_address(
    make_fetcher: MakeFetcher, tmp_path: Path
) -> None:
    server, client = make_tls(tmp_path, "localhost")
    async with Site(tls=server) as site:
        fetcher = make_fetcher(allow_private=True, verify=client)
        await fails(fetcher.get(site.url("/og")), "fetch.unreachable", host="127.0.0.1")


# Catalogs


def test_every_fetch_key_in_the_code_is_in_both_catalogs() -> None:
    source = (ROOT / "adapters" / "web" / "fetch.py").read_text("utf-8")
    keys = set(re.findall(r'"(fetch\.[a-z_]+)"', source))
    assert len(keys) == 10
    for language in ("en", "fr"):
        assert sorted(keys - set(catalog(language))) == []
