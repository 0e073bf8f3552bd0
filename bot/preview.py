"""A link preview from the bytes of a fetched page: title, description, image, site name,
language, and a guess at the content kind.

Everything here is pure: it reads the `Fetched` an adapter brought back and never opens a
socket. The markup goes through `html.parser.HTMLParser` (a real tokenizer, so comments,
scripts and attributes are told apart), never through regular expressions. Hostile pages are
bounded three ways: the text is fed in chunks and the parser stops once the head is done and a
title is known (and the kind, or some way into the body looking for its JSON-LD); it stops
for good after a fixed number of parser events; and it gives up when
an unterminated tag, comment or declaration grows past a bound (the standard parser rescans
such a construct from its start, which would otherwise cost time quadratic in its length).

`html_to_text`, `clean_text` and `http_url` are shared with `bot/feedread.py`.
"""

from __future__ import annotations

import codecs
import html
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from bot.kinds import ARTICLE, EVENT, JOB, TRAINING
from bot.web import Fetched, Unreadable

HTML_TYPES = ("text/html", "application/xhtml+xml")
# The limits of `bot.services.content`, which imports this module (so it cannot be imported
# from here); a test keeps them equal.
MAX_TITLE = 300
MAX_SUMMARY = 1_000
MAX_IMAGE_URL = 2_048
MAX_LANGUAGE = 16
_MAX_LANGUAGE_INPUT = 35  # RFC 5646 4.4.1: the longest tag worth reading
ELLIPSIS = "…"

_CHUNK = 32_768  # characters fed to the parser at a time
_MAX_EVENTS = 400_000  # parser callbacks per document: 1 MB of "<<<<" stops here
# past the head, while only the kind is still unknown: job boards put their JSON-LD in the
# body, so the parse goes on, this many callbacks more at most (some 100 KB of markup)
_BODY_EVENTS = 20_000
_MAX_PENDING = 131_072  # an unterminated tag/comment/declaration longer than this: give up
_MAX_CLOSE = 8_192  # `close()` re-scans what is pending character by character: only if small
_SNIFF = 4_096  # bytes looked at for a <meta charset> and for binary content
_MAX_CONTROL_SHARE = 0.10
_MAX_JSON_LD = 200_000  # characters of one JSON-LD script
_MAX_JSON_LD_SCRIPTS = 20
_MAX_JSON_LD_NODES = 1_000
_MAX_CHARSET_NAME = 40

# C0 and C1 controls and DEL are dropped (whitespace controls become spaces before the
# whitespace is collapsed); so are the bidirectional overrides and isolates, which can make a
# title read differently from what it says.
_WHITESPACE_CONTROLS = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85"
_DROP: dict[int, str | None] = {
    **dict.fromkeys((*range(0x20), *range(0x7F, 0xA0))),
    **dict.fromkeys(map(ord, _WHITESPACE_CONTROLS), " "),
    **dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A))),
}

_JOB_WORDS = frozenset(
    {"jobs", "job", "careers", "career", "carrieres", "carriere", "emploi", "emplois"}
    | {"offres", "recrutement"}
)
_EVENT_WORDS = frozenset({"events", "event", "evenements", "evenement", "agenda"})
_TRAINING_WORDS = frozenset(
    {"training", "trainings", "formation", "formations", "courses", "course"}
)
_TRAINING_TYPES = frozenset({"EducationEvent", "Course", "CourseInstance"})
_TRAINING_TYPES |= {"EducationalOccupationalProgram"}

# what a page says about itself, by the `property` or `name` of its <meta> tags
_TITLE_KEYS = ("og:title", "twitter:title")
_DESCRIPTION_KEYS = ("og:description", "twitter:description", "description")
_IMAGE_KEYS: tuple[str, ...] = ("og:image:secure_url", "og:image", "og:image:url")
_IMAGE_KEYS += ("twitter:image", "twitter:image:src")
_META_KEYS = frozenset(
    (*_TITLE_KEYS, *_DESCRIPTION_KEYS, *_IMAGE_KEYS, "og:site_name", "og:locale", "og:type")
)
_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figure"}
    | {"figcaption", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li"}
    | {"main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"}
)
_HIDDEN_TAGS = frozenset({"script", "style", "template"})
# codecs Python knows that no web page is written in (or that decode escapes, not text)
_REFUSED_CODECS = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape", "idna"})
_REFUSED_CODECS |= {"punycode", "undefined"}


@dataclass(frozen=True)
class Preview:
    """What a page says it is. `kind` is one of `bot.kinds.KINDS`, or None without a signal."""

    title: str | None
    description: str | None
    image_url: str | None
    site_name: str | None
    language: str | None
    kind: str | None


