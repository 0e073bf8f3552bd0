"""Signed Claim clicks at a fixed rate against the running bot, beside a bare Bolt app.

Each server runs in a process of its own (`bench.slack_server`, `bench.bare_bolt`); this
process is only the load generator, so its own work does not count as the bot's latency.
The load is open-loop: click i leaves at t0 + i/rate whether or not earlier ones have been
answered, as Slack would send them, each a freshly signed `block_actions` POST from a
different member on the same "Claim 1" button. The latency of a click is the time from
sending it to the HTTP response, which is the acknowledgement Slack waits 3 seconds for.
Afterwards the database must hold exactly one claim and one draft per member.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter, time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector

from bench.core import (
    Progress,
    Row,
    latency_row,
    percentile,
    postgres_databases,
    sqlite_databases,
)
from bench.slack_server import CHANNEL, member_id
from tests.fakes.slack import FakeSlack, SlackClient

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 200  # the client never waits for a free connection at these rates
READY_WITHIN = 300.0  # seconds for a server to start (the bot's setup makes the members)
DRAIN_WITHIN = 60.0  # seconds after the last acknowledgement for every claim to be done
POLL_EVERY = 0.5
# The targets for the bot on PostgreSQL, its production database.
TARGET_P99_MS = 50.0
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class ClickConfig:
    """How many clicks, how fast: the issue's 1,000 at 100/s, or `--quick` for a smoke run."""

    clicks: int = 1000
    rate: float = 100.0

    @classmethod
    def quick(cls) -> ClickConfig:
        return cls(clicks=200, rate=100.0)


@dataclass
class Load:
    """What one open-loop run saw from the client's side."""

    seconds: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lag: float = 0.0  # the latest a click left after its slot: the generator's own delay
    started: float = 0.0  # wall clock of the first slot, to compare with the server's
    sent_span: float = 0.0  # first to last send

    @property
    def achieved(self) -> float:
        return (len(self.seconds) + self.error_count - 1) / self.sent_span if self.sent_span else 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True)
class Drained:
    """What the bot had stored and delivered once it stopped making progress."""

    claims: int
    claimants: int
    items: int
    drafts: int
    dms: int
    seconds: float | None  # from the first click to the last DM, when all DMs arrived
    logged_errors: int
    first_errors: list[str]


# -- the servers ---------------------------------------------------------------------------


@asynccontextmanager
async def served(module: str, *args: str) -> AsyncIterator[dict[str, Any]]:
    """`python -m module args` from the repository root; yields its JSON ready line and
    stops it (stdin closed, then SIGTERM, then SIGKILL) afterwards."""
    with tempfile.TemporaryFile() as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            try:
                async with asyncio.timeout(READY_WITHIN):
                    line = await process.stdout.readline()
                ready = json.loads(line)
            except (TimeoutError, ValueError) as exc:
                stderr.seek(0)
                tail = stderr.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"{module} did not start:\n{tail}") from exc
            yield ready
        finally:
            process.stdin.close()
            try:
                async with asyncio.timeout(20):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                try:
                    async with asyncio.timeout(5):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()


# -- the load ------------------------------------------------------------------------------


