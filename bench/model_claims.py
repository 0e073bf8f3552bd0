"""Model drafting under a burst: N members press "Claim 1" at the same moment.

What a member sees after a claim, when a language model writes the drafts: first a
"drafting…" message in their DM (`chat.postMessage` to `D<user>`), then the draft in its
place (`chat.update` of that message, or a second post if the update failed). Both are
timed from the moment each member's click was sent, from the platform's side: the fake
Slack (`bench.fake_slack`, a process of its own) notes when each DM's first and final
message arrived. The model is the tests' fake OpenAI (`python -m tests.fakes.openai`), in a
process of its own too (the model is remote in production), answering every request after
`delay` seconds with a different valid JSON draft.

The bot runs as `ambassador run` does (`start_bot(worker_process=True)`) with the OPENAI_*
settings pointing at the fake model, in `python -m bench.model_claims serve …`, a process of
its own; this module's `run_model` is the load generator that starts it once per database
and configuration, fires every click together, waits (bounded) for every final draft, and
counts in the database how many drafts the model wrote and how many the template drafter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from pydantic import SecretStr
from sqlmodel import col, func, select

from adapters.cli.serve import RunningBot, start_bot
from adapters.server import SLACK_PATH
from bench.core import Progress, Row, latency_row, postgres_databases, sqlite_databases
from bench.lifetime import until_told_to_stop
from bench.slack_clicks import served
from bench.slack_server import (
    CHANNEL,
    RemoteFake,
    bench_settings,
    control_server,
    digest_ts,
    make_members,
    member_id,
    publish_digest,
)
from bot.i18n import Translator
from bot.settings import Settings
from storage.models import Claim, Draft, ModelCall
from tests.fakes.slack import FakeSlack, SlackClient, button

ROOT = Path(__file__).resolve().parents[1]
GRACE = 5.0  # seconds past the drafting deadline after which a missing draft is an error
# A late draft is an error, but its time is still worth knowing: wait this many times the
# deadline (plus GRACE) for it, then stop whatever is still missing.
OBSERVE = 2
POLL_EVERY = 0.5
MODEL_READY_WITHIN = 30.0  # seconds for the fake model to write its port file
CLICK_TIMEOUT = 10.0  # seconds for one click's HTTP answer (Slack waits 3)
DEFAULT_CONCURRENCY = int(Settings.model_fields["llm_concurrency"].default)
DEFAULT_TIMEOUT = float(Settings.model_fields["llm_timeout"].default)
# What the final message says, to tell the outcomes apart (the bench runs in English).
NEEDLES = {
    "simpler": Translator("en")("drafting.simpler"),
    "failed": Translator("en")("drafting.failed"),
}


@dataclass(frozen=True)
class ModelConfig:
    """How many simultaneous claims, and how long the fake model takes to answer."""

    claims: int = 200
    delay: float = 2.0

    @classmethod
    def quick(cls) -> ModelConfig:
        return cls(claims=50)


@dataclass(frozen=True)
class ModelLimits:
    """One configuration of the bot's model limits (`AMBASSADOR_LLM_*`)."""

    concurrency: int
    timeout: float

    @property
    def label(self) -> str:
        default = " (defaults)" if self == DEFAULTS else ""
        return f"{self.concurrency} slots, {self.timeout:g} s{default}"


DEFAULTS = ModelLimits(DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT)
# The product's defaults, then enough slots for every claim at once: the model-bound path.
SETTINGS = (DEFAULTS, ModelLimits(200, DEFAULT_TIMEOUT))


# -- the server process --------------------------------------------------------------------


def model_settings(database_url: str, api_url: str, model_url: str, slots: ModelLimits) -> Settings:
    """The Slack benchmark's settings plus a model at `model_url`. Azure's endpoint is set
    empty, so that neither this environment nor a .env can send the worker elsewhere."""
    return bench_settings(database_url, api_url).model_copy(
        update={
            "openai_api_key": SecretStr("sk-bench"),
            "openai_base_url": model_url,
            "llm_concurrency": slots.concurrency,
            "llm_timeout": slots.timeout,
            "azure_openai_endpoint": "",
            "azure_openai_api_key": None,
        }
    )


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) a process has used so far: this one, or `pid` from /proc
    (Linux; None elsewhere or once it has gone)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Cpu:
    """CPU used by the bot's two processes and the fake Slack since `start()`: shows whether
    a stage waited for the database, the network or simply a core."""

    pids: dict[str, int | None]
    base: dict[str, float | None] = field(default_factory=dict)

    def now(self) -> dict[str, float | None]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def start(self) -> None:
        self.base = self.now()

    def used(self) -> dict[str, float]:
        now = self.now()
        return {
            name: now_ - base
            for name, now_ in now.items()
            if now_ is not None and (base := self.base.get(name)) is not None
        }


