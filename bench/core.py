"""Benchmarks of the core through `Ambassador.handle`, on a SQLite file and on PostgreSQL.

Everything goes through the same entry the chat adapters use, so the figures include
routing, translation, the drafter and one database transaction per command, which is
what a person in Slack or Teams actually waits for (minus the network to the platform).
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

import psycopg

from adapters.cli.wiring import create_app
from bot.app import Ambassador
from bot.clock import FixedClock
from bot.commands import Actor, Command, Via, parse
from bot.messages import Anchor, Audience, Button, Reply
from bot.services import ledger, stats
from bot.settings import Settings
from storage import migrate

POSTGRES_URL = os.environ.get(
    "AMBASSADOR_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A Monday morning in Paris, as in the tests: week boundaries stay easy to read.
START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
PLATFORM = "console"
MANAGER = Actor(PLATFORM, "mgr")
ITEMS = 10
CLAIMED_POSITION = 3
CONCURRENCY = 20
BIG_LEDGER = 10_000


@dataclass(frozen=True)
class Config:
    """How big a run is: the default one, or `--quick` for a smoke run."""

    members: int = 500
    revisions: int = 200
    repeats: int = 5
    ledger_entries: int = BIG_LEDGER

    @classmethod
    def quick(cls) -> Config:
        return cls(members=100, revisions=200, repeats=3, ledger_entries=BIG_LEDGER)


@dataclass(frozen=True)
class Row:
    """One line of the results table; latencies in milliseconds, None where meaningless."""

    database: str
    name: str
    count: int
    rate: float | None = None
    unit: str = ""
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    note: str = ""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: no interpolation, so p99 of 500 samples is a real sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_row(
    database: str,
    name: str,
    seconds: list[float],
    *,
    rate: float | None = None,
    unit: str = "",
    note: str = "",
) -> Row:
    ms = [s * 1000 for s in seconds]
    return Row(
        database,
        name,
        len(ms),
        rate,
        unit,
        percentile(ms, 50),
        percentile(ms, 95),
        percentile(ms, 99),
        max(ms),
        note,
    )


# -- the machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def postgres_dsn() -> str:
    """The libpq form of the URL (psycopg does not take SQLAlchemy's driver prefix)."""
    return POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


def postgres_version() -> str | None:
    """The server's version, or None when no server answers (the PostgreSQL runs are skipped)."""
    try:
        with psycopg.connect(postgres_dsn(), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError:
        return None
    return str(row[0]) if row else "unknown"


def machine(pg_version: str | None) -> list[tuple[str, str]]:
    """What the figures were measured on: they mean little without it."""
    return [
        ("OS", platform.platform()),
        ("CPU", f"{_cpu_model()} ({os.cpu_count()} logical CPUs)"),
        ("Memory", _memory()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", pg_version or "not reachable"),
    ]


# -- databases -----------------------------------------------------------------------------

UrlFactory = Callable[[], str]


@contextmanager
def sqlite_databases() -> Iterator[UrlFactory]:
    """Fresh SQLite files in a temporary directory that disappears afterwards."""
    with tempfile.TemporaryDirectory(prefix="ambassador-bench-") as tmp:
        made = 0

        def fresh() -> str:
            nonlocal made
            made += 1
            return f"sqlite:///{Path(tmp) / f'bench{made}.db'}"

        yield fresh


@contextmanager
def postgres_databases() -> Iterator[UrlFactory]:
    """Fresh PostgreSQL schemas of the benchmark's own, all dropped afterwards."""
    schemas: list[str] = []

    def fresh() -> str:
        schema = "bench_" + uuid.uuid4().hex[:16]
        with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

    try:
        yield fresh
    finally:
        with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def make_settings(url: str) -> Settings:
    """Explicit values, so a developer's environment or .env cannot change the figures."""
    return Settings(
        _env_file=None,
        DATABASE_URL=url,
        AMBASSADOR_MANAGERS="mgr",
        AMBASSADOR_ADMINS="boss",
        AMBASSADOR_COMPANY="ACME",
        AMBASSADOR_LOCALE="en",
        AMBASSADOR_FETCH=False,  # the benchmarks never reach the internet
        AMBASSADOR_DIGEST_SIZE=5,
    )


@asynccontextmanager
async def fresh_app(fresh: UrlFactory, clock: FixedClock) -> AsyncIterator[Ambassador]:
    """The real core on a new, migrated database."""
    url = fresh()
    await asyncio.to_thread(migrate.upgrade, url)
    app = create_app(make_settings(url), clock=clock, rng=random.Random(1))
    try:
        yield app
    finally:
        await app.database.dispose()


# -- the claim journey ---------------------------------------------------------------------


def claim_id_of(reply: Reply) -> int:
    """The draft thread's claim id: what a reply in that thread would carry back."""
    for message in reply.messages:
        anchor = message.anchor
        if message.audience == Audience.DIRECT and anchor is not None and anchor.kind == "claim":
            return anchor.id
    raise RuntimeError(f"no claim in the reply: {[m.text for m in reply.messages]}")


def agree_button(reply: Reply) -> Button:
    """The "I agree" button of the join prompt, pressed as the platform would."""
    for message in reply.messages:
        for button in message.buttons():
            if isinstance(button, Button) and button.command == "agree":
                return button
    raise RuntimeError(f"no agree button in the reply: {[m.text for m in reply.messages]}")


async def publish_digest(app: Ambassador) -> None:
    """A manager adds the day's items and sends the digest members will claim from."""
    for i in range(1, ITEMS + 1):
        await app.handle(parse(MANAGER, f"add https://example.com/n/{i} Title {i}"))
    await app.handle(parse(MANAGER, "digest now"))


@dataclass
class Journeys:
    """What a batch of join-agree-claim journeys produced."""

    claim_seconds: list[float]
    claims: list[tuple[Actor, int]]
    commands: int
    wall: float
    errors: int = 0


async def journey(app: Ambassador, actor: Actor) -> tuple[float, int]:
    """One new member: join, press "I agree", claim item 3; returns the claim's latency."""
    prompt = await app.handle(parse(actor, "join"))
    button = agree_button(prompt)
    await app.handle(Command(actor, button.command, button.args, via=Via.BUTTON))
    began = perf_counter()
    reply = await app.handle(parse(actor, f"claim {CLAIMED_POSITION}"))
    elapsed = perf_counter() - began
    return elapsed, claim_id_of(reply)


async def journeys_sequential(app: Ambassador, clock: FixedClock, members: int) -> Journeys:
    """One member after another: the latency a lone user sees as the programme grows."""
    result = Journeys([], [], 0, 0.0)
    began = perf_counter()
    for i in range(members):
        clock.advance(seconds=3)
        actor = Actor(PLATFORM, f"s{i}")
        seconds, claim_id = await journey(app, actor)
        result.claim_seconds.append(seconds)
        result.claims.append((actor, claim_id))
    result.wall = perf_counter() - began
    result.commands = 3 * members
    return result


async def journeys_concurrent(
    app: Ambassador, clock: FixedClock, members: int, tasks: int
) -> Journeys:
    """`tasks` members at once, as when a digest lands in a busy channel."""
    result = Journeys([], [], 0, 0.0)
    actors = iter([Actor(PLATFORM, f"c{i}") for i in range(members)])

    async def worker() -> None:
        for actor in actors:  # one shared iterator: each member is taken by one task
            clock.advance(seconds=3)
            try:
                seconds, claim_id = await journey(app, actor)
            except Exception:
                result.errors += 1
                continue
            result.claim_seconds.append(seconds)
            result.claims.append((actor, claim_id))

    began = perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    result.wall = perf_counter() - began
    result.commands = 3 * members
    return result


async def revisions(
    app: Ambassador, claims: list[tuple[Actor, int]], count: int
) -> tuple[list[float], float]:
    """Plain-words replies in draft threads, each by the claim's owner."""
    seconds: list[float] = []
    began = perf_counter()
    for k in range(count):
        actor, claim_id = claims[k % len(claims)]
        thread = Anchor("claim", claim_id)
        command = Command(actor, "revise", ("shorter",), "shorter", via=Via.REPLY, anchor=thread)
        start = perf_counter()
        reply = await app.handle(command)
        seconds.append(perf_counter() - start)
        claim_id_of(reply)  # a refusal or an error would have no draft thread
    return seconds, perf_counter() - began


# -- the ledger and the weekly figures -----------------------------------------------------


async def timed_repeats(repeats: int, run: Callable[[], Awaitable[int]]) -> tuple[list[float], int]:
    """Run `run` several times in fresh transactions; returns the times and its count."""
    seconds: list[float] = []
    count = 0
    for _ in range(repeats):
        began = perf_counter()
        count = await run()
        seconds.append(perf_counter() - began)
    return seconds, count


async def ledger_rows(
    app: Ambassador, database: str, label: str, repeats: int, now: datetime
) -> list[Row]:
    """`ledger.verify` and `stats.weekly(weeks=52)`, each in its own transaction."""

    async def verify() -> int:
        async with app.database.transaction() as session:
            count, problem = await ledger.verify(session)
        if problem is not None:
            raise RuntimeError(f"the ledger does not verify: {problem}")
        return count

    async def weekly() -> int:
        async with app.database.transaction() as session:
            weeks = await stats.weekly(session, weeks=52, now=now, tz=app.settings.tz)
        return len(weeks)

    rows = []
    seconds, entries = await timed_repeats(repeats, verify)
    rows.append(_repeat_row(database, f"ledger.verify, {label}", entries, seconds, "entries/s"))
    seconds, _ = await timed_repeats(repeats, weekly)
    rows.append(_repeat_row(database, f"stats.weekly(52), {label}", entries, seconds, "entries/s"))
    return rows


def _repeat_row(database: str, name: str, count: int, seconds: list[float], unit: str) -> Row:
    """Few repeats: the median and the worst say it all; p95/p99 would be noise."""
    median = statistics.median(seconds)
    return Row(
        database,
        name,
        count,
        count / median if median else None,
        unit,
        p50=median * 1000,
        max=max(seconds) * 1000,
        note=f"median of {len(seconds)} runs",
    )


async def build_ledger(app: Ambassador, entries: int, now: datetime) -> float:
    """`entries` joins and leaves of rotating users over the past year, in one transaction."""
    users = max(1, entries // 5)
    span = timedelta(weeks=52)
    began = perf_counter()
    async with app.database.transaction() as session:
        for i in range(entries):
            await ledger.append(
                session,
                at=now - span + span * i / entries,
                platform=PLATFORM,
                user=f"u{i % users}",
                action="join" if (i // users) % 2 == 0 else "leave",
                charter_version=1,
                statement="Taking part is voluntary and unpaid.",
            )
    return perf_counter() - began


# -- one database --------------------------------------------------------------------------

Progress = Callable[[str], None]


async def sequential_rows(
    database: str, fresh: UrlFactory, config: Config, progress: Progress
) -> list[Row]:
    """Journeys one at a time, then revisions and the ledger over what they left."""
    clock = FixedClock(START)
    async with fresh_app(fresh, clock) as app:
        await publish_digest(app)
        progress(f"{database}: {config.members} claim journeys, one after another")
        seq = await journeys_sequential(app, clock, config.members)
        tenth = max(1, config.members // 10)
        rows = [
            latency_row(
                database,
                "claim journey, sequential",
                seq.claim_seconds,
                rate=seq.commands / seq.wall,
                unit="cmd/s",
                note="latency: the claim; rate: join+agree+claim",
            ),
            latency_row(database, "  claim, first 10% of members", seq.claim_seconds[:tenth]),
            latency_row(database, "  claim, last 10% of members", seq.claim_seconds[-tenth:]),
        ]
        progress(f"{database}: {config.revisions} revisions")
        seconds, wall = await revisions(app, seq.claims, config.revisions)
        rows.append(
            latency_row(
                database, "revise 'shorter'", seconds, rate=len(seconds) / wall, unit="cmd/s"
            )
        )
        progress(f"{database}: ledger and weekly figures after the journeys")
        rows += await ledger_rows(app, database, "journeys", config.repeats, clock.now())
    return rows


async def concurrent_rows(
    database: str, fresh: UrlFactory, config: Config, progress: Progress
) -> list[Row]:
    """Journeys from concurrent tasks, on a database of their own so the sequential
    members do not skew them."""
    clock = FixedClock(START)
    name = f"claim journey, {CONCURRENCY} tasks"
    async with fresh_app(fresh, clock) as app:
        await publish_digest(app)
        progress(f"{database}: {config.members} claim journeys, {CONCURRENCY} at a time")
        conc = await journeys_concurrent(app, clock, config.members, CONCURRENCY)
    note = f"{conc.errors} journeys failed" if conc.errors else ""
    if not conc.claim_seconds:
        return [Row(database, name, 0, note=note)]
    rate = (config.members - conc.errors) * 3 / conc.wall
    return [latency_row(database, name, conc.claim_seconds, rate=rate, unit="cmd/s", note=note)]


async def big_ledger_rows(
    database: str, fresh: UrlFactory, config: Config, progress: Progress
) -> list[Row]:
    """A year of consent history: how long building, verifying and summarising it takes."""
    entries = config.ledger_entries
    progress(f"{database}: a {entries:,}-entry ledger")
    async with fresh_app(fresh, FixedClock(START)) as app:
        build = await build_ledger(app, entries, START)
        rows = [
            Row(
                database,
                f"ledger.append x{entries:,}, one tx",
                entries,
                entries / build,
                "entries/s",
                p50=build * 1000,
                note="whole build, one run",
            )
        ]
        rows += await ledger_rows(app, database, f"{entries:,}", config.repeats, START)
    return rows


async def run_database(
    database: str, fresh: UrlFactory, config: Config, progress: Progress
) -> list[Row]:
    """Every benchmark on one kind of database."""
    rows = await sequential_rows(database, fresh, config, progress)
    rows += await concurrent_rows(database, fresh, config, progress)
    rows += await big_ledger_rows(database, fresh, config, progress)
    return rows


async def run_all(config: Config, progress: Progress, pg_version: str | None) -> list[Row]:
    """SQLite always; PostgreSQL when a server answered."""
    with sqlite_databases() as fresh:
        rows = await run_database("SQLite", fresh, config, progress)
    if pg_version is not None:
        with postgres_databases() as fresh:
            rows += await run_database("PostgreSQL", fresh, config, progress)
    return rows


def markdown_table(
    headers: tuple[str, ...], rows: list[tuple[str, ...]], *, numeric: set[int]
) -> str:
    """A Markdown table, padded so it also reads well in a terminal; `numeric` columns
    (by index) are right-aligned."""
    lines = [headers, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]

    def render(cells: tuple[str, ...]) -> str:
        padded = (
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([render(lines[0]), rule + "|", *(render(line) for line in lines[1:])])
