"""Polling feeds: fetch (conditionally), read, take what is new, once.

No transaction is open while anything is fetched. A poll claims its feed first (one replica
wins, `feeds.claim`), fetches and reads the feed, looks up which entries are new, fetches
their pages' previews, then stores the entries and their items in one transaction — each
entry's keys inserted under a unique constraint, so two polls racing take it once. A broken
feed is told to managers once, when it breaks, and once more when it works again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import AmbassadorError
from bot.feedread import Entry, read_feed
from bot.i18n import Translator
from bot.messages import Actions, Audience, Button, Message, Paragraph
from bot.outbound import Outbound
from bot.pages import FEED_ACCEPT, Problem, look
from bot.preview import Preview
from bot.services import audit, content, feeds, people
from bot.settings import Settings
from bot.web import Fetcher, Unreadable
from storage.database import Database
from storage.models import Feed

log = logging.getLogger("ambassador.feeds")
FIRST_TAKE = 5  # a feed's first poll takes its newest few entries, not its whole archive
MAX_TAKE = 30  # entries taken in one poll; more than that are remembered, not taken
PREVIEWS_AT_ONCE = 4


@dataclass(frozen=True)
class Polled:
    """What one feed's poll did: `new` (taken entries), `unchanged`, `failed`, `gone`
    (removed while it was being polled) or `elsewhere` (another replica polls it)."""

    feed_id: int
    url: str
    outcome: str
    taken: int = 0
    problem: Problem | None = None
    reviewed: bool = False  # what it took waits for review (an untrusted feed)


async def poll(
    *,
    database: Database,
    settings: Settings,
    clock: Clock,
    fetcher: Fetcher,
    platforms: Sequence[Outbound],
    everything: bool = False,
    progress: Callable[[Polled], None] | None = None,
) -> list[Polled]:
    """Poll the feeds that are due (`everything`: all of them, now). Each is claimed just
    before it is polled, in a transaction of its own: replicas share the feeds between
    them, and a feed's lease (`feeds.HOLD`) starts when its own poll does. A feed another
    replica claimed first is left to it (`elsewhere`)."""
    async with database.transaction() as session:
        now = clock.now()
        candidates = await (feeds.followed(session) if everything else feeds.due(session, now=now))
    done: list[Polled] = []
    for feed in candidates:
        assert feed.id is not None
        async with database.transaction() as session:
            won = await feeds.claim(session, feed, now=clock.now())
        if won:
            polled = await _poll_one(
                feed, database=database, settings=settings, clock=clock, fetcher=fetcher,
                platforms=platforms,
            )  # fmt: skip
        else:
            polled = Polled(feed.id, feed.url, "elsewhere")
        done.append(polled)
        if progress is not None:
            progress(polled)
    waiting = sum(p.taken for p in done if p.reviewed)
    if waiting and platforms:
        async with database.transaction() as session:
            await _tell_managers(session, settings, platforms, lambda t: _to_review(t, waiting))
    return done


async def _poll_one(
    feed: Feed,
    *,
    database: Database,
    settings: Settings,
    clock: Clock,
    fetcher: Fetcher,
    platforms: Sequence[Outbound],
) -> Polled:
    assert feed.id is not None
    interval = timedelta(minutes=settings.feed_interval)
    try:
        fetched = await fetcher.get(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
        )
        doc = None if fetched.status == 304 else await asyncio.to_thread(read_feed, fetched)
    except Unreadable as error:
        problem = Problem.of(error)
        return await _failed(
            feed, problem, database=database, settings=settings, clock=clock,
            platforms=platforms, interval=interval,
        )  # fmt: skip
    entries = newest_first(doc.entries if doc else ())
    keys = {id(entry): feeds.keys_of(entry) for entry in entries}
    seen: set[str] = set()
    if entries:  # a 304 has none: nothing to look up
        async with database.transaction() as session:
            seen = await feeds.seen_keys(session, feed.id, (k for ks in keys.values() for k in ks))
    fresh = [e for e in entries if e.link and keys[id(e)] and not seen.intersection(keys[id(e)])]
    limit = FIRST_TAKE if feed.polled_at is None else MAX_TAKE
    # stored oldest first, so that a digest (newest first) shows the newest on top
    take, skip = fresh[:limit][::-1], fresh[limit:]
    gate = asyncio.Semaphore(PREVIEWS_AT_ONCE)

    async def preview_of(entry: Entry) -> Preview | None:
        async with gate:
            found, _ = await look(fetcher, entry.link or "")
        return found

    previews = await asyncio.gather(*(preview_of(entry) for entry in take))
    now = clock.now()
    async with database.transaction() as session:
        row = await session.get(Feed, feed.id)
        if row is None or row.removed_at is not None:
            return Polled(feed.id, feed.url, "gone")
        taken = 0
        for entry, found in zip(take, previews, strict=True):
            if await _take(session, row, entry, found, now=now):
                taken += 1
        await feeds.remember(session, feed.id, (k for e in skip for k in keys[id(e)]), now)
        recovered = feeds.settle_ok(
            row,
            now=now,
            interval=interval,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            title=doc.title if doc else None,
            taken=taken,
        )
        session.add(row)
        if recovered:
            await _tell_managers(session, settings, platforms, lambda t: _recovered(t, row))
    if taken or recovered:
        log.info("feed #%s: %d new entries", feed.id, taken)
    outcome = "new" if taken else "unchanged"
    return Polled(feed.id, feed.url, outcome, taken, reviewed=not feed.trusted)


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Dated entries newest first; undated ones keep the feed's order, after them (feeds
    list their newest first, but not all of them)."""
    dated = [e for e in entries if e.published is not None]
    dated.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    return dated + [e for e in entries if e.published is None]


