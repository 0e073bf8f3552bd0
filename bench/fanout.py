"""Charter reminders fanned out to every member against Slack's rate limit (issue 5).

N members, all due a gentle reminder (joined 40 days earlier, charter 1 acknowledged), are
made straight in the database. The fake Slack Web API (`bench.fake_slack`, a process of its
own) lets `chat.postMessage` through at R a second across the workspace and answers 429
with `Retry-After: 1` beyond that. The real bot (`start_bot` on a worker thread, a
`FixedClock` at Monday 11:00:30 in Paris) then runs one scheduler tick: the reminders job
queues one outbox row per member in one transaction and the tick drains the outbox. What
is still pending afterwards gets further outbox sweeps, the clock moved past each backoff,
until every row is sent or a bounded deadline. Measured: the wall time from the tick to the
last DM the fake accepted, against the floor N / R; the 429s answered; DMs per member
(exactly one each); outbox rows not `sent` at the end.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import ClientSession
from sqlmodel import col, func, select

from adapters.cli.serve import RunningBot, start_bot
from bench.core import (
    Progress,
    UrlFactory,
    markdown_table,
    postgres_databases,
    sqlite_databases,
)
from bench.slack_server import ERRORS, RemoteFake, bench_settings, member_id
from bot.clock import FixedClock
from storage.models import Outbox, Person

PARIS = ZoneInfo("Europe/Paris")
# A Monday at 11:00:30 in Paris: the reminders are due (digest days, 11:00); the 09:00
# digest and the 08:00 report are past the misfire grace, so the tick skips them.
TICK_AT = datetime(2026, 11, 16, 11, 0, 30, tzinfo=PARIS)
JOINED = TICK_AT - timedelta(days=40)  # past AMBASSADOR_CHARTER_REMINDER_DAYS (30)
LIMITED = "chat.postMessage"
MAX_SWEEPS = 10  # outbox sweeps after the tick, each after the clock passes a backoff
INSERT_BATCH = 500


@dataclass(frozen=True)
class FanoutConfig:
    members: int = 500
    per_second: float = 50.0

    @classmethod
    def quick(cls) -> FanoutConfig:
        return cls(members=100)

    @property
    def floor(self) -> float:
        """Seconds: N DMs at R a second."""
        return self.members / self.per_second

    @property
    def deadline(self) -> float:
        """Seconds of wall time the run may take after the tick, at most."""
        return 60.0 + 10 * self.floor


@dataclass(frozen=True)
class Fanout:
    database: str
    members: int
    per_second: float
    queued: int  # outbox rows the tick queued
    completion: float | None  # seconds from the tick to the last DM accepted
    first_dm: float | None  # seconds from the tick to the first DM accepted
    tick: float  # seconds the tick took (job, then its drain)
    sweeps: int  # outbox sweeps after the tick
    limited: int  # 429s the fake answered
    dms: int
    missing: int  # members with no DM
    duplicated: int  # members with more than one
    not_sent: dict[str, int]  # outbox status -> rows, other than sent
    retried: int  # outbox rows that needed more than one attempt
    logged_errors: int

    @property
    def floor(self) -> float:
        return self.members / self.per_second


@dataclass
class FanoutResults:
    rows: list[Fanout]
    findings: list[str]


async def make_members(bot: RunningBot, members: int) -> None:
    """`members` Slack members, joined 40 days before the tick, charter 1 acknowledged."""

    async def insert() -> None:
        for start in range(0, members, INSERT_BATCH):
            async with bot.core.database.transaction() as session:
                for i in range(start, min(members, start + INSERT_BATCH)):
                    session.add(
                        Person(
                            platform="slack",
                            user_id=member_id(i),
                            member=True,
                            joined_at=JOINED.astimezone(UTC),
                            charter_version=1,
                            created_at=JOINED.astimezone(UTC),
                        )
                    )

    await bot.call(insert())


async def outbox_counts(bot: RunningBot) -> tuple[dict[str, int], int]:
    """Rows by status, and how many took more than one attempt."""

    async def read() -> tuple[dict[str, int], int]:
        async with bot.core.database.transaction() as session:
            by_status = await session.exec(
                select(col(Outbox.status), func.count()).group_by(col(Outbox.status))
            )
            counts = {str(status): int(n) for status, n in by_status.all()}
            retried = await session.exec(
                select(func.count()).where(col(Outbox.attempts) > 1)  # type: ignore[arg-type]
            )
            return counts, int(retried.one())

    return await bot.call(read())


async def next_due(bot: RunningBot) -> datetime | None:
    """When the earliest pending row may be tried again."""

    async def read() -> datetime | None:
        async with bot.core.database.transaction() as session:
            found = await session.exec(
                select(func.min(col(Outbox.next_attempt_at))).where(col(Outbox.status) == "pending")
            )
            value = found.one()
            return value if isinstance(value, datetime) else None

    return await bot.call(read())


async def run_once(database: str, url: str, config: FanoutConfig, progress: Progress) -> Fanout:
    errors_before = ERRORS.count
    async with ClientSession() as http:
        fake = await RemoteFake.start(http)
        clock = FixedClock(TICK_AT)
        bot = await start_bot(
            bench_settings(url, fake.url), clock=clock, rng=random.Random(1), sweep_every=None
        )
        try:
            progress(f"{database}: {config.members:,} members due a charter reminder")
            await make_members(bot, config.members)
            await fake.quiet()
            async with http.post(f"{fake.control}/_watch", json={"needles": {}}) as resp:
                await resp.read()
            body = {"method": LIMITED, "per_second": config.per_second}
            async with http.post(f"{fake.control}/_limit", json=body) as resp:
                await resp.read()
            progress(f"{database}: the tick, {LIMITED} limited to {config.per_second:g}/s")
            assert bot.scheduler is not None
            started = time.time()
            await bot.call(bot.scheduler.tick())
            tick = time.time() - started
            sweeps = 0
            while sweeps < MAX_SWEEPS and time.time() - started < config.deadline:
                due = await next_due(bot)
                if due is None:
                    break
                if due > clock.now():
                    clock.set(due + timedelta(seconds=1))  # past the backoff
                await bot.call(bot.slack.retry_due())
                sweeps += 1
            counts, retried = await outbox_counts(bot)
            stats = await fake.stats()
            async with http.get(f"{fake.control}/_limited") as resp:
                limited = int((await resp.json()).get(LIMITED, 0))
            async with http.get(f"{fake.control}/_dm_posts") as resp:
                dm_posts = {str(k): int(v) for k, v in (await resp.json()).items()}
        finally:
            await bot.close()
            await fake.close()
    per_member = [dm_posts.get("D" + member_id(i), 0) for i in range(config.members)]
    last, first = float(stats["last_dm"]), float(stats["first_dm"])
    return Fanout(
        database=database,
        members=config.members,
        per_second=config.per_second,
        queued=sum(counts.values()),
        completion=last - started if last else None,
        first_dm=first - started if first else None,
        tick=tick,
        sweeps=sweeps,
        limited=limited,
        dms=int(stats["dms"]),
        missing=sum(1 for n in per_member if n == 0),
        duplicated=sum(1 for n in per_member if n > 1),
        not_sent={status: n for status, n in counts.items() if status != "sent"},
        retried=retried,
        logged_errors=ERRORS.count - errors_before,
    )


HEADERS = (
    "database",
    "members",
    "limit",
    "floor s",
    "last DM s",
    "x floor",
    "first DM s",
    "429s",
    "DMs",
    "missing",
    "twice",
    "not sent",
    "note",
)


def _cells(row: Fanout) -> tuple[str, ...]:
    done = "-" if row.completion is None else f"{row.completion:,.2f}"
    ratio = "-" if row.completion is None else f"{row.completion / row.floor:.2f}"
    first = "-" if row.first_dm is None else f"{row.first_dm:,.2f}"
    not_sent = ", ".join(f"{n} {s}" for s, n in sorted(row.not_sent.items())) or "0"
    note = (
        f"tick {row.tick:,.2f} s, {row.sweeps} sweeps after it, "
        f"{row.retried} rows retried, {row.logged_errors} errors logged"
    )
    return (
        row.database,
        f"{row.members:,}",
        f"{row.per_second:g}/s",
        f"{row.floor:,.2f}",
        done,
        ratio,
        first,
        f"{row.limited:,}",
        f"{row.dms:,}",
        f"{row.missing:,}",
        f"{row.duplicated:,}",
        not_sent,
        note,
    )


def table(rows: list[Fanout]) -> str:
    """A Markdown table, padded so it also reads well in a terminal."""
    return markdown_table(HEADERS, [_cells(row) for row in rows], numeric=set(range(1, 11)))


def findings(rows: list[Fanout]) -> list[str]:
    found = []
    for row in rows:
        once = row.missing == 0 and row.duplicated == 0 and row.dms == row.members
        verdict = (
            "every member exactly one DM"
            if once
            else (f"{row.missing} members without a DM, {row.duplicated} with more than one")
        )
        took = "-" if row.completion is None else f"{row.completion / row.floor:.2f}x the floor"
        left = sum(row.not_sent.values())
        found.append(
            f"{row.database}: {verdict}; last DM {took}; {row.limited} 429s; "
            f"{left} outbox rows not sent"
        )
    return found


async def run_fanout(
    config: FanoutConfig, progress: Progress, pg_version: str | None
) -> FanoutResults:
    runs: list[tuple[str, Callable[[], AbstractContextManager[UrlFactory]]]] = []
    if pg_version is not None:
        runs.append(("PostgreSQL", postgres_databases))
    runs.append(("SQLite", sqlite_databases))
    rows = []
    for database, databases in runs:
        with databases() as fresh:
            rows.append(await run_once(database, fresh(), config, progress))
    return FanoutResults(rows, findings(rows))