async def server_stats(bot: RunningBot, cpu: Cpu) -> dict[str, Any]:
    """What the database holds: claims, drafts, drafts the model wrote, model calls; and
    the CPU the processes used since the ready line."""
    async with bot.core.database.transaction() as session:
        claims = (await session.exec(select(func.count(col(Claim.id))))).one()
        drafts = (await session.exec(select(func.count(col(Draft.id))))).one()
        model = select(func.count(col(Draft.id))).where(col(Draft.variant).startswith("model."))
        by_model = (await session.exec(model)).one()
        outcomes = select(ModelCall.outcome, func.count(col(ModelCall.id))).group_by(
            ModelCall.outcome
        )
        calls = {str(o): int(n) for o, n in (await session.exec(outcomes)).all()}
    return {
        "claims": int(claims),
        "drafts": int(drafts),
        "model_drafts": int(by_model),
        "model_calls": calls,
        "cpu": cpu.used(),
    }


async def serve(database_url: str, members: int, model_url: str, slots: ModelLimits) -> None:
    """The bot with a model, a digest, `members` joined people; then one JSON ready line."""
    async with ClientSession() as http:
        fake = await RemoteFake.start(http)
        settings = model_settings(database_url, fake.url, model_url, slots)
        bot = await start_bot(settings, rng=random.Random(1), worker_process=True)
        runner: web.AppRunner | None = None
        try:
            digest = await publish_digest(bot, fake)
            await make_members(bot, members)
            worker = bot.child.pid if bot.child is not None else None
            cpu = Cpu({"worker": worker, "server": None, "fake Slack": fake.process.pid})
            runner, control = await control_server(lambda: server_stats(bot, cpu))
            ready = {
                "endpoint": f"http://127.0.0.1:{bot.port}{SLACK_PATH}",
                "api": fake.url,
                "stats": f"http://127.0.0.1:{control}/stats",
                "dm_times": f"{fake.control}/_dm_times",
                "button": button(digest, "Claim 1"),
                "message_ts": await digest_ts(bot),
            }
            await fake.quiet()
            async with http.post(f"{fake.control}/_watch", json={"needles": NEEDLES}) as resp:
                await resp.read()
            cpu.start()
            print(json.dumps(ready), flush=True)
            await until_told_to_stop()
        finally:
            if runner is not None:
                await runner.cleanup()
            await bot.close()
            await fake.close()


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_claims serve")
    parser.add_argument("database_url")
    parser.add_argument("members", type=int)
    parser.add_argument("model_url")
    parser.add_argument("concurrency", type=int)
    parser.add_argument("timeout", type=float)
    parser.add_argument("log", help="where this process and its worker process log")
    args = parser.parse_args(argv)
    # The worker process inherits this descriptor: both logs end in one file to count.
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    slots = ModelLimits(args.concurrency, args.timeout)
    asyncio.run(serve(args.database_url, args.members, args.model_url, slots))
    return 0


# -- the fake model ------------------------------------------------------------------------


@asynccontextmanager
async def fake_model(delay: float) -> AsyncIterator[tuple[str, int]]:
    """`python -m tests.fakes.openai` in a process of its own; yields its base URL and pid."""
    with tempfile.TemporaryDirectory(prefix="ambassador-model-") as tmp:
        port_file = Path(tmp) / "port"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fakes.openai",
            "--port", "0", "--delay", f"{delay:g}", "--port-file", str(port_file),
            cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = perf_counter() + MODEL_READY_WITHIN
            while not port_file.exists():  # another process: poll its port file, bounded
                if process.returncode is not None or perf_counter() > deadline:
                    raise RuntimeError("the fake model did not start")
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text().strip()}/v1", process.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


# -- the load and what came of it ----------------------------------------------------------


@dataclass
class Burst:
    """Every click's wall-clock send time and HTTP answer (the acknowledgement)."""

    sent: dict[int, float] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: set[int] = field(default_factory=set)  # members whose click was not acknowledged

    @property
    def spread(self) -> float:
        return max(self.sent.values()) - min(self.sent.values()) if self.sent else 0.0


