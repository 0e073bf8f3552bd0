"""Inbound deduplication in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Ambassador
from bot.clock import FixedClock
from storage import delivery


async def test_seen_keys_expire_by_window_and_by_housekeeping(
    app: Ambassador, clock: FixedClock
) -> None:
    async def first(key: str, window: timedelta | None = None) -> bool:
        async with app.database.transaction() as session:
            return await delivery.first_sighting(session, key=key, now=clock.now(), window=window)

    assert await first("event:1")
    assert not await first("event:1")  # a retry
    assert await first("press:1", timedelta(seconds=5))
    clock.advance(seconds=2)
    assert not await first("press:1", timedelta(seconds=5))  # a double click
    clock.advance(seconds=10)
    assert await first("press:1", timedelta(seconds=5))  # a deliberate second press
    clock.advance(days=2)
    async with app.database.transaction() as session:
        await delivery.forget_seen_before(session, before=clock.now() - timedelta(days=1))
    assert await first("event:1")  # forgotten: long past any platform's retries
