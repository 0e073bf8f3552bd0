"""Digests: which items go out, and remembering what each posted digest numbered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import NotFound
from bot.services import content
from storage.models import ContentItem, Digest, DigestEntry


async def select_items(session: AsyncSession, *, now: datetime, size: int) -> list[ContentItem]:
    return await content.live(session, now=now, limit=size)


async def fresh_items(
    session: AsyncSession, *, now: datetime, size: int, repeat_days: int
) -> list[ContentItem]:
    """What the scheduled digest offers: live items, newest first, leaving out those any
    digest showed in the last `repeat_days` days (0: repeats allowed)."""
    since = now - timedelta(days=repeat_days)
    shown = (
        select(DigestEntry.item_id)
        .join(Digest, col(Digest.id) == col(DigestEntry.digest_id))
        .where(col(Digest.created_at) >= since)
    )
    items = await content.live(session, now=now)
    recent = set((await session.exec(shown)).all()) if repeat_days else set()
    return [item for item in items if item.id not in recent][:size]


async def record(
    session: AsyncSession,
    *,
    platform: str,
    channel: str | None,
    items: list[ContentItem],
    now: datetime,
) -> Digest:
    digest = Digest(platform=platform, channel=channel, created_at=now)
    session.add(digest)
    await session.flush()
    assert digest.id is not None
    for position, item in enumerate(items, start=1):
        assert item.id is not None
        session.add(DigestEntry(digest_id=digest.id, position=position, item_id=item.id))
    await session.flush()
    return digest


async def latest(session: AsyncSession, *, platform: str) -> Digest | None:
    result = await session.exec(
        select(Digest)
        .where(Digest.platform == platform)
        .order_by(col(Digest.created_at).desc(), col(Digest.id).desc())
        .limit(1)
    )
    return result.first()


async def item_at(session: AsyncSession, *, digest_id: int, position: int) -> int:
    """The item id numbered `position` in a digest; `NotFound` if there is no such number."""
    entry = await session.get(DigestEntry, (digest_id, position))
    if entry is None:
        count = len(
            (
                await session.exec(select(DigestEntry).where(DigestEntry.digest_id == digest_id))
            ).all()
        )
        raise NotFound("claims.error_number", number=position, count=count)
    return entry.item_id
