"""`bot.web.Fetcher` over httpx, for links nobody vouched for.

A link in a feed or a message is someone else's input. Fetched naively, it makes the bot call
the cloud metadata service, an admin page on the office network or a loopback port on its
behalf (server-side request forgery). So every hop, redirects included, is checked before it
connects: the scheme, then every address the name resolves to; and the connection is pinned
to the checked address, so a second DNS answer cannot swap it (rebinding). The body is read
raw and inflated by hand, so a small gzip cannot become gigabytes in memory. Whatever goes
wrong becomes one `FetchError` the manager can read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy

import h11
import httpx

from bot.web import MAX_BYTES, MAX_REDIRECTS, TIMEOUT, Fetched, FetchError

log = logging.getLogger("ambassador.fetch")

USER_AGENT = "AmbassadorBot/0.1 (link previews; +https://github.com/ambassador-bot)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 prefixes that only stand for an IPv4 address: the IPv4 inside is what gets reached.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_DEFAULT_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _translated(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address `ip` merely spells differently: IPv4-mapped (`::ffff:a.b.c.d`),
    IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`) or IPv4-compatible
    (`::a.b.c.d`)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    value = int(ip)
    top = value >> 32
    if top == 0xFFFF0000 or any(ip in net for net in _NAT64) or (top == 0 and value > 1):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def public_address(ip: IPAddress) -> bool:
    """Whether `ip` is a unicast address on the public internet.

    IPv4 hidden in IPv6 is judged by the IPv4 inside: `::ffff:127.0.0.1` and
    `64:ff9b::a9fe:a9fe` reach loopback and the metadata service, and a 6to4 or Teredo
    address tunnels to the IPv4 it embeds.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not ip.is_multicast
    inner = _translated(ip)
    if inner is not None:
        return public_address(inner)
    tunnelled = [ip.sixtofour] if ip.sixtofour is not None else []
    if ip.teredo is not None:
        tunnelled.extend(ip.teredo)
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_site_local
        and all(public_address(v4) for v4 in tunnelled)
    )


def _target(url: httpx.URL) -> tuple[str, int]:
    """The host (IDNA-encoded) and port one hop connects to, once its URL is acceptable."""
    if not url.scheme:
        raise FetchError("fetch.bad_url")
    if url.scheme not in DEFAULT_PORTS:
        raise FetchError("fetch.refused_scheme", scheme=url.scheme)
    if url.userinfo:
        raise FetchError("fetch.refused_userinfo")  # credentials have no place in a shared link
    host = url.raw_host.decode("ascii")
    port = url.port or DEFAULT_PORTS[url.scheme]
    if not host or not 0 < port < 65536:
        raise FetchError("fetch.bad_url")
    return host, port


def _parse(text: str) -> httpx.URL:
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, TypeError, UnicodeError) as exc:
        raise FetchError("fetch.bad_url") from exc


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise FetchError("fetch.http_status", status=response.status_code)
    try:
        return current.join(location)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise FetchError("fetch.bad_url") from exc


def _media_type(header: str | None) -> tuple[str, str | None]:
    """`Text/HTML; charset="UTF-8"` → ("text/html", "UTF-8"); no header means unknown bytes."""
    if not header:
        return "application/octet-stream", None
    kind, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').strip() or None
    return kind.strip().lower() or "application/octet-stream", charset


