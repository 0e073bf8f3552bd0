"""What the core asks of the web: one careful GET of a public page or feed.

The core never opens a socket itself. An adapter (`adapters/web/fetch.py`) implements
`Fetcher` with httpx and does the network part safely (public addresses only, bounded time,
size and redirects); the core turns what it got into a preview (`bot/preview.py`) or feed
entries (`bot/feedread.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

MAX_BYTES = 1_000_000  # read at most this much of any page or feed
MAX_REDIRECTS = 3
TIMEOUT = 5.0  # seconds for the whole fetch, redirects included


@dataclass(frozen=True)
class Fetched:
    """What a GET brought back."""

    url: str  # the final URL, after redirects
    status: int  # 200 (any 2xx), or 304 when a conditional request found nothing new
    content_type: str  # the media type, lower-case, without parameters ("text/html")
    charset: str | None  # from the Content-Type header, as given
    body: bytes  # at most MAX_BYTES; b"" for a 304
    truncated: bool  # the body was longer than MAX_BYTES and was cut there
    etag: str | None = None
    last_modified: str | None = None


class Unreadable(Exception):
    """Why a page or feed gives nothing: `key` is a catalog key, `params` fill it, so the
    manager reads why, in their language, in one line. Fetching, previews and feed reading
    each raise their own kind of it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class FetchError(Unreadable):
    """Why a fetch brought nothing back (keys under `fetch.`)."""


class Fetcher(Protocol):
    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    ) -> Fetched:
        """GET `url` (conditionally, with `etag` / `last_modified`); raises `FetchError`."""
        ...
