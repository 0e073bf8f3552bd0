"""Feed entries from the bytes of a fetched RSS 2.0 or Atom feed.

Pure like `bot/preview.py`: `feedparser` only ever gets the bytes, wrapped in a file object.
It is never handed a URL, so it never fetches anything; nor raw `bytes`, which feedparser 6.0
first tries to `open()` as a local file name (a body of `/etc/passwd` would read that file).

XML entity expansion ("billion laughs") is bounded twice. feedparser strips `<!ENTITY>`
declarations from the prolog before the strict parse, keeping only those whose value holds no
entity reference; and the strict parse runs on expat, which since 2.4.1 stops any document
whose entities expand more than a fixed factor over its input ("limit on input amplification
factor"), after which feedparser's loose parser leaves the references unexpanded. The expat
this Python was built with is `pyexpat.EXPAT_VERSION`; `EXPAT_PROTECTED` says whether it is at
least 2.4.1 (2.5.0 here), and if it were not, feeds that declare entities are refused.
"""

from __future__ import annotations

import io
import pyexpat
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser  # type: ignore[import-untyped]

from bot.preview import (
    HTML_TYPES,
    MAX_IMAGE_URL,
    MAX_SUMMARY,
    MAX_TITLE,
    clean_text,
    html_to_text,
    http_url,
)
from bot.web import Fetched, Unreadable

EXPAT_PROTECTED = pyexpat.version_info >= (2, 4, 1)
MAX_LINK = 2_000  # `bot.services.content.MAX_URL`: an entry link becomes a content URL
MAX_ID = 2_048
_MARKUP_TYPES = ("text/html", "application/xhtml+xml")
_HTML = {"type": "text/html"}


@dataclass(frozen=True)
class Entry:
    """One item of a feed. `published` is an aware UTC datetime."""

    id: str | None
    link: str | None
    title: str | None
    summary: str | None
    published: datetime | None
    image_url: str | None


@dataclass(frozen=True)
class FeedDoc:
    title: str | None
    entries: tuple[Entry, ...]  # in feed order


class NoFeed(Unreadable):
    """Why the bytes give no feed (keys under `feedread.`)."""


def _text(value: Any, detail: Any, limit: int) -> str | None:
    """Plain text of a feed field: markup stripped when feedparser says it is HTML."""
    if not isinstance(value, str):
        return None
    kind = detail.get("type") if isinstance(detail, dict) else None
    if kind in _MARKUP_TYPES:
        value = html_to_text(value, limit)
    return clean_text(value, limit)


def _summary(entry: Any) -> str | None:
    contents = [c for c in entry.get("content") or () if isinstance(c, dict)]
    # a summary feedparser copied from the content has no detail of its own
    detail = entry.get("summary_detail") or (contents[0] if contents else _HTML)
    summary = _text(entry.get("summary"), detail, MAX_SUMMARY)
    if summary:
        return summary
    for content in contents:
        if text := _text(content.get("value"), content, MAX_SUMMARY):
            return text
    return None


def _identifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = clean_text(value, MAX_ID + 1)
    return text if text and len(text) <= MAX_ID else None


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        # plain dict access: feedparser's own maps one key onto the other, with a warning
        moment: Any = dict.get(entry, key) if isinstance(entry, dict) else None
        try:
            year, month, day, hour, minute, second = (int(part) for part in moment[:6])
            return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except (TypeError, ValueError, OverflowError, IndexError):
            continue
    return None


def _image(entry: Any, base: str) -> str | None:
    candidates: list[Any] = []
    for media in entry.get("media_content") or ():
        if isinstance(media, dict):
            kind, medium = str(media.get("type") or ""), str(media.get("medium") or "")
            if kind.startswith("image/") or medium == "image" or not (kind or medium):
                candidates.append(media.get("url"))
    for thumbnail in entry.get("media_thumbnail") or ():
        if isinstance(thumbnail, dict):
            candidates.append(thumbnail.get("url"))
    for enclosure in entry.get("enclosures") or ():
        if isinstance(enclosure, dict) and str(enclosure.get("type") or "").startswith("image/"):
            candidates.append(enclosure.get("href"))
    for candidate in candidates:
        if isinstance(candidate, str) and (url := http_url(candidate, base, MAX_IMAGE_URL)):
            return url
    return None


def _entry(entry: Any, feed_url: str) -> Entry:
    detail = entry.get("title_detail")
    # media URLs are not resolved by feedparser: against the entry's xml:base, else the feed
    base = detail.get("base") if isinstance(detail, dict) else None
    base = http_url(base, feed_url, MAX_LINK) if isinstance(base, str) else None
    link = entry.get("link")
    return Entry(
        id=_identifier(entry.get("id")),
        link=http_url(link, feed_url, MAX_LINK) if isinstance(link, str) else None,
        title=_text(entry.get("title"), detail, MAX_TITLE),
        summary=_summary(entry),
        published=_published(entry),
        image_url=_image(entry, base or feed_url),
    )


def _looks_like_html(fetched: Fetched) -> bool:
    if fetched.content_type.strip().lower() in HTML_TYPES:
        return True
    start = fetched.body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _read(fetched: Fetched) -> FeedDoc:
    if not fetched.body.strip():
        raise NoFeed("feedread.empty")
    if not EXPAT_PROTECTED and b"<!ENTITY" in fetched.body:
        raise NoFeed("feedread.malformed")
    headers = {"content-location": fetched.url}
    if fetched.content_type:
        charset = f"; charset={fetched.charset}" if fetched.charset else ""
        headers["content-type"] = fetched.content_type + charset
    parsed = feedparser.parse(io.BytesIO(fetched.body), response_headers=headers)
    feed = parsed.get("feed") or {}
    title = _text(feed.get("title"), feed.get("title_detail"), MAX_TITLE)
    entries = tuple(_entry(entry, fetched.url) for entry in parsed.get("entries") or ())
    if not entries:
        version = parsed.get("version")
        if not version and _looks_like_html(fetched):
            raise NoFeed("feedread.not_a_feed")
        if parsed.get("bozo") and not title:
            raise NoFeed("feedread.malformed")
        if not version and not title:
            raise NoFeed("feedread.not_a_feed")
    return FeedDoc(title=title, entries=entries)


def read_feed(fetched: Fetched) -> FeedDoc:
    """The feed in `fetched`: its title and entries, in feed order (none is fine). Raises
    `NoFeed` (and nothing else, whatever the bytes): `feedread.empty`, `feedread.malformed`,
    `feedread.not_a_feed`."""
    try:
        return _read(fetched)
    except NoFeed:
        raise
    except Exception as exc:  # feedparser or a bug: the caller hears "malformed", not a crash
        raise NoFeed("feedread.malformed") from exc