def _coding(header: str | None) -> str:
    """The one Content-Encoding this fetcher undoes ("identity", "gzip" or "deflate")."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    raise FetchError("fetch.bad_encoding", encoding=header)


def _validator(value: str | None) -> str | None:
    """A stored ETag or date worth sending back: one that is a legal header value."""
    if not value or any(c in value for c in "\r\n\0"):
        return None
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        return None
    return value


class _Inflater:
    """Undoes a Content-Encoding a bounded piece at a time: `take(data, room)` never returns
    more than `room` bytes, however much `data` would expand to (a compression bomb)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib: zlib._Decompress | None = None
        self._head = b""

    @property
    def done(self) -> bool:
        return self._zlib is not None and self._zlib.eof

    def take(self, data: bytes, room: int) -> bytes:
        if self.coding == "identity":
            return data[:room]
        if self._zlib is None:
            # "deflate" is zlib-wrapped by the spec and raw in some servers: the first two
            # bytes tell which.
            self._head += data
            if len(self._head) < 2:
                return b""
            self._zlib = zlib.decompressobj(self._wbits(self._head))
            data, self._head = self._head, b""
        out = bytearray()
        while len(out) < room and not self._zlib.eof:
            # max_length bounds the output; what is left of the input waits in the tail.
            piece = self._zlib.decompress(data, room - len(out))
            data = self._zlib.unconsumed_tail
            if not piece:
                break
            out += piece
        return bytes(out)

    def _wbits(self, head: bytes) -> int:
        if self.coding == "gzip":
            return zlib.MAX_WBITS | 16
        cmf, flg = head[0], head[1]
        wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS


class SafeFetcher:
    """Careful GETs, safe to share between tasks: public addresses only, at most `max_bytes`,
    MAX_REDIRECTS redirects and `timeout` seconds a fetch (DNS and every hop included)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        exempt: frozenset[tuple[str, int]] = frozenset(),
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        verify: ssl.SSLContext | bool = True,
        user_agent: str = USER_AGENT,
    ) -> None:
        """`allow_private` lets any unicast address through: for tests only
        (AMBASSADOR_FETCH_ALLOW_PRIVATE), never in production.

        `exempt` is a TEST SEAM: (ip, port) pairs treated as public, so a test can reach its
        local site with `allow_private` off and prove that a *redirect* from it to loopback or
        the metadata service is refused. Production passes nothing.
        """
        self._allow_private = allow_private
        self._exempt = frozenset((str(ipaddress.ip_address(ip)), port) for ip, port in exempt)
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._user_agent = user_agent
        self._client = httpx.AsyncClient(
            verify=verify,
            trust_env=False,  # no proxy, netrc or CA bundle from the environment
            follow_redirects=False,  # each hop is checked here, like the first
            timeout=httpx.Timeout(timeout),
            # No connection reuse: the pool keys connections by address, so a kept one could
            # carry a request for another name over a TLS session verified for the first.
            limits=httpx.Limits(max_keepalive_connections=0),
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # keeps none
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = _DEFAULT_ACCEPT,
    ) -> Fetched:
        """GET `url` (conditionally, with `etag` / `last_modified`); raises `FetchError`."""
        etag, last_modified = _validator(etag), _validator(last_modified)
        headers = {
            "Accept": accept,
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": self._user_agent,
            "Connection": "close",  # see `limits` above
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(url, headers, etag=etag, last_modified=last_modified)
        except TimeoutError:
            error = FetchError("fetch.timeout", seconds=self._seconds)
            log.info("fetch failed: %s %s", error.key, error.params)
            raise error from None
        except FetchError as error:
            log.info("fetch failed: %s %s", error.key, error.params)
            raise

    @property
    def _seconds(self) -> float | int:
        return int(self._timeout) if self._timeout == int(self._timeout) else self._timeout

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        *,
        etag: str | None,
        last_modified: str | None,
    ) -> Fetched:
        current = _parse(url)
        for _ in range(MAX_REDIRECTS + 1):
            async with self._exchange(current, headers) as (host, response):
                if response.status_code in REDIRECTS:
                    current = _redirect_target(current, response)
                    continue
                return await self._fetched(
                    current, host, response, etag=etag, last_modified=last_modified
                )
        raise FetchError("fetch.too_many_redirects", limit=MAX_REDIRECTS)

    @asynccontextmanager
    async def _exchange(
        self, url: httpx.URL, headers: dict[str, str]
    ) -> AsyncIterator[tuple[str, httpx.Response]]:
        """One hop: check, resolve, connect, and close the response whatever happens."""
        host, port = _target(url)
        addresses = await self._resolve(host, port)
        response = await self._connect(url, host, addresses, headers)
        try:
            yield host, response
        finally:
            with self._network_errors(host):
                await response.aclose()

    async def _resolve(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, each one checked: one bad answer refuses the lot
        (a name with a public and a private address is an attack, not a mistake)."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise FetchError("fetch.unresolvable", host=host) from exc
        addresses: list[str] = []
        for family, _, _, _, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = ipaddress.ip_address(sockaddr[0])
            if not self._allowed(ip, port):
                raise FetchError("fetch.refused_address", host=host, address=str(ip))
            if str(ip) not in addresses:
                addresses.append(str(ip))
        if not addresses:
            raise FetchError("fetch.unresolvable", host=host)
        return addresses

    def _allowed(self, ip: IPAddress, port: int) -> bool:
        if (str(ip), port) in self._exempt:
            return True
        if self._allow_private:
            return not ip.is_multicast
        return public_address(ip)

    async def _connect(
        self, url: httpx.URL, host: str, addresses: list[str], headers: dict[str, str]
    ) -> httpx.Response:
        """Try the checked addresses in turn, each pinned: the request URL names the address,
        while the Host header and TLS (SNI and the certificate check) name the host."""
        pinned = {**headers, "Host": url.netloc.decode("ascii")}
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        failure: Exception | None = None
        with self._network_errors(host):
            for address in addresses:
                request = self._client.build_request(
                    "GET", url.copy_with(host=address), headers=pinned, extensions=extensions
                )
                try:
                    return await self._client.send(request, stream=True)
                except httpx.ConnectError as exc:  # refused, unroutable, TLS: try the next
                    failure = exc
                except httpx.RemoteProtocolError as exc:
                    # httpx reads Location even when not following it, and says so this way.
                    if str(exc).startswith("Invalid URL in location header"):
                        raise FetchError("fetch.bad_url") from exc
                    raise
        raise FetchError("fetch.unreachable", host=host) from failure

    async def _fetched(
        self,
        url: httpx.URL,
        host: str,
        response: httpx.Response,
        *,
        etag: str | None,
        last_modified: str | None,
    ) -> Fetched:
        status = response.status_code
        content_type, charset = _media_type(response.headers.get("content-type"))
        new_etag = response.headers.get("etag")
        new_last_modified = response.headers.get("last-modified")
        if status == 304:  # nothing new: the validators sent still hold unless replaced
            body, truncated = b"", False
            new_etag, new_last_modified = new_etag or etag, new_last_modified or last_modified
        elif 200 <= status < 300:
            body, truncated = await self._body(host, response)
        else:
            raise FetchError("fetch.http_status", status=status)
        return Fetched(
            url=str(url),
            status=status,
            content_type=content_type,
            charset=charset,
            body=body,
            truncated=truncated,
            etag=new_etag,
            last_modified=new_last_modified,
        )

    async def _body(self, host: str, response: httpx.Response) -> tuple[bytes, bool]:
        """At most `max_bytes` of the decoded body, and whether there was more."""
        inflater = _Inflater(_coding(response.headers.get("content-encoding")))
        limit = self._max_bytes
        body = bytearray()
        with self._network_errors(host):
            try:
                async for raw in response.aiter_raw():
                    body += inflater.take(raw, limit + 1 - len(body))
                    if len(body) > limit:
                        del body[limit:]
                        return bytes(body), True
                    if inflater.done:
                        break
            except zlib.error as exc:
                raise FetchError("fetch.bad_encoding", encoding=inflater.coding) from exc
        return bytes(body), False

    @contextmanager
    def _network_errors(self, host: str) -> Iterator[None]:
        """Whatever the network throws becomes a FetchError the manager can read."""
        try:
            yield
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise FetchError("fetch.timeout", seconds=self._seconds) from exc
        except (httpx.HTTPError, httpx.InvalidURL, h11.ProtocolError, OSError, UnicodeError) as exc:
            raise FetchError("fetch.unreachable", host=host) from exc
