"""The outbox loop every chat platform shares: lease due rows, hold each anew just before
its send, send with no transaction open, settle (sent, later with backoff, or failed).

What differs per platform is the send itself (`Send`): it gets the row, its payload and,
when an earlier attempt may have reached the platform (a crash, a timeout after the
platform took it), when that attempt began, so it can look before sending again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from storage import delivery
from storage.database import Database
from storage.models import Outbox

log = logging.getLogger(__name__)

RETRY_DELAYS = (5, 30, 120, 600, 1800)  # outbox backoff; after the last, the row is failed
LEASE = timedelta(seconds=30)  # a leased row is left alone by other replicas this long
SEND_BUDGET = 20.0  # seconds one outbox delivery may take, retries included (< LEASE)

CACHE_SIZE = 20_000  # entries kept by an adapter's lookups (DM channels, placed messages)

Send = Callable[[Outbox, dict[str, Any], datetime | None], Awaitable[None]]


class Lru(OrderedDict[str, Any]):
    """A bounded dict, oldest out first: what an adapter remembers in memory (where a
    message was placed, a person's DM channel) without growing for ever."""

    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > CACHE_SIZE:
            self.popitem(last=False)


async def send_due(
    *,
    database: Database,
    clock: Clock,
    platform: str,
    owner: str,
    send: Send,
    error_of: Callable[[Exception], str],
    permanent: frozenset[str] | set[str],
    budget: float = SEND_BUDGET,
    stop: asyncio.Event | None = None,
) -> int:
    """Send what the outbox holds for `platform` and is due; returns how many went out.

    Rows are leased by `owner` (this process) in a short transaction, so another replica
    skips them. Each row's lease is renewed just before its send: a row another replica
    took over after a slow batch is skipped. Once `stop` is set, the rows not started yet
    are handed back at once, for a replica or the next start.
    """
    async with database.transaction() as session:
        rows = await delivery.lease_due(
            session, platform=platform, owner=owner, now=clock.now(), lease=LEASE
        )
    sent = 0
    for index, row in enumerate(rows):
        if stop is not None and stop.is_set():
            async with database.transaction() as session:
                ids = [r.id or 0 for r in rows[index:]]
                await delivery.release(session, ids=ids, owner=owner, now=clock.now())
            break
        row_id = row.id or 0
        async with database.transaction() as session:
            held = await delivery.start_sending(
                session, row_id=row_id, owner=owner, now=clock.now(), lease=LEASE
            )
        if held is None:  # taken over by another replica after our lease ran out
            continue
        error: str | None = None
        try:
            async with asyncio.timeout(budget):
                await send(row, json.loads(row.payload), held.since)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried later
            error = error_of(exc)
        async with database.transaction() as session:
            await delivery.settle(
                session,
                row_id=row_id,
                error=error,
                now=clock.now(),
                delays=RETRY_DELAYS,
                permanent=error in permanent if error else False,
            )
        if error is None:
            sent += 1
        else:
            log.warning("%s outbox delivery %s failed again: %s", platform, row_id, error)
    return sent