async def fire_together(ready: dict[str, Any], claims: int) -> Burst:
    """One signed Claim click per member, all started together (gathered, not paced), each
    over a connection of its own."""
    burst = Burst()
    connector = TCPConnector(limit=claims)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=CLICK_TIMEOUT)) as h:
        slack = SlackClient(h, ready["endpoint"], FakeSlack(url=ready["api"]))
        button_, message_ts = ready["button"], str(ready["message_ts"])
        start = asyncio.Event()

        async def click(i: int) -> None:
            await start.wait()
            burst.sent[i] = time.time()
            began = perf_counter()
            try:
                status = await slack.click(
                    member_id(i), button_, message_ts=message_ts, channel=CHANNEL
                )
            except Exception as exc:
                burst.errors.append(type(exc).__name__)
                burst.failed.add(i)
                return
            if status != 200:
                burst.errors.append(f"HTTP {status}")
                burst.failed.add(i)
                return
            burst.acks.append(perf_counter() - began)

        tasks = [asyncio.create_task(click(i)) for i in range(claims)]
        await asyncio.sleep(0)  # every task waits on the event: they leave together
        start.set()
        await asyncio.gather(*tasks)
    return burst


async def wait_for_finals(url: str, claims: int, last_sent: float, drafting: float) -> Any:
    """Poll the fake Slack until every member has a final draft or OBSERVE times the
    `drafting` deadline plus GRACE has passed since the last click: always bounded."""
    deadline = last_sent + OBSERVE * (drafting + GRACE)
    channels = {f"D{member_id(i)}" for i in range(claims)}
    async with ClientSession(timeout=ClientTimeout(total=10)) as http:
        while True:
            async with http.get(url) as resp:
                times = await resp.json()
            if channels <= set(times["finals"]) or time.time() > deadline:
                return times
            await asyncio.sleep(POLL_EVERY)


async def fetch(url: str) -> Any:
    async with ClientSession(timeout=ClientTimeout(total=10)) as http, http.get(url) as resp:
        return await resp.json()


@dataclass(frozen=True)
class Outcome:
    """One run: per-member latencies (seconds) and what the database holds."""

    database: str
    slots: ModelLimits
    burst: Burst
    first: list[float]
    final: list[float]
    final_model: list[float]
    final_simpler: list[float]
    late: int  # a final draft, but after the deadline plus GRACE
    missing: int  # no final draft at all
    failed: int  # the final message says drafting failed
    steps: dict[str, float]  # median seconds from the click to each platform call
    stats: dict[str, Any]
    wall: float  # first click to the last final draft
    log_errors: list[str]

    @property
    def errors(self) -> int:
        return self.late + self.missing + self.failed + len(self.burst.errors)


def outcome(
    database: str,
    slots: ModelLimits,
    burst: Burst,
    times: dict[str, Any],
    stats: dict[str, Any],
    log_errors: list[str],
) -> Outcome:
    """Per member: click to first DM, click to final draft; and the run's totals."""
    firsts, finals, has = times["firsts"], times["finals"], times["final_has"]
    first: list[float] = []
    final: list[float] = []
    model: list[float] = []
    simpler: list[float] = []
    late = missing = failed = 0
    steps: dict[str, list[float]] = {"users.info": [], "conversations.open": [], "dm": []}
    for i, sent in burst.sent.items():
        if i in burst.failed:
            continue  # counted as a failed click already
        user = member_id(i)
        channel = f"D{user}"
        for method in ("users.info", "conversations.open"):
            if user in firsts.get(method, {}):
                steps[method].append(firsts[method][user] - sent)
        if channel in firsts.get("chat.postMessage", {}):
            first.append(firsts["chat.postMessage"][channel] - sent)
            steps["dm"].append(first[-1])
        if channel not in finals:
            missing += 1
            continue
        seconds = finals[channel] - sent
        if seconds > slots.timeout + GRACE:
            late += 1
        if "failed" in has.get(channel, []):
            failed += 1
            continue
        final.append(seconds)
        (simpler if "simpler" in has.get(channel, []) else model).append(seconds)
    ends = [float(t) for t in finals.values()]
    wall = max(ends) - min(burst.sent.values()) if ends and burst.sent else 0.0
    medians = {k: statistics.median(v) for k, v in steps.items() if v}
    return Outcome(
        database, slots, burst, first, final, model, simpler, late, missing, failed,
        medians, stats, wall, log_errors,
    )  # fmt: skip


