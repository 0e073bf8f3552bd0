"""A local web site on 127.0.0.1 (port 0) for the content pipeline: pages with and without
Open Graph tags, job, event and course pages (JSON-LD), pages that lie about their charset,
hostile and oversized pages, a gzip bomb, redirect chains (some to loopback, the metadata
service and ftp), RSS and Atom feeds that answer conditional requests, and a page that only
answers when the test says so. It records every request it receives.

    async with Site() as site:
        fetched = await fetcher.get(site.url("/og"))
        assert site.requests[-1].path == "/og"

The site listens on two ports of 127.0.0.1: `port`, the one tests reach (and may exempt from
the fetcher's address check), and `inner_port`, standing for an internal service on loopback:
`/to-loopback` redirects there, so exempting `port` does not exempt the redirect's target.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import ssl
import struct
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from multidict import CIMultiDict, CIMultiDictProxy

HTML = "text/html; charset=utf-8"
OG_TITLE = "Nos équipes s’engagent"
OG_DESCRIPTION = "Trois cents salariés ont donné une journée aux Restos du Cœur cet automne."
OG_SITE_NAME = "ACME Newsroom"
OG_IMAGE = "/img/cover.png"  # relative on purpose: the reader must resolve it against the page
PAGE_TITLE = "Actualités – ACME"  # the <title> of /og, unlike its og:title
TWITTER_TITLE = "Our teams give back"
JOB_TITLE = "Data engineer (F/H) – Lyon"
EVENT_NAME = "ACME Open Day 2026"
COURSE_NAME = "Introduction to data privacy"
CAFE = "Café déjà vu"  # /latin1, /klingon and /meta-charset all mean this title
HOSTILE_TITLE = "Still standing"
FEED_TITLE = "ACME Newsroom"
FEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # Last-Modified of a feed with no dated entry
BOMB_SIZE = 50_000_000  # bytes of zeros behind /gzip-bomb
HUGE_PADDING = 5_000_000  # bytes of body after /huge's head
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
FTP_URL = "ftp://127.0.0.1/pub/og.html"
REDIRECT_CODES = {1: 301, 2: 302, 3: 303, 4: 307, 5: 308}
MAX_CHAIN = 10


class Received(NamedTuple):
    """One request as the site saw it; `headers` is case-insensitive."""

    method: str
    path: str  # with the query string, if any
    headers: CIMultiDictProxy[str]


def default_entries() -> list[dict[str, Any]]:
    """What both feeds hold until a test says otherwise; links are site pages."""
    return [
        {
            "id": "tag:acme.example,2026:og",
            "link": "/og",
            "title": OG_TITLE,
            "summary": OG_DESCRIPTION,
            "published": datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        },
        {
            "id": "tag:acme.example,2026:job",
            "link": "/job",
            "title": JOB_TITLE,
            "summary": "Join the data team in Lyon.",
            "published": datetime(2026, 11, 13, 14, 30, tzinfo=UTC),
        },
    ]


def _page(head: str, body: str = "<p>ACME builds roofs.</p>", *, lang: str = "en") -> str:
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n{head}\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _json_ld(data: dict[str, Any]) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


PAGES: dict[str, str] = {
    "/og": _page(
        f"<title>{PAGE_TITLE}</title>\n"
        f'<meta property="og:title" content="{OG_TITLE}">\n'
        f'<meta property="og:description" content="{OG_DESCRIPTION}">\n'
        f'<meta property="og:image" content="{OG_IMAGE}">\n'
        f'<meta property="og:site_name" content="{OG_SITE_NAME}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta name="twitter:title" content="{TWITTER_TITLE}">\n'
        '<meta name="twitter:card" content="summary_large_image">',
        "<article><h1>Nos équipes s’engagent</h1><p>Une journée pour les autres.</p></article>",
        lang="fr",
    ),
    "/twitter": _page(
        '<meta name="twitter:card" content="summary">\n'
        f'<meta name="twitter:title" content="{TWITTER_TITLE}">\n'
        '<meta name="twitter:description" content="Three hundred of us gave a day.">\n'
        f'<meta name="twitter:image" content="{OG_IMAGE}">'
    ),
    "/plain": _page(
        "<title>Roofing in the rain</title>\n"
        '<meta name="description" content="How our crews keep working through the winter.">'
    ),
    "/bare": _page("", "<p>Just some text, and no title at all.</p>"),
    "/job": _page(
        f"<title>{JOB_TITLE}</title>\n"
        f'<meta property="og:title" content="{JOB_TITLE}">\n'
        '<meta property="og:type" content="website">\n'
        + _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "JobPosting",
                "title": JOB_TITLE,
                "description": "<p>Build our data platform.</p>",
                "datePosted": "2026-11-10",
                "employmentType": "FULL_TIME",
                "hiringOrganization": {"@type": "Organization", "name": "ACME"},
                "jobLocation": {
                    "@type": "Place",
                    "address": {"@type": "PostalAddress", "addressLocality": "Lyon"},
                },
            }
        ),
        lang="fr",
    ),
    "/event": _page(
        f"<title>{EVENT_NAME}</title>\n"
        + _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "Event",
                "name": EVENT_NAME,
                "startDate": "2026-12-03T09:00:00+01:00",
                "location": {"@type": "Place", "name": "ACME HQ, Paris"},
            }
        )
    ),
    "/training": _page(
        f"<title>{COURSE_NAME}</title>\n"
        + _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "Course",
                "name": COURSE_NAME,
                "description": "Two hours on what personal data is and how we keep it.",
                "provider": {"@type": "Organization", "name": "ACME Academy"},
            }
        )
    ),
    "/feeds/html": _page(
        "<title>Not a feed</title>\n"
        '<link rel="alternate" type="application/rss+xml" href="/feeds/rss">'
    ),
}


def _cafe(head_charset: str = "") -> str:
    return (
        f'<!doctype html>\n<html lang="fr"><head>{head_charset}<title>{CAFE}</title>'
        f'<meta property="og:title" content="{CAFE}"></head>'
        f"<body><p>{CAFE}</p></body></html>\n"
    )


def _hostile() -> str:
    head = (
        '<!-- <meta property="og:title" content="Injected from a comment"> -->\n'
        '<script>document.title = "</title><title>Injected from a script</title>";</script>\n'
        f"<title>{HOSTILE_TITLE}</title>\n"
        '<!-- <meta name="description" content="Injected from another comment"> -->'
    )
    return _page(head, "<div>" * 10_000 + "<p>the end")


@cache
def _huge() -> bytes:
    head = PAGES["/plain"].split("</body>")[0].encode()
    return head + b"x" * HUGE_PADDING


@cache
def gzip_bomb() -> bytes:
    """BOMB_SIZE zeros, gzipped (about 50 KB), built a megabyte at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1_000_000)
    parts = [packer.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join([*parts, packer.flush()])


def _png() -> bytes:
    """A 1×1 PNG, built rather than pasted."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xd4\x3b\x2f")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BINARY = random.Random(7).randbytes(4096)


def _encoded(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    elif coding == "raw-deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    else:
        packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _xml(text: Any) -> str:
    return escape(str(text), quote=True)


class Site:
    """The site; `async with Site() as site:` starts and stops it.

    `tls` serves HTTPS instead (see `make_tls`); the server names clients asked for (SNI) are
    kept in `server_names`. `feeds` maps a feed path to its entries (dicts with id, link,
    title, summary, published), read on every request, so a test may change them at will.
    """

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.requests: list[Received] = []
        self.server_names: list[str | None] = []
        self.feeds: dict[str, list[dict[str, Any]]] = {
            "/feeds/rss": default_entries(),
            "/feeds/atom": default_entries(),
        }
        self.release_slow = asyncio.Event()  # set it to let /slow answer
        self.port = 0
        self.inner_port = 0
        self._runner: web.AppRunner | None = None
        if tls is not None:
            tls.sni_callback = self._sni

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def set_feed(self, path: str, entries: Iterable[dict[str, Any]]) -> None:
        """Replace a feed's entries (paths with "atom" in them are Atom, others RSS)."""
        self.feeds[path] = list(entries)

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [received.path for received in self.requests]

    async def __aenter__(self) -> Site:
        app = web.Application(middlewares=[self._record])
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = await self._listen()
        self.inner_port = await self._listen()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release_slow.set()  # a pending /slow must not hold the shutdown
        if self._runner is not None:
            await self._runner.cleanup()

    async def _listen(self) -> int:
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock, ssl_context=self.tls).start()
        port: int = sock.getsockname()[1]
        return port

    def _sni(self, _sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        self.requests.append(Received(request.method, request.path_qs, headers))
        response: web.StreamResponse = await handler(request)
        return response

    def _routes(self, app: web.Application) -> None:
        for path in PAGES:
            app.router.add_get(path, self._page)
        app.router.add_get("/latin1", self._latin1)
        app.router.add_get("/klingon", self._klingon)
        app.router.add_get("/meta-charset", self._meta_charset)
        app.router.add_get("/binary", self._binary)
        app.router.add_get("/hostile", self._hostile)
        app.router.add_get("/huge", self._huge)
        app.router.add_get("/pdf", self._pdf)
        app.router.add_get("/img/cover.png", self._png)
        app.router.add_get("/redirect/{n}", self._redirect)
        app.router.add_get("/to-loopback", self._to_loopback)
        app.router.add_get("/to-metadata", self._to_metadata)
        app.router.add_get("/to-ftp", self._to_ftp)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/gzip-bomb", self._bomb)
        app.router.add_get("/encoded/{coding}", self._encoded)
        app.router.add_get("/set-cookie", self._set_cookie)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/feeds/broken", self._broken_feed)
        app.router.add_get("/feeds/{name}", self._feed)

    # Pages

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGES[request.path], headers={"Content-Type": HTML})

    async def _latin1(self, _request: web.Request) -> web.Response:
        """Says UTF-8, sends Windows-1252: the reader must not trust the header blindly."""
        body = _cafe().encode("cp1252")
        return web.Response(body=body, headers={"Content-Type": HTML})

    async def _klingon(self, _request: web.Request) -> web.Response:
        body = _cafe().encode("utf-8")
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=x-klingon"})

    async def _meta_charset(self, _request: web.Request) -> web.Response:
        body = _cafe('<meta charset="windows-1252">').encode("cp1252")
        return web.Response(body=body, headers={"Content-Type": "text/html"})

    async def _binary(self, _request: web.Request) -> web.Response:
        return web.Response(body=BINARY, headers={"Content-Type": "text/html"})

    async def _hostile(self, _request: web.Request) -> web.Response:
        return web.Response(text=_hostile(), headers={"Content-Type": HTML})

    async def _huge(self, _request: web.Request) -> web.Response:
        return web.Response(body=_huge(), headers={"Content-Type": HTML})

    async def _pdf(self, _request: web.Request) -> web.Response:
        return web.Response(body=PDF, headers={"Content-Type": "application/pdf"})

    async def _png(self, _request: web.Request) -> web.Response:
        return web.Response(body=PNG, headers={"Content-Type": "image/png"})

    async def _slow(self, _request: web.Request) -> web.Response:
        await self.release_slow.wait()
        return web.Response(text=PAGES["/og"], headers={"Content-Type": HTML})

    async def _set_cookie(self, _request: web.Request) -> web.Response:
        response = web.Response(text=PAGES["/plain"], headers={"Content-Type": HTML})
        response.set_cookie("session", "s3cret", path="/")
        return response

    # Encodings

    async def _bomb(self, _request: web.Request) -> web.Response:
        headers = {"Content-Type": HTML, "Content-Encoding": "gzip"}
        return web.Response(body=gzip_bomb(), headers=headers)

    async def _encoded(self, request: web.Request) -> web.Response:
        """/og, encoded: gzip, deflate (zlib-wrapped), raw-deflate (sent as "deflate", as some
        servers do) or br (claimed, not understood by the fetcher)."""
        coding = request.match_info["coding"]
        page = PAGES["/og"].encode()
        if coding not in ("gzip", "deflate", "raw-deflate", "br"):
            raise web.HTTPNotFound
        body = page if coding == "br" else _encoded(coding, page)
        label = "deflate" if coding == "raw-deflate" else coding
        return web.Response(body=body, headers={"Content-Type": HTML, "Content-Encoding": label})

    # Redirects and statuses

    async def _redirect(self, request: web.Request) -> web.Response:
        """/redirect/n: n hops to /og, with each status and each kind of relative Location."""
        try:
            n = int(request.match_info["n"])
        except ValueError:
            raise web.HTTPNotFound from None
        if not 1 <= n <= MAX_CHAIN:
            raise web.HTTPNotFound
        if n == 1:
            location = "../og"
        elif n % 2:
            location = str(n - 1)  # relative to /redirect/
        else:
            location = f"/redirect/{n - 1}"
        return web.Response(status=REDIRECT_CODES.get(n, 302), headers={"Location": location})

    async def _to_loopback(self, _request: web.Request) -> web.Response:
        location = f"http://127.0.0.1:{self.inner_port}/og"
        return web.Response(status=302, headers={"Location": location})

    async def _to_metadata(self, _request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": METADATA_URL})

    async def _to_ftp(self, _request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": FTP_URL})

    async def _status(self, request: web.Request) -> web.Response:
        try:
            code = int(request.match_info["code"])
        except ValueError:
            raise web.HTTPNotFound from None
        if not 200 <= code <= 599:
            raise web.HTTPNotFound
        if code in (204, 304):
            return web.Response(status=code)
        return web.Response(status=code, text=f"status {code}", content_type="text/plain")

    # Feeds

    async def _broken_feed(self, _request: web.Request) -> web.Response:
        body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken<item><title>'
        return web.Response(text=body, headers={"Content-Type": "application/rss+xml"})

    async def _feed(self, request: web.Request) -> web.Response:
        entries = self.feeds.get(request.path)
        if entries is None:
            raise web.HTTPNotFound
        origin = f"{request.scheme}://{request.host}"
        atom = "atom" in request.path
        body = (_atom if atom else _rss)(origin, request.path, entries).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        modified = max(
            (e["published"] for e in entries if isinstance(e.get("published"), datetime)),
            default=FEED_EPOCH,
        )
        headers = {"ETag": etag, "Last-Modified": _http_date(modified)}
        if _not_modified(request, etag, modified):
            return web.Response(status=304, headers=headers)
        kind = "application/atom+xml" if atom else "application/rss+xml"
        headers["Content-Type"] = f"{kind}; charset=utf-8"
        return web.Response(body=body, headers=headers)


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return moment.tzinfo is not None and modified.replace(microsecond=0) <= moment


def _absolute(origin: str, link: str) -> str:
    return origin + link if link.startswith("/") else link


def _date(value: Any, *, rss: bool) -> str:
    if isinstance(value, datetime):
        return _http_date(value) if rss else value.astimezone(UTC).isoformat()
    return str(value)


def _rss(origin: str, path: str, entries: list[dict[str, Any]]) -> str:
    items = []
    for entry in entries:
        parts = []
        if "id" in entry:
            parts.append(f'<guid isPermaLink="false">{_xml(entry["id"])}</guid>')
        if "link" in entry:
            parts.append(f"<link>{_xml(_absolute(origin, entry['link']))}</link>")
        if "title" in entry:
            parts.append(f"<title>{_xml(entry['title'])}</title>")
        if "summary" in entry:
            parts.append(f"<description>{_xml(entry['summary'])}</description>")
        if "published" in entry:
            parts.append(f"<pubDate>{_xml(_date(entry['published'], rss=True))}</pubDate>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{FEED_TITLE}</title><link>{origin}/</link>"
        f"<description>News from ACME ({_xml(path)})</description>"
        + "\n".join(items)
        + "</channel></rss>\n"
    )


def _atom(origin: str, path: str, entries: list[dict[str, Any]]) -> str:
    items = []
    for entry in entries:
        parts = []
        if "id" in entry:
            parts.append(f"<id>{_xml(entry['id'])}</id>")
        if "link" in entry:
            parts.append(f'<link href="{_xml(_absolute(origin, entry["link"]))}"/>')
        if "title" in entry:
            parts.append(f"<title>{_xml(entry['title'])}</title>")
        if "summary" in entry:
            parts.append(f"<summary>{_xml(entry['summary'])}</summary>")
        if "published" in entry:
            stamp = _xml(_date(entry["published"], rss=False))
            parts.append(f"<published>{stamp}</published><updated>{stamp}</updated>")
        items.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{FEED_TITLE}</title><id>{origin}{_xml(path)}</id>"
        f'<updated>{FEED_EPOCH.isoformat()}</updated><link href="{origin}/"/>'
        + "\n".join(items)
        + "</feed>\n"
    )


def make_tls(directory: Path, hostname: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `hostname` from a throwaway CA, and a client
    context that trusts that CA only: real TLS, real name checks, no network."""

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    usage = {
        "content_commitment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "encipher_only": False,
        "decipher_only": False,
    }
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Ambassador test CA"))
        .issuer_name(name("Ambassador test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=True,
                crl_sign=True,
                **usage,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(hostname))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=False,
                crl_sign=False,
                **usage,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cert_file, key_file = directory / f"{hostname}.crt", directory / f"{hostname}.key"
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(pem).decode("ascii"))
    return server, client
