"""APScheduler 3 wakes the bot; the core decides what is due.

Every `every` seconds a tick asks `bot.scheduled` which occurrences are due, by the clock and
the schedule stored in the database, and claims each there before doing anything. So
APScheduler's own memory decides nothing: several replicas tick side by side, a restart
picks up where the database says, and a manager's `digest time 08:30` on any replica
applies everywhere at the next tick. After a tick that queued messages, the outbox is
flushed at once rather than at the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Ambassador
from bot.scheduled import (
    Outbound,
    digest_due,
    housekeeping_due,
    reminders_due,
    report_due,
    when,
)

log = logging.getLogger("ambassador.scheduler")
TICK_EVERY = 20.0  # seconds: a digest goes out at most this late (a tick per replica)


class Scheduler:
    def __init__(
        self,
        core: Ambassador,
        platforms: Sequence[Outbound],
        *,
        flush: Callable[[], Awaitable[int]],
        every: float = TICK_EVERY,
    ) -> None:
        self.core = core
        self.platforms = platforms
        self.flush = flush
        self.every = every
        self._aps: AsyncIOScheduler | None = None
        self._told: datetime | None = None  # the occurrence last said to be handled elsewhere

    async def tick(self) -> str | None:
        """One look at what is due (the digest, charter reminders, the weekly report,
        housekeeping); returns
        the digest's outcome, if this tick claimed one."""
        core = self.core
        try:
            due = await digest_due(
                database=core.database,
                settings=core.settings,
                clock=core.clock,
                platforms=self.platforms,
            )
            reminders = await reminders_due(
                database=core.database,
                settings=core.settings,
                clock=core.clock,
                platforms=self.platforms,
            )
            report = await report_due(
                database=core.database,
                settings=core.settings,
                clock=core.clock,
                platforms=self.platforms,
            )
            if "sent" in (due.outcome, reminders.outcome, report.outcome):
                await self.drain()
            await housekeeping_due(database=core.database, settings=core.settings, clock=core.clock)
        except Exception:
            log.exception("scheduled tick failed; the next one tries again")
            return None
        if due.at is not None and due.outcome is None and due.at != self._told:
            self._told = due.at  # said once per occurrence, not at every tick
            log.info(
                "digest of %s: already claimed (another replica, or an earlier run)", when(due.at)
            )
        return due.outcome

    async def drain(self) -> None:
        """Send what the tick queued now, batch after batch, rather than at the next sweeps;
        what fails stays in the outbox, retried with backoff."""
        while await self.flush():
            pass

    def start(self) -> Scheduler:
        """Start ticking on the running event loop, the first tick at once (a digest missed
        while the bot was down goes out late, within `AMBASSADOR_MISFIRE_GRACE`)."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.add_job(
            self.tick,
            "interval",
            seconds=self.every,
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._aps.start()
        return self

    def stop(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
