"""Queries the chat adapters share: inbound deduplication, where posted messages point, and
the outbox of deliveries to retry. Keyword-only, on a session the caller owns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboundSeen, Outbox, PlatformMessage


async def first_sighting(
    session: AsyncSession, *, key: str, now: datetime, window: timedelta | None = None
) -> bool:
    """True the first time `key` is seen (and records it). With a `window`, a key seen
    longer ago than that counts as new again (a second, deliberate button press)."""
    row = await session.get(InboundSeen, key, populate_existing=True)
    if row is None:
        try:
            async with session.begin_nested():
                session.add(InboundSeen(key=key, seen_at=now))
                await session.flush()
        except IntegrityError:
            return False  # a concurrent delivery of the same thing got there first
        return True
    if window is None or now - row.seen_at < window:
        return False
    result = await session.exec(
        update(InboundSeen)
        .where(col(InboundSeen.key) == key, col(InboundSeen.seen_at) == row.seen_at)
        .values(seen_at=now)
    )
    return bool(result.rowcount == 1)


async def forget_seen_before(session: AsyncSession, *, before: datetime) -> None:
    """Housekeeping: platforms stop retrying after minutes; keys older than that can go."""
    await session.exec(delete(InboundSeen).where(col(InboundSeen.seen_at) < before))


async def remember(
    session: AsyncSession,
    *,
    platform: str,
    channel: str,
    ts: str,
    anchor_kind: str,
    anchor_id: int,
    now: datetime,
) -> None:
    """Note what a posted message is about (idempotent)."""
    existing = await session.get(PlatformMessage, (platform, channel, ts))
    if existing is None:
        session.add(
            PlatformMessage(
                platform=platform,
                channel=channel,
                ts=ts,
                anchor_kind=anchor_kind,
                anchor_id=anchor_id,
                created_at=now,
            )
        )
        await session.flush()


async def anchor_of(
    session: AsyncSession, *, platform: str, channel: str, ts: str
) -> tuple[str, int] | None:
    row = await session.get(PlatformMessage, (platform, channel, ts))
    return (row.anchor_kind, row.anchor_id) if row else None


async def enqueue(
    session: AsyncSession,
    *,
    platform: str,
    kind: str,
    target: str,
    payload: str,
    anchor: tuple[str, int] | None,
    error: str | None,
    now: datetime,
    delay: timedelta,
) -> Outbox:
    """A delivery to make: after a failed attempt (`error`), or a first one (scheduled
    fan-outs queue every message, due at once, before any is sent)."""
    row = Outbox(
        platform=platform,
        kind=kind,
        target=target,
        payload=payload,
        anchor_kind=anchor[0] if anchor else None,
        anchor_id=anchor[1] if anchor else None,
        attempts=1 if error else 0,
        next_attempt_at=now + delay,
        last_error=error[:500] if error else None,
        created_at=now,
        sending_since=now if error else None,  # a failed attempt may still have gone out
    )
    session.add(row)
    await session.flush()
    return row


async def replace_pending(session: AsyncSession, *, row_id: int, payload: str) -> bool:
    """Swap the payload of a row not sent yet (a queued "drafting…" message becomes the
    draft itself); False when it has gone out already or failed for good."""
    row = await session.get(Outbox, row_id, with_for_update=True)
    if row is None or row.status != "pending":
        return False
    row.payload = payload
    session.add(row)
    return True


async def lease_due(
    session: AsyncSession,
    *,
    platform: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
) -> list[Outbox]:
    """Take the pending deliveries whose time has come, oldest first, for process `owner`:
    each is pushed `lease` into the future so another replica leaves it alone meanwhile.
    A lease that ran out (its process died) makes the row due again."""
    result = await session.exec(
        select(Outbox)
        .where(
            Outbox.platform == platform,
            Outbox.status == "pending",
            Outbox.next_attempt_at <= now,
        )
        .order_by(col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(result.all())
    for row in rows:
        row.next_attempt_at = now + lease
        row.owner = owner
        session.add(row)
    await session.flush()
    return rows


@dataclass(frozen=True)
class Held:
    """A leased row about to be sent; `since` is when an earlier attempt began, if one may
    have reached the platform (the caller checks before sending again)."""

    since: datetime | None


async def start_sending(
    session: AsyncSession, *, row_id: int, owner: str, now: datetime, lease: timedelta
) -> Held | None:
    """Renew `owner`'s lease on one row just before sending it and note that a send is under
    way. None when the row is no longer this process's to send: its lease ran out while
    earlier rows of the batch were slow and another replica took it, or it was settled."""
    row = await session.get(Outbox, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "pending" or row.owner != owner:
        return None
    held = Held(since=row.sending_since)
    row.sending_since = row.sending_since or now
    row.next_attempt_at = now + lease
    row.attempts += 1
    session.add(row)
    await session.flush()
    return held


async def release(session: AsyncSession, *, ids: list[int], owner: str, now: datetime) -> None:
    """Hand leased rows back, due at once: their process is stopping before sending them."""
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id).in_(ids), col(Outbox.owner) == owner, col(Outbox.status) == "pending")
        .values(owner=None, next_attempt_at=now)
    )


async def settle(
    session: AsyncSession,
    *,
    row_id: int,
    error: str | None,
    now: datetime,
    delays: tuple[int, ...],
    permanent: bool,
) -> None:
    """Record an attempt's outcome: sent, tried again later with backoff, or failed."""
    row = await session.get(Outbox, row_id)
    if row is None:
        return
    if error is None:
        row.status = "sent"
        row.sending_since = None
    elif permanent or row.attempts > len(delays):
        row.status = "failed"
        row.last_error = error[:500]
    else:
        row.last_error = error[:500]
        row.next_attempt_at = now + timedelta(seconds=delays[row.attempts - 1])
    session.add(row)
    await session.flush()


async def failed_count(session: AsyncSession) -> int:
    result = await session.exec(select(func.count()).where(Outbox.status == "failed"))
    return int(result.one())


async def forget_sent_before(session: AsyncSession, *, before: datetime) -> int:
    """Housekeeping: a delivered message's payload (a draft, a digest) need not be kept."""
    result = await session.exec(
        delete(Outbox).where(col(Outbox.status) == "sent", col(Outbox.created_at) < before)
    )
    return int(result.rowcount or 0)


async def summary(session: AsyncSession) -> list[tuple[str, str, str | None, int]]:
    """Undelivered messages, in aggregate: (status, kind, last error, count) for what is
    still pending or failed for good. No recipient is named."""
    result = await session.exec(
        select(col(Outbox.status), col(Outbox.kind), col(Outbox.last_error), func.count())
        .where(col(Outbox.status).in_(("pending", "failed")))
        .group_by(col(Outbox.status), col(Outbox.kind), col(Outbox.last_error))
        .order_by(col(Outbox.status), col(Outbox.kind))
    )
    return [(str(s), str(k), e, int(n)) for s, k, e, n in result.all()]