def logged_errors(path: Path) -> list[str]:
    """The ERROR and CRITICAL lines both bot processes logged (tracebacks left out)."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line or " CRITICAL " in line]


async def run_once(
    database: str, url: str, config: ModelConfig, slots: ModelLimits, progress: Progress
) -> Outcome:
    """One database, one configuration: start everything, fire, wait, count, stop."""
    with tempfile.TemporaryDirectory(prefix="ambassador-model-log-") as tmp:
        log = Path(tmp) / "bot.log"
        async with fake_model(config.delay) as (model_url, model_pid):
            progress(f"{database}, {slots.label}: starting the bot and {config.claims} members")
            args = (url, str(config.claims), model_url, str(slots.concurrency))
            try:
                async with served(
                    "bench.model_claims", "serve", *args, f"{slots.timeout:g}", str(log)
                ) as ready:
                    progress(f"{database}, {slots.label}: {config.claims} claims at once")
                    here = Cpu({"fake model": model_pid, "load generator": None})
                    here.start()
                    began = perf_counter()
                    burst = await fire_together(ready, config.claims)
                    last = max(burst.sent.values(), default=time.time())
                    times = await wait_for_finals(
                        ready["dm_times"], config.claims, last, slots.timeout
                    )
                    stats = await fetch(ready["stats"])
                    stats["cpu"] |= here.used()
                    stats["window"] = perf_counter() - began
            except RuntimeError as exc:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"{exc}\n{tail}") from exc
        return outcome(database, slots, burst, times, stats, logged_errors(log))


# -- rows ----------------------------------------------------------------------------------


def rows_of(o: Outcome) -> list[Row]:
    """The click's acknowledgement, the first answer, the final draft and its two kinds."""
    name = o.slots.label
    calls = ", ".join(f"{k} {v}" for k, v in sorted(o.stats["model_calls"].items())) or "none"
    stored = (
        f"{o.stats['model_drafts']} model, {o.stats['drafts'] - o.stats['model_drafts']} "
        f"template; model calls: {calls}"
    )
    errors = (
        f"{o.errors} errors ({len(o.burst.errors)} clicks failed, {o.missing} no draft, "
        f"{o.late} late, {o.failed} failed)"
        if o.errors
        else "0 errors"
    )
    rows = []
    for label, seconds, note in (
        (f"{name}: click ack", o.burst.acks, f"sent within {o.burst.spread * 1000:.0f} ms"),
        (f"{name}: drafting… DM", o.first, "first visible answer"),
    ):
        rows.append(_row(o.database, label, seconds, note))
    rate = len(o.final) / o.wall if o.wall else None
    rows.append(_row(o.database, f"{name}: final draft", o.final, f"{errors}; {stored}", rate=rate))
    rows.append(_row(o.database, "  model drafts", o.final_model, ""))
    rows.append(_row(o.database, "  'simpler suggestion'", o.final_simpler, "template fallback"))
    return rows


def _row(
    database: str, name: str, seconds: list[float], note: str, *, rate: float | None = None
) -> Row:
    if not seconds:
        return Row(database, name, 0, note=note)
    unit = "drafts/s" if rate is not None else ""
    return latency_row(database, name, seconds, rate=rate, unit=unit, note=note)


def findings(o: Outcome) -> list[str]:
    """Where the first answer's time goes, and anything the bot logged as an error."""
    where = o.database + ", " + o.slots.label
    s = o.steps
    lines = []
    if s:
        lines.append(
            f"{where}: medians from the click: users.info "
            f"{s.get('users.info', 0) * 1000:,.0f} ms (ack, hand-off, dedupe), "
            f"conversations.open {s.get('conversations.open', 0) * 1000:,.0f} ms (the claim), "
            f"drafting… DM {s.get('dm', 0) * 1000:,.0f} ms; all final drafts "
            f"{o.wall:.1f} s after the first click"
        )
    cpu = o.stats.get("cpu") or {}
    if cpu:
        used = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
        lines.append(
            f"{where}: CPU used from the clicks to the last draft ({o.stats['window']:.1f} s "
            f"of wall clock, {os.cpu_count()} CPUs): {used}"
        )
    if o.log_errors:
        first = [line[:300] for line in o.log_errors[:3]]
        lines.append(f"{where}: the bot logged {len(o.log_errors)} errors, first: {first}")
    return lines


@dataclass
class ModelResults:
    rows: list[Row]
    findings: list[str]


async def run_model(
    config: ModelConfig, progress: Progress, pg_version: str | None
) -> ModelResults:
    """PostgreSQL (when it answers) then SQLite, each with the defaults and with 200 slots."""
    runs: list[tuple[str, Callable[[], Any]]] = []
    if pg_version is not None:
        runs.append(("PostgreSQL", postgres_databases))
    runs.append(("SQLite", sqlite_databases))
    results = ModelResults([], [])
    for database, databases in runs:
        for slots in SETTINGS:
            with databases() as fresh:
                o = await run_once(database, fresh(), config, slots, progress)
            results.rows += rows_of(o)
            results.findings += findings(o)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: python -m bench.model_claims serve … (the bench starts it)")
    sys.exit(serve_main(sys.argv[2:]))
