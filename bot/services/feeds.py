"""Feeds followed for new content: one row per feed, claimed per poll by an atomic
compare-and-set on `next_poll_at`, so each feed is polled by one replica per interval; the
entries it showed are remembered by id and by link, so none is ever taken twice."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import AmbassadorError, Conflict, InvalidInput, NotFound
from bot.feedread import Entry
from bot.pages import Problem
from bot.services import content
from storage.models import Feed, FeedEntry

HOLD = timedelta(minutes=5)  # a claimed poll's lease: past it, a crashed poll is retried
MAX_FEEDS = 100


async def add(session: AsyncSession, *, url: str, trusted: bool, now: datetime) -> Feed:
    key = content.normalise_url(url)
    existing = (await session.exec(select(Feed).where(Feed.url_key == key))).first()
    if existing is not None:
        raise Conflict("feed.error_duplicate", id=existing.id, url=key)
    if len(await followed(session)) >= MAX_FEEDS:
        raise InvalidInput("feed.error_too_many", limit=MAX_FEEDS)
    feed = Feed(url=key, url_key=key, trusted=trusted, created_at=now, next_poll_at=now)
    try:
        async with session.begin_nested():
            session.add(feed)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("feed.error_duplicate", id="?", url=key) from exc
    return feed


async def followed(session: AsyncSession) -> Sequence[Feed]:
    result = await session.exec(
        select(Feed).where(col(Feed.removed_at).is_(None)).order_by(col(Feed.id))
    )
    return result.all()


async def get(session: AsyncSession, feed_id: int) -> Feed:
    feed = await session.get(Feed, feed_id)
    if feed is None or feed.removed_at is not None:
        raise NotFound("feed.error_unknown", id=feed_id)
    return feed


async def remove(session: AsyncSession, *, feed_id: int, now: datetime) -> Feed:
    """Stop following; what it brought stays (approved items live on, waiting ones wait)."""
    feed = await get(session, feed_id)
    feed.removed_at = now
    feed.url_key = None
    session.add(feed)
    await session.flush()
    return feed


async def claim(session: AsyncSession, feed: Feed, *, now: datetime) -> bool:
    """Take this feed's poll: true for exactly one of the replicas that try with the same
    `next_poll_at` (the update only matches while it is unchanged)."""
    result = await session.exec(
        update(Feed)
        .where(col(Feed.id) == feed.id)
        .where(col(Feed.next_poll_at) == feed.next_poll_at)
        .where(col(Feed.removed_at).is_(None))
        .values(next_poll_at=now + HOLD)
    )
    return bool(result.rowcount)


async def due(session: AsyncSession, *, now: datetime) -> Sequence[Feed]:
    result = await session.exec(
        select(Feed)
        .where(col(Feed.removed_at).is_(None))
        .where(col(Feed.next_poll_at) <= now)
        .order_by(col(Feed.next_poll_at), col(Feed.id))
    )
    return result.all()


def keys_of(entry: Entry) -> list[str]:
    """An entry is known by its id and by its link: a feed that changes one keeps the other."""
    keys = []
    if entry.id:
        keys.append("id:" + entry.id[:2000])
    if entry.link:
        with contextlib.suppress(AmbassadorError):
            keys.append("link:" + content.normalise_url(entry.link))
    return keys


async def seen_keys(session: AsyncSession, feed_id: int, keys: Iterable[str]) -> set[str]:
    wanted = list(set(keys))
    if not wanted:
        return set()
    result = await session.exec(
        select(FeedEntry.key)
        .where(FeedEntry.feed_id == feed_id)
        .where(col(FeedEntry.key).in_(wanted))
    )
    return set(result.all())


async def mark_seen(
    session: AsyncSession, feed_id: int, keys: Iterable[str], now: datetime
) -> bool:
    """Remember the keys; false if another poll remembered one of them first (it took the
    entry, this one must not)."""
    try:
        async with session.begin_nested():
            for key in dict.fromkeys(keys):
                session.add(FeedEntry(feed_id=feed_id, key=key, seen_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def remember(session: AsyncSession, feed_id: int, keys: Iterable[str], now: datetime) -> None:
    """Remember entries a poll leaves untaken, all in one statement: a key another poll
    remembered first is skipped, not an error (an entry left untaken needs no winner)."""
    rows = [{"feed_id": feed_id, "key": key, "seen_at": now} for key in dict.fromkeys(keys)]
    if not rows:
        return
    bind = session.bind
    dialect = bind.dialect.name if bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(FeedEntry).values(rows).on_conflict_do_nothing(index_elements=["feed_id", "key"])
    )
    await session.exec(statement)


def settle_ok(
    feed: Feed,
    *,
    now: datetime,
    interval: timedelta,
    etag: str | None,
    last_modified: str | None,
    title: str | None,
    taken: int,
) -> bool:
    """A poll that worked; true if it ends a failure managers were told about."""
    recovered = feed.failure_told
    feed.polled_at = now
    feed.next_poll_at = now + interval
    feed.etag = (etag or feed.etag or "")[:512] or None
    feed.last_modified = (last_modified or feed.last_modified or "")[:128] or None
    if title:
        feed.title = content.clean_title(title[: content.MAX_TITLE])
    feed.failing_since = None
    feed.last_error = None
    feed.failure_told = False
    feed.entries_taken += taken
    return recovered


def settle_failed(feed: Feed, *, now: datetime, interval: timedelta, problem: Problem) -> bool:
    """A poll that failed; true if managers are to be told now (the first failure only)."""
    feed.polled_at = now
    feed.next_poll_at = now + interval
    feed.failing_since = feed.failing_since or now
    feed.last_error = problem.dump()
    tell = not feed.failure_told
    feed.failure_told = True
    return tell
