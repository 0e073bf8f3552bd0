"""Content: validated on the way in, unique by URL while live, never shown once expired or
removed."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import kinds
from bot.errors import Conflict, InvalidInput, NotFound
from bot.preview import Preview
from storage.models import ContentItem

MAX_URL = 2_000
MAX_TITLE = 300
MAX_SUMMARY = 1_000
MAX_NOTE = 500  # a suggester's "why", a manager's reason for a rejection
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_HOST = re.compile(r"^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$")


def normalise_url(raw: str) -> str:
    """Check a content URL and give its canonical form (lower-case scheme and host, no
    default port, no fragment). Raises `InvalidInput` with a reason the manager can act on."""
    url = raw.strip()
    if not url:
        raise InvalidInput("content.error_url_missing")
    if len(url) > MAX_URL:
        raise InvalidInput("content.error_url_long", limit=MAX_URL)
    if any(c.isspace() for c in url) or _CONTROL.search(url):
        raise InvalidInput("content.error_url", url=url[:80])
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("content.error_url", url=url[:80]) from exc
    if not parts.scheme or not parts.netloc:
        raise InvalidInput("content.error_url", url=url[:80])
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("content.error_scheme", url=url[:80])
    host = (parts.hostname or "").lower()
    try:
        host = host.encode("idna").decode("ascii") if host and host.isascii() is False else host
    except UnicodeError as exc:
        raise InvalidInput("content.error_url", url=url[:80]) from exc
    if not host or not _HOST.match(host) or ("." not in host and host != "localhost"):
        raise InvalidInput("content.error_url", url=url[:80])
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    if parts.username or parts.password:
        raise InvalidInput("content.error_url", url=url[:80])
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def clean_title(raw: str | None) -> str | None:
    if raw is None:
        return None
    title = " ".join(_CONTROL.sub(" ", raw).split())
    if len(title) > MAX_TITLE:
        raise InvalidInput("content.error_title_long", limit=MAX_TITLE, length=len(title))
    return title or None


def clean_summary(raw: str | None) -> str | None:
    if raw is None:
        return None
    summary = _CONTROL.sub(" ", raw).strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput("content.error_summary_long", limit=MAX_SUMMARY, length=len(summary))
    return summary or None


def parse_expiry(raw: str, *, tz: ZoneInfo, now: datetime) -> datetime:
    """`2026-12-31` means the end of that day in the programme's time zone; a full ISO time
    without a zone is read in that zone too. The moment must be in the future."""
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", text):  # a day: the end of it
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
    except ValueError as exc:
        raise InvalidInput("content.error_date", value=text[:40]) from exc
    if moment <= now:
        raise InvalidInput("content.error_date_past", value=text[:40])
    return moment


def fallback_title(url: str) -> str:
    """A readable stand-in when the manager gives no title: host and path."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return (parts.hostname or url) + (path if len(path) < 120 else path[:117] + "…")


def clean_note(raw: str | None) -> str | None:
    if raw is None:
        return None
    note = " ".join(_CONTROL.sub(" ", raw).split())
    if len(note) > MAX_NOTE:
        raise InvalidInput("review.error_note_long", limit=MAX_NOTE, length=len(note))
    return note or None


def is_live(item: ContentItem, now: datetime) -> bool:
    """Approved, not removed, not expired: what digests show and members may claim."""
    return (
        item.status == APPROVED
        and item.removed_at is None
        and (item.expires_at is None or item.expires_at > now)
    )


async def add(
    session: AsyncSession,
    *,
    url: str,
    title: str | None,
    summary: str | None,
    expires_at: datetime | None,
    now: datetime,
    preview: Preview | None = None,
    kind: str | None = None,
    status: str = APPROVED,
    origin: str = "manager",
    feed_id: int | None = None,
    suggested_by: int | None = None,
    note: str | None = None,
) -> ContentItem:
    """Store a new item; a live or waiting item with the same URL is a `Conflict` naming
    it. What the manager typed wins over the page's preview, which fills what they left."""
    key = normalise_url(url)
    clean = clean_title(title)
    text = clean_summary(summary)
    if kind is not None and kind not in kinds.KINDS:
        raise InvalidInput("content.error_kind", kind=kind[:20])
    existing = await by_url(session, key)
    if existing is not None:
        raise Conflict(
            "content.error_duplicate_pending"
            if existing.status == PENDING
            else "content.error_duplicate",
            id=existing.id,
            title=existing.title,
        )
    look = preview or Preview(None, None, None, None, None, None)
    item = ContentItem(
        url=key,
        url_key=key,
        title=clean or look.title or fallback_title(key),
        summary=text or look.description,
        expires_at=expires_at,
        created_at=now,
        kind=kind or look.kind or kinds.ARTICLE,
        status=status,
        origin=origin,
        image_url=look.image_url,
        site_name=look.site_name[:200] if look.site_name else None,
        language=look.language,
        feed_id=feed_id,
        suggested_by=suggested_by,
        suggestion_note=clean_note(note),
    )
    try:
        async with session.begin_nested():
            session.add(item)
            await session.flush()
    except IntegrityError as exc:  # another writer added it between our check and insert
        raise Conflict("content.error_duplicate_race", url=key) from exc
    return item


async def by_url(session: AsyncSession, key: str) -> ContentItem | None:
    result = await session.exec(select(ContentItem).where(ContentItem.url_key == key))
    return result.first()


async def get_live(session: AsyncSession, item_id: int, now: datetime) -> ContentItem:
    item = await session.get(ContentItem, item_id)
    if item is None or not is_live(item, now):
        raise NotFound("content.error_gone", id=item_id)
    return item


async def live(
    session: AsyncSession, *, now: datetime, limit: int | None = None
) -> list[ContentItem]:
    """Items that may appear in a digest, newest first."""
    query = (
        select(ContentItem)
        .where(ContentItem.status == APPROVED)
        .where(col(ContentItem.removed_at).is_(None))
        .where(or_(col(ContentItem.expires_at).is_(None), col(ContentItem.expires_at) > now))
        .order_by(col(ContentItem.created_at).desc(), col(ContentItem.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.exec(query)).all())


async def remove(session: AsyncSession, *, item_id: int, now: datetime) -> ContentItem:
    item = await current(session, item_id)
    item.removed_at = now
    item.url_key = None
    session.add(item)
    await session.flush()
    return item


async def set_expiry(
    session: AsyncSession, *, item_id: int, expires_at: datetime | None
) -> ContentItem:
    item = await current(session, item_id)
    item.expires_at = expires_at
    session.add(item)
    await session.flush()
    return item


async def current(session: AsyncSession, item_id: int) -> ContentItem:
    """An item a manager may still act on: approved or waiting, not removed or rejected."""
    item = await session.get(ContentItem, item_id)
    if item is None or item.removed_at is not None or item.status == REJECTED:
        raise NotFound("content.error_unknown", id=item_id)
    return item