async def fire(ready: dict[str, Any], config: ClickConfig, progress: Progress) -> Load:
    """`config.clicks` signed Claim clicks, click i by member i at t0 + i/rate."""
    load = Load()
    connector = TCPConnector(limit=CONNECTIONS)
    timeout = ClientTimeout(total=10)
    async with ClientSession(connector=connector, timeout=timeout) as http:
        slack = SlackClient(http, ready["endpoint"], FakeSlack(url=ready["api"]))
        button, message_ts = ready["button"], str(ready["message_ts"])
        loop = asyncio.get_running_loop()
        sends: list[float] = []

        async def click(i: int) -> None:
            began = perf_counter()
            sends.append(began)
            try:
                status = await slack.click(
                    member_id(i), button, message_ts=message_ts, channel=CHANNEL
                )
            except Exception as exc:
                load.errors[type(exc).__name__] += 1
                return
            if status != 200:
                load.errors[f"HTTP {status}"] += 1
                return
            load.seconds.append(perf_counter() - began)

        tasks: list[asyncio.Task[None]] = []
        t0 = loop.time() + 0.1
        load.started = time() + 0.1
        for i in range(config.clicks):
            slot = t0 + i / config.rate
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not waiting for anything
            load.lag = max(load.lag, loop.time() - slot)
            tasks.append(asyncio.create_task(click(i)))
            if (i + 1) % (config.clicks // 4 or 1) == 0:
                progress(f"  {i + 1:,} clicks sent")
        await asyncio.gather(*tasks)
        load.sent_span = max(sends) - min(sends) if sends else 0.0
    return load


async def drain(stats_url: str, clicks: int, started: float) -> Drained:
    """Poll the bot's counts until every claim and DM is there or progress stops for
    DRAIN_WITHIN seconds (a benchmark may poll; the tests wait on conditions instead)."""
    last: dict[str, Any] = {}
    async with ClientSession() as http:
        deadline = perf_counter() + DRAIN_WITHIN
        while perf_counter() < deadline:
            async with http.get(stats_url) as resp:
                now = await resp.json()
            if now["claims"] >= clicks and now["dms"] >= clicks:
                last = now
                break
            if now != last:
                deadline = perf_counter() + DRAIN_WITHIN
            last = now
            await asyncio.sleep(POLL_EVERY)
    done = last["dms"] >= clicks
    return Drained(
        last["claims"],
        last["claimants"],
        last["items"],
        last["drafts"],
        last["dms"],
        last["last_dm"] - started if done else None,
        last["logged_errors"],
        last["first_errors"],
    )


# -- rows ----------------------------------------------------------------------------------


def _errors(load: Load) -> str:
    """The errors, and how late the generator itself sent its latest click (if that grew,
    the client, not the server, would be the limit)."""
    lag = f"sent <= {load.lag * 1000:.1f} ms late"
    if not load.errors:
        return f"0 errors, {lag}"
    kinds = ", ".join(f"{kind} x{n}" for kind, n in load.errors.most_common())
    return f"{load.error_count} errors ({kinds}), {lag}"


def load_row(database: str, name: str, load: Load, note: str) -> Row:
    if not load.seconds:
        return Row(database, name, 0, note=note)
    return latency_row(database, name, load.seconds, rate=load.achieved, unit="clicks/s", note=note)


def once(drained: Drained, clicks: int) -> bool:
    """One claim and one draft per member, all on the one item clicked."""
    return (
        drained.claims == clicks
        and drained.claimants == clicks
        and drained.drafts == clicks
        and drained.items == 1
    )


@dataclass
class SlackResults:
    rows: list[Row]
    verdicts: list[str]


def p99(load: Load) -> float | None:
    return percentile(load.seconds, 99) * 1000 if load.seconds else None


def verdict(database: str, load: Load, bare: Load, drained: Drained, clicks: int) -> str:
    """The issue's four targets, each with its figure."""
    mine, theirs = p99(load), p99(bare)
    ratio = mine / theirs if mine is not None and theirs else None
    checks = [
        (mine is not None and mine <= TARGET_P99_MS, f"p99 {_fmt(mine)} ms <= {TARGET_P99_MS:g}"),
        (
            ratio is not None and ratio <= TARGET_RATIO,
            f"p99 {_fmt(ratio, 'x')} bare Bolt's <= {TARGET_RATIO:g}x",
        ),
        (load.error_count == 0, f"{load.error_count} errors"),
        (once(drained, clicks), f"stored exactly once: {'yes' if once(drained, clicks) else 'no'}"),
    ]
    met = all(ok for ok, _ in checks)
    parts = "; ".join(f"{text} [{'ok' if ok else 'MISSED'}]" for ok, text in checks)
    return f"{database}: {'targets met' if met else 'targets missed'}: {parts}"


def _fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.1f}{suffix}"


def ambassador_note(load: Load, bare: Load, drained: Drained, clicks: int) -> str:
    mine, theirs = p99(load), p99(bare)
    ratio = f"p99 {mine / theirs:.1f}x bare" if mine is not None and theirs else "p99 - x bare"
    stored = (
        f"{drained.claims:,} claims, {drained.drafts:,} drafts, "
        f"once: {'yes' if once(drained, clicks) else 'no'}"
    )
    if drained.seconds is not None:
        delivered = (
            f"{drained.dms:,} DMs in {drained.seconds:.1f} s "
            f"({drained.dms / drained.seconds:,.0f}/s)"
        )
    else:
        delivered = f"{drained.dms:,} of {clicks:,} DMs"
    logged = f"; the bot logged {drained.logged_errors} errors" if drained.logged_errors else ""
    return f"{_errors(load)}; {ratio}; {stored}; {delivered}{logged}"


# -- the run -------------------------------------------------------------------------------


async def bare_bolt(ready: dict[str, Any], config: ClickConfig, progress: Progress) -> Load:
    """The baseline, with the very button and message the bot's digest has."""
    progress(f"bare Bolt: {config.clicks:,} clicks at {config.rate:g}/s")
    async with served("bench.bare_bolt") as bare:
        same = ready | {"endpoint": bare["endpoint"], "api": bare["api"]}
        return await fire(same, config, progress)


async def run_slack(
    config: ClickConfig, progress: Progress, pg_version: str | None
) -> SlackResults:
    """The bot on PostgreSQL (the targets) and on SQLite (for comparison), and once, while
    the first bot sits idle after its setup, the bare Bolt app with the same payloads."""
    bare: Load | None = None
    ambassador_rows: list[Row] = []
    verdicts: list[str] = []
    runs: list[tuple[str, Callable[[], Any]]] = []
    if pg_version is not None:
        runs.append(("PostgreSQL", postgres_databases))
    runs.append(("SQLite", sqlite_databases))
    for database, databases in runs:
        with databases() as fresh:
            progress(f"{database}: starting the bot, a digest and {config.clicks:,} members")
            async with served("bench.slack_server", fresh(), str(config.clicks)) as ready:
                if bare is None:
                    bare = await bare_bolt(ready, config, progress)
                progress(f"{database}: {config.clicks:,} Claim clicks at {config.rate:g}/s")
                load = await fire(ready, config, progress)
                progress(f"{database}: waiting for every claim and DM")
                drained = await drain(ready["stats"], config.clicks, load.started)
        note = ambassador_note(load, bare, drained, config.clicks)
        ambassador_rows.append(load_row(database, "Ambassador, Claim click", load, note))
        label = database if database == "PostgreSQL" else f"{database} (not a target)"
        verdicts.append(verdict(label, load, bare, drained, config.clicks))
        verdicts += [f"{database}: the bot logged: {line}" for line in drained.first_errors]
    assert bare is not None
    rows = [load_row("-", "bare Bolt AsyncApp, ack only", bare, _errors(bare))]
    return SlackResults(rows + ambassador_rows, verdicts)
