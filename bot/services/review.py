"""The review queue: members' suggestions and untrusted feeds' entries wait here until a
manager approves or rejects them. Only approved items reach a digest (`content.is_live`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import kinds
from bot.errors import InvalidInput, NotFound
from bot.services import content
from storage.models import ContentItem

# what `edit ID FIELD VALUE` may change, by the words managers type in either language
FIELDS = {
    "title": "title",
    "titre": "title",
    "summary": "summary",
    "résumé": "summary",
    "resume": "summary",
    "expires": "expires",
    "expiry": "expires",
    "expiration": "expires",
    "kind": "kind",
    "type": "kind",
}
NEVER = ("never", "jamais")


async def pending(session: AsyncSession) -> Sequence[ContentItem]:
    """What waits for a manager, oldest first (first come, first reviewed)."""
    result = await session.exec(
        select(ContentItem)
        .where(ContentItem.status == content.PENDING)
        .where(col(ContentItem.removed_at).is_(None))
        .order_by(col(ContentItem.created_at), col(ContentItem.id))
    )
    return result.all()


async def _waiting(session: AsyncSession, item_id: int) -> ContentItem:
    item = await session.get(ContentItem, item_id)
    if item is None or item.removed_at is not None:
        raise NotFound("content.error_unknown", id=item_id)
    if item.status != content.PENDING:
        raise InvalidInput("review.error_not_waiting", id=item_id)
    return item


async def approve(
    session: AsyncSession, *, item_id: int, now: datetime, kind: str | None = None
) -> ContentItem:
    """Waiting → approved: from the next digest on, members see it."""
    item = await _waiting(session, item_id)
    if kind is not None:
        item.kind = kind
    if item.expires_at is not None and item.expires_at <= now:
        raise InvalidInput("review.error_expired", id=item_id)
    item.status = content.APPROVED
    item.reviewed_at = now
    session.add(item)
    await session.flush()
    return item


async def reject(
    session: AsyncSession, *, item_id: int, now: datetime, reason: str | None
) -> ContentItem:
    """Waiting → rejected, with the manager's reason for the suggester. The URL is freed,
    so it may be suggested or added again later."""
    item = await _waiting(session, item_id)
    item.status = content.REJECTED
    item.reviewed_at = now
    item.review_note = content.clean_note(reason)
    item.url_key = None
    session.add(item)
    await session.flush()
    return item


async def edit(
    session: AsyncSession,
    *,
    item_id: int,
    field: str,
    value: str,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[ContentItem, str]:
    """Change one field of a waiting or approved item; returns it and the field's name."""
    name = FIELDS.get(field.lower())
    if name is None:
        raise InvalidInput("review.error_field", field=field[:20])
    item = await content.current(session, item_id)
    if name == "title":
        title = content.clean_title(value)
        if title is None:
            raise InvalidInput("review.error_empty", field=field[:20])
        item.title = title
    elif name == "summary":
        item.summary = content.clean_summary(value)
    elif name == "expires":
        item.expires_at = (
            None if value.strip().lower() in NEVER else content.parse_expiry(value, tz=tz, now=now)
        )
    else:
        kind = kinds.parse_kind(value)
        if kind is None:
            raise InvalidInput("content.error_kind", kind=value[:20])
        item.kind = kind
    session.add(item)
    await session.flush()
    return item, name