class NoPreview(Unreadable):
    """Why a page gives no preview (keys under `preview.`)."""


# --- text and URLs, shared with bot/feedread.py ------------------------------------------


def clean_text(raw: str | None, limit: int) -> str | None:
    """Control characters out, whitespace collapsed, clipped to `limit` characters with "…"
    (at a word boundary when one is near). Entities are the caller's business: the parser
    has decoded them already."""
    if not raw:
        return None
    text = " ".join(raw.translate(_DROP).split())
    if len(text) <= limit:
        return text or None
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def http_url(raw: str | None, base: str, limit: int = MAX_IMAGE_URL) -> str | None:
    """`raw` resolved against `base`, if it is an http(s) URL with a host, no longer than
    `limit`; else None."""
    if not raw:
        return None
    # as browsers do: tabs and newlines dropped, spaces escaped
    value = raw.strip().replace("\t", "").replace("\n", "").replace("\r", "")
    value = value.replace(" ", "%20")
    if not value or len(value) > limit or value != value.translate(_DROP):
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or len(url) > limit:
        return None
    return url


class _Stop(Exception):
    """Raised from a parser callback: enough has been read."""


class _Bounded(HTMLParser):
    """An HTMLParser that stops after `_MAX_EVENTS` callbacks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._events = 0

    def _tick(self) -> None:
        self._events += 1
        if self._events > _MAX_EVENTS:
            raise _Stop


def _run(parser: _Bounded, text: str) -> None:
    """Feed `text` to `parser` in chunks, within the bounds of the module docstring. The
    parser keeps whatever it gathered before it stopped, whatever the markup."""
    try:
        for start in range(0, len(text), _CHUNK):
            parser.feed(text[start : start + _CHUNK])
            if not parser.cdata_elem and len(parser.rawdata) > _MAX_PENDING:
                return
        if len(parser.rawdata) <= _MAX_CLOSE:
            parser.close()
    except _Stop:
        return
    except (AssertionError, ValueError, IndexError, RecursionError):
        # _markupbase raises AssertionError on some malformed declarations
        return


class _TextParser(_Bounded):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self._enough = 2 * limit
        self._hidden = 0
        self._size = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self._tick()
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self._tick()
        if self._hidden:
            return
        self.parts.append(data)
        self._size += len(" ".join(data.split()))
        if self._size > self._enough:
            raise _Stop


def html_to_text(markup: str, limit: int = MAX_SUMMARY) -> str:
    """The visible text of an HTML fragment, entities decoded, tags, scripts and styles
    dropped, block boundaries kept as spaces. Stops once clearly more than `limit` characters
    of text were found (the caller clips with `clean_text`)."""
    parser = _TextParser(limit)
    _run(parser, markup)
    return " ".join("".join(parser.parts).split())


# --- charset ------------------------------------------------------------------------------


def _codec(label: str | None) -> str | None:
    """The Python codec a charset label names, if it is a text encoding we accept."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > _MAX_CHARSET_NAME:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    codec = info.name
    # bytes-to-bytes and str-to-str codecs (base64, zlib, rot13) say they are not text ones
    if not getattr(info, "_is_text_encoding", True) or codec in _REFUSED_CODECS:
        return None
    if codec in ("latin-1", "iso8859-1"):
        return "cp1252"  # as browsers do: the printable superset
    return codec


def _decode(body: bytes, codec: str, *, final: bool, errors: str = "strict") -> str | None:
    """`body` decoded; a truncated body may end in the middle of a character, which is
    dropped. None if the bytes are not in that encoding."""
    try:
        text = codecs.getincrementaldecoder(codec)(errors).decode(body, final=final)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return text if isinstance(text, str) else None


class _CharsetScan(_Bounded):
    """Finds `<meta charset>` or `<meta http-equiv=content-type content=...>`."""

    def __init__(self) -> None:
        super().__init__()
        self.charset: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag != "meta":
            return
        values = {name: value or "" for name, value in attrs}
        charset = values.get("charset", "").strip()
        if not charset and values.get("http-equiv", "").strip().lower() == "content-type":
            for part in values.get("content", "").split(";"):
                name, _, value = part.partition("=")
                if name.strip().lower() == "charset":
                    charset = value.strip()
        if charset:
            self.charset = charset
            raise _Stop


