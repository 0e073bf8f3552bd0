"""APScheduler 3 wakes the bot; the core decides what is due.

Every `every` seconds a tick asks `bot.scheduled` which occurrences are due, by the clock and
the schedule stored in the database, and claims each there before doing anything. So
APScheduler's own memory decides nothing: several replicas tick side by side, a restart
picks up where the database says, and a manager's `digest time 08:30` on any replica
applies everywhere at the next tick. After a tick that queued messages, the outbox `Pump`
is woken at once rather than at its next sweep, and sends beside the ticks, never in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Ambassador
from bot.feeds import Polled, poll
from bot.outbound import Outbound
from bot.scheduled import (
    digest_due,
    housekeeping_due,
    reminders_due,
    report_due,
    when,
)

log = logging.getLogger("ambassador.scheduler")
TICK_EVERY = 20.0  # seconds: a digest goes out at most this late (a tick per replica)
FEEDS_EVERY = 60.0  # seconds between looks for feeds due (each feed: AMBASSADOR_FEED_INTERVAL)
STOP_WITHIN = 30.0  # seconds a stopping pump may take to finish the row in hand

Flush = Callable[[asyncio.Event | None], Awaitable[int]]


async def drain(flush: Flush, stop: asyncio.Event | None = None) -> None:
    """Send what is due, batch after batch, until a batch sends nothing (what fails stays
    in the outbox, retried with backoff) or `stop` is set."""
    while not (stop and stop.is_set()) and await flush(stop):
        pass


class Pump:
    """The outbox's one sender in a process: it wakes every `every` seconds, or at once
    when woken (a tick queued a fan-out), and drains. A fan-out of thousands thus never
    holds up the next tick. `stop` lets the row in hand finish; the rest of its batch is
    handed back to the database at once, for a replica or the next start."""

    def __init__(self, flush: Flush, *, every: float) -> None:
        self.flush = flush
        self.every = every
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Pump:
        self._task = asyncio.create_task(self._run())
        return self

    async def wake(self) -> None:
        self._woken.set()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every):
                    await self._woken.wait()
            self._woken.clear()
            try:
                await drain(self.flush, self._stopping)
            except Exception:
                log.exception("outbox sweep failed; the next one tries again")

    async def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_WITHIN)
            except TimeoutError:
                log.warning("the outbox sweep did not stop within %s s", STOP_WITHIN)


class Scheduler:
    def __init__(
        self,
        core: Ambassador,
        platforms: Sequence[Outbound],
        *,
        send: Callable[[], Awaitable[None]],
        every: float = TICK_EVERY,
    ) -> None:
        self.core = core
        self.platforms = platforms
        self.send = send  # after a tick queued messages: wake the pump (or drain, in tests)
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
                await self.send()
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

    async def poll_feeds(self) -> list[Polled]:
        """Poll the feeds that are due, beside the ticks: fetching takes seconds, and a
        digest must not wait for a slow site. Each feed is claimed before it is polled."""
        core = self.core
        if core.fetcher is None:
            return []
        try:
            polled = await poll(
                database=core.database,
                settings=core.settings,
                clock=core.clock,
                fetcher=core.fetcher,
                platforms=self.platforms,
            )
        except Exception:
            log.exception("feed poll failed; the next one tries again")
            return []
        if polled:
            await self.send()  # managers told of a broken feed hear it now
        return polled

    def start(self) -> Scheduler:
        """Start ticking on the running event loop, the first tick at once (a digest missed
        while the bot was down goes out late, within `AMBASSADOR_MISFIRE_GRACE`)."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        for job, every in ((self.tick, self.every), (self.poll_feeds, FEEDS_EVERY)):
            self._aps.add_job(
                job,
                "interval",
                seconds=every,
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