async def _take(
    session: AsyncSession, feed: Feed, entry: Entry, found: Preview | None, *, now: datetime
) -> bool:
    """Store one entry as an item (approved if the feed is trusted, else waiting for
    review); false if another poll took it, or its link is already an item."""
    assert feed.id is not None
    assert entry.link is not None
    if not await feeds.mark_seen(session, feed.id, feeds.keys_of(entry), now):
        return False
    page = found or Preview(None, None, None, None, None, None)
    merged = Preview(
        title=None,
        description=page.description,
        image_url=page.image_url or entry.image_url,
        site_name=page.site_name,
        language=page.language,
        kind=page.kind,
    )
    try:
        item = await content.add(
            session,
            url=entry.link,
            title=entry.title or page.title,
            summary=entry.summary,
            expires_at=None,
            now=now,
            preview=merged,
            status=content.APPROVED if feed.trusted else content.PENDING,
            origin="feed",
            feed_id=feed.id,
        )
    except AmbassadorError as error:
        log.info("feed #%s: entry %s not taken (%s)", feed.id, entry.link[:120], error.key)
        return False
    await audit.record(
        session,
        actor=f"feed:{feed.id}",
        action="add" if feed.trusted else "queue",
        subject=f"content:{item.id}",
        now=now,
        url=item.url,
    )
    return True


async def _failed(
    feed: Feed,
    problem: Problem,
    *,
    database: Database,
    settings: Settings,
    clock: Clock,
    platforms: Sequence[Outbound],
    interval: timedelta,
) -> Polled:
    assert feed.id is not None
    async with database.transaction() as session:
        row = await session.get(Feed, feed.id)
        if row is None or row.removed_at is not None:
            return Polled(feed.id, feed.url, "gone")
        tell = feeds.settle_failed(row, now=clock.now(), interval=interval, problem=problem)
        session.add(row)
        if tell:
            await _tell_managers(session, settings, platforms, lambda t: _broken(t, row, problem))
    log.warning("feed #%s (%s) could not be read: %s", feed.id, feed.url, problem.key)
    return Polled(feed.id, feed.url, "failed", problem=problem)


def _broken(t: Translator, feed: Feed, problem: Problem) -> Message:
    text = t("feed.broken", id=feed.id, url=feed.url, reason=problem.said(t))
    return Message(text, (Paragraph(text),), Audience.DIRECT)


def _to_review(t: Translator, count: int) -> Message:
    """One word to managers per poll that queued anything, not one per entry."""
    text = t.plural("feed.to_review", count)
    button = Button(t("home.whole_queue"), "queue", style="primary")
    return Message(text, (Paragraph(text), Actions((button,))), Audience.DIRECT)


def _recovered(t: Translator, feed: Feed) -> Message:
    text = t("feed.recovered", id=feed.id, url=feed.url)
    return Message(text, (Paragraph(text),), Audience.DIRECT)


async def _tell_managers(
    session: AsyncSession,
    settings: Settings,
    platforms: Sequence[Outbound],
    message: Callable[[Translator], Message],
) -> int:
    """Queue a direct message to every manager on every connected platform."""
    t = Translator(settings.locale)
    told = 0
    for outbound in platforms:
        holders = await people.role_holders(session, settings, outbound.platform)
        for manager in holders["manager"]:
            await outbound.enqueue(session, message(t), to=manager)
            told += 1
    return told