def _declared_charset(body: bytes) -> str | None:
    scan = _CharsetScan()
    _run(scan, body[:_SNIFF].decode("latin-1"))
    codec = _codec(scan.charset)
    if codec and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"  # the <meta> was readable as ASCII, so it cannot be UTF-16
    return codec


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_page(fetched: Fetched) -> str:
    """The text of a page: a byte-order mark wins; then the header charset, then a
    `<meta charset>` in the first 4 KB, then UTF-8, each only if the bytes decode strictly;
    else Windows-1252. Raises `NoPreview("preview.undecodable")` for binary content."""
    body, final = fetched.body, not fetched.truncated
    text: str | None = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _decode(body[len(bom) :], codec, final=final, errors="replace")
            break
    else:
        header = _codec(fetched.charset)
        text = _decode(body, header, final=final) if header else None
        tried = {header}
        if text is None:
            declared = _declared_charset(body)
            if declared not in tried:
                text = _decode(body, declared, final=final) if declared else None
                tried.add(declared)
        if text is None and "utf-8" not in tried:
            text = _decode(body, "utf-8", final=final)
        if text is None:
            text = body.decode("cp1252", errors="replace")
    if text is None or _mostly_control(text[:_SNIFF]):
        raise NoPreview("preview.undecodable")
    return text


def _mostly_control(sample: str) -> bool:
    bad = sum(
        1
        for c in sample
        if (c < " " and c not in "\t\n\r\f") or "\x7f" <= c <= "\x9f" or c == "\ufffd"
    )
    return bad > len(sample) * _MAX_CONTROL_SHARE


# --- the page -----------------------------------------------------------------------------


class _PageParser(_Bounded):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.html_lang: str | None = None
        self.kind: str | None = None
        self._seen_html = False
        self._head_done = False
        self._in_title = False
        self._title_parts: list[str] = []
        self._foreign = 0  # inside <svg> or <math>: their <title> is a tooltip
        self._json_ld: list[str] | None = None
        self._json_ld_size = 0
        self._json_ld_scripts = 0
        self._body_from: int | None = None  # the event count when only the kind was missing

    # the parse stops once the head is done and a title is known, and the kind too, or
    # `_BODY_EVENTS` into the body looking for it
    def _maybe_stop(self) -> None:
        titled = (self.title or "").strip() or any(self.meta.get(k) for k in _TITLE_KEYS)
        if not (self._head_done and titled):
            return
        if self.kind is not None:
            raise _Stop
        if self._body_from is None:
            self._body_from = self._events

    def _tick(self) -> None:
        super()._tick()
        if self._body_from is not None and self._events - self._body_from > _BODY_EVENTS:
            raise _Stop

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag in ("svg", "math"):
            self._foreign += 1
        elif self._foreign:
            return
        elif tag == "meta":
            if self._body_from is None:  # past that, only a JSON-LD kind is looked for
                self._meta(attrs)
        elif tag == "title" and self.title is None and not self._in_title:
            self._in_title = True
            self.set_cdata_mode("title")  # RCDATA, as browsers read it: no tags inside
        elif tag == "textarea":
            self.set_cdata_mode("textarea")
        elif tag == "script":
            kind = next((v for n, v in attrs if n == "type"), None) or ""
            if kind.strip().lower() == "application/ld+json":
                self._json_ld, self._json_ld_size = [], 0
        elif tag == "html" and not self._seen_html:
            self._seen_html = True
            values = dict(attrs)
            self.html_lang = values.get("lang") or values.get("xml:lang")
        elif tag == "body":
            self._head_done = True
            self._maybe_stop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag == "meta" and not self._foreign and self._body_from is None:
            self._meta(attrs)

    def handle_endtag(self, tag: str) -> None:
        self._tick()
        if tag in ("svg", "math"):
            self._foreign = max(0, self._foreign - 1)
        elif tag == "title" and self._in_title:
            self._in_title = False
            self.title = html.unescape("".join(self._title_parts))
            self._maybe_stop()
        elif tag == "script" and self._json_ld is not None:
            if self._json_ld_size <= _MAX_JSON_LD and self._json_ld_scripts < _MAX_JSON_LD_SCRIPTS:
                self._json_ld_scripts += 1
                self.kind = self.kind or _kind_from_json_ld("".join(self._json_ld))
            self._json_ld = None
            self._maybe_stop()
        elif tag == "head":
            self._head_done = True
            self._maybe_stop()

    def handle_data(self, data: str) -> None:
        self._tick()
        if self._in_title and self.cdata_elem == "title":
            self._title_parts.append(data)
        elif self._json_ld is not None and self.cdata_elem == "script":
            self._json_ld_size += len(data)
            if self._json_ld_size <= _MAX_JSON_LD:
                self._json_ld.append(data)

    def _meta(self, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        content = (values.get("content") or "").strip()
        if not content:
            return
        for attribute in ("property", "name"):
            key = (values.get(attribute) or "").strip().lower()
            if key in _META_KEYS:
                self.meta.setdefault(key, content)


def _types(node: dict[str, Any]) -> Iterator[str]:
    value = node.get("@type")
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            yield item.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _kind_of_types(types: list[str]) -> str | None:
    if "JobPosting" in types:
        return JOB
    if any(t in _TRAINING_TYPES for t in types):
        return TRAINING
    if any(t.endswith("Event") for t in types):
        return EVENT
    return None


def _kind_from_json_ld(source: str) -> str | None:
    """The kind the first typed node of a JSON-LD block names (top level, in lists, in
    `@graph`, or as `mainEntity`), or None; unparsable JSON is no signal."""
    try:
        document = json.loads(source)
    except (ValueError, RecursionError):
        return None
    queue: list[Any] = [document]
    visited = 0
    while queue and visited < _MAX_JSON_LD_NODES:
        node = queue.pop(0)
        visited += 1
        if isinstance(node, list):
            queue[0:0] = node[:_MAX_JSON_LD_NODES]
        elif isinstance(node, dict):
            kind = _kind_of_types(list(_types(node)))
            if kind:
                return kind
            children = [node.get("@graph"), node.get("mainEntity")]
            queue[0:0] = [child for child in children if child is not None]
    return None


def _kind_from_url(url: str) -> str | None:
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    plain = unicodedata.normalize("NFKD", path.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    for word in plain.split("/"):
        if word in _JOB_WORDS:
            return JOB
        if word in _EVENT_WORDS:
            return EVENT
        if word in _TRAINING_WORDS or word.startswith("webinar"):
            return TRAINING
    return None


def language_tag(raw: str | None) -> str | None:
    """A short language tag: the primary subtag in lower case, then the region if there is
    one ("fr", "en-GB", "es-419", "zh-TW" from "zh-Hant-TW"); None if it is not one."""
    if not raw or len(raw.strip()) > _MAX_LANGUAGE_INPUT:
        return None
    parts = raw.strip().replace("_", "-").split("-")
    if not all(1 <= len(part) <= 8 and part.isascii() and part.isalnum() for part in parts):
        return None
    primary = parts[0].lower()
    if not (2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha()):
        return None
    if primary in ("und", "zxx", "mul", "mis"):
        return None
    region = None
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            continue  # a script subtag ("Hant")
        if (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            region = part.upper()
        break
    tag = f"{primary}-{region}" if region else primary
    return tag if len(tag) <= MAX_LANGUAGE else None


def _looks_like_html(body: bytes) -> bool:
    """For a page served without a content type: does it open like an HTML document?"""
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _first(meta: dict[str, str], keys: tuple[str, ...], limit: int) -> str | None:
    for key in keys:
        text = clean_text(meta.get(key), limit)
        if text:
            return text
    return None


def _preview(fetched: Fetched) -> Preview:
    content_type = fetched.content_type.strip().lower()
    sniffed = not content_type and _looks_like_html(fetched.body)
    if content_type not in HTML_TYPES and not sniffed:
        raise NoPreview("preview.not_html", type=clean_text(content_type, 80) or "?")
    if not fetched.body.strip():
        raise NoPreview("preview.empty")
    parser = _PageParser()
    _run(parser, decode_page(fetched))
    meta = parser.meta
    title = _first(meta, _TITLE_KEYS, MAX_TITLE) or clean_text(parser.title, MAX_TITLE)
    description = _first(meta, _DESCRIPTION_KEYS, MAX_SUMMARY)
    image = next(
        (url for key in _IMAGE_KEYS if (url := http_url(meta.get(key), fetched.url))), None
    )
    if not (title or description or image):
        raise NoPreview("preview.empty")
    og_type = meta.get("og:type", "").strip().lower()
    kind = parser.kind or (ARTICLE if og_type == ARTICLE else None) or _kind_from_url(fetched.url)
    return Preview(
        title=title,
        description=description,
        image_url=image,
        site_name=clean_text(meta.get("og:site_name"), MAX_TITLE),
        language=language_tag(parser.html_lang) or language_tag(meta.get("og:locale")),
        kind=kind,
    )


def read_page(fetched: Fetched) -> Preview:
    """The preview of a fetched HTML page. Raises `NoPreview` (and nothing else, whatever the
    bytes): `preview.not_html`, `preview.undecodable`, `preview.empty`."""
    try:
        return _preview(fetched)
    except NoPreview:
        raise
    except Exception as exc:  # a bug must not take the caller down: say the page is unreadable
        raise NoPreview("preview.unreadable") from exc
