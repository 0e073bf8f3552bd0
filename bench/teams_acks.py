"""Teams acknowledgements under load: N members press Claim on the digest card, then
"I agree" on the join card that comes to their 1:1 chat.

Three processes besides this one, the load generator: the fake Bot Connector
(`bench.fake_teams`, where every activity's `serviceUrl` points), and the bot as
`ambassador run` starts it (`start_bot(worker_process=True)`: the server process
acknowledges `POST /api/messages` through botbuilder's CloudAdapter and hands each activity
to the worker process) with `AMBASSADOR_TEAMS=local` (no Microsoft token service here), in
`python -m bench.teams_acks serve …`. Its setup, over HTTP as in Teams: the manager installs
the bot in a team, types `@Ambassador digest here` in the General channel, adds 3 items and
sends `digest now`.

The load is open-loop for the Claim presses: member i's Action.Submit (the digest card's
"Claim 1" data, in reply to the card, in the card's channel thread) leaves at t0 + i/rate.
Each member then waits for their join card (a long poll on the fake) and presses its
"I agree" at once, so the agrees follow the bot's own pace. Measured: the acknowledgement of
every POST (201 expected), the join card's arrival after the press, the draft's arrival
after the agree (the fake's clock, one machine), the time until every member's draft has
arrived, drafts per member (exactly one each), and the most sends into any one
conversation within a second (Teams allows 7).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
from sqlalchemy import distinct
from sqlmodel import col, func, select

from adapters.cli.serve import RunningBot, start_bot
from adapters.server import TEAMS_PATH
from bench.core import Progress, Row, latency_row, postgres_databases, sqlite_databases
from bench.lifetime import until_told_to_stop
from bench.model_claims import Cpu, logged_errors
from bench.slack_clicks import served
from bench.slack_server import control_server
from bot.i18n import Translator
from bot.settings import Settings
from storage.models import Claim, Draft, Person
from tests.fakes.teams import Team, TeamsWorld, User, post

ITEMS = 3
MANAGER = User.named("Mia Manager")
TEAM = Team("19:bench-general@thread.tacv2", "Comms")
EN = Translator("en")
AGREE = EN("join.agree")  # the join card's button
DRAFT = EN("draft.share_linkedin")  # on every draft card, and only there
CLAIM = "Claim 1"  # the digest card's first button: its newest item
PER_SECOND = 7  # Teams' limit into one conversation
CONNECTIONS = 200  # to the bot; the client never waits for a free connection at these rates
ACK_TIMEOUT = 10.0  # seconds for one POST's answer (Teams waits 15)
CARD_WITHIN = 150.0  # seconds after a press for the join card to arrive (the worker queues)
DRAIN_WITHIN = 30.0  # seconds without progress after which the missing drafts are missing
SETUP_WITHIN = 30.0  # seconds for each setup step's answer
POLL_EVERY = 0.5
QUIET = 1.5  # seconds without a send after the last draft: the run is over


@dataclass(frozen=True)
class TeamsConfig:
    """How many members, and how many Claim presses a second."""

    members: int = 500
    rate: float = 50.0

    @classmethod
    def quick(cls) -> TeamsConfig:
        return cls(members=100)


def member(i: int) -> User:
    """Member `i`, the same in every process (the ids follow from the name)."""
    return User.named(f"Member {i:05d}")


def actions(node: Any) -> list[dict[str, Any]]:
    """Every Action.Submit in an activity's cards, nested ones included."""
    if isinstance(node, dict):
        found = [node] if node.get("type") == "Action.Submit" else []
        return found + [a for value in node.values() for a in actions(value)]
    if isinstance(node, list):
        return [a for value in node for a in actions(value)]
    return []


def action_data(activity: dict[str, Any], title: str) -> dict[str, Any]:
    """The data of the card's Action.Submit titled `title`: what Teams sends back as `value`."""
    for found in actions(activity):
        if str(found.get("title", "")).startswith(title):
            return dict(found["data"])
    raise RuntimeError(f"no {title!r} action in {json.dumps(activity)[:300]}")


# -- the bot's process ---------------------------------------------------------------------


def teams_settings(database_url: str) -> Settings:
    """Explicit values, so a developer's environment or .env cannot change the figures:
    Teams only (no Slack token), authentication off, template drafts."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        AMBASSADOR_TEAMS="local",
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_MANAGERS=MANAGER.id,
        AMBASSADOR_COMPANY="ACME",
        AMBASSADOR_LOCALE="en",
        AMBASSADOR_FETCH=False,  # the benchmarks never reach the internet
        SLACK_BOT_TOKEN="",
        OPENAI_API_KEY="",  # template drafts: a developer's key must not reach a real model
        AZURE_OPENAI_API_KEY="",
    )


@dataclass
class RemoteConnector:
    """The fake Bot Connector in its own process (`bench.fake_teams`), through its control
    routes."""

    process: asyncio.subprocess.Process
    url: str
    control: str
    http: ClientSession

    @classmethod
    async def start(cls, http: ClientSession) -> RemoteConnector:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.fake_teams",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        return cls(process, ready["url"], ready["control"], http)

    async def wait(self, conversation: str, needle: str, count: int = 1) -> dict[str, Any]:
        """Setup: the `count`-th activity in `conversation` holding `needle`."""
        query = {"conversation": conversation, "needle": needle, "count": str(count)}
        query["within"] = f"{SETUP_WITHIN:g}"
        async with self.http.get(f"{self.control}/_wait", params=query) as resp:
            if resp.status != 200:
                raise RuntimeError(f"setup: no {needle!r} in {conversation} ({resp.status})")
            return dict(await resp.json())

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 30)


async def publish_digest(endpoint: str, fake: RemoteConnector) -> dict[str, Any]:
    """The manager's morning, over HTTP as in Teams; each step waits for the bot's answer
    on the fake (setup: the worker runs activities side by side)."""
    teams = TeamsWorld(fake.url)
    channel = {"conversation_type": "channel", "team": TEAM, "channel": TEAM.general}

    async def send(activity: dict[str, Any]) -> None:
        status = await post(fake.http, endpoint, activity)
        if status != 201:
            raise RuntimeError(f"setup: {activity.get('type')} answered {status}")

    await send(teams.conversation_update(user=MANAGER, team=TEAM))
    await fake.wait(TEAM.id, "", 1)  # the welcome, in the channel
    await send(teams.message("digest here", user=MANAGER, mention_bot=True, **channel))
    chat = MANAGER.personal_conversation
    await fake.wait(chat, "", 1)  # "The digest will be posted in …"
    for i in range(1, ITEMS + 1):
        await send(teams.message(f"add https://example.com/n/{i} Title {i}", user=MANAGER))
        await fake.wait(chat, f"Added item #{i}")
    await send(teams.message("digest now", user=MANAGER))
    return await fake.wait(TEAM.id, CLAIM)


async def server_stats(bot: RunningBot, cpu: Cpu) -> dict[str, Any]:
    """What the database holds, and the CPU the processes used since the ready line."""
    counts = select(
        func.count(col(Claim.id)),
        func.count(distinct(col(Claim.person_id))),
        func.count(distinct(col(Claim.item_id))),
    )
    async with bot.core.database.transaction() as session:
        claims, claimants, items = (await session.exec(counts)).one()
        drafts = (await session.exec(select(func.count(col(Draft.id))))).one()
        joined = select(func.count(col(Person.id))).where(col(Person.member).is_(True))
        members = (await session.exec(joined)).one()
    return {
        "claims": int(claims),
        "claimants": int(claimants),
        "items": int(items),
        "drafts": int(drafts),
        "members": int(members),
        "cpu": cpu.used(),
    }


async def serve(database_url: str) -> None:
    async with ClientSession() as http:
        fake = await RemoteConnector.start(http)
        bot = await start_bot(
            teams_settings(database_url), rng=random.Random(1), worker_process=True
        )
        runner: web.AppRunner | None = None
        try:
            endpoint = f"http://127.0.0.1:{bot.port}{TEAMS_PATH}"
            digest = await publish_digest(endpoint, fake)
            worker = bot.child.pid if bot.child is not None else None
            cpu = Cpu({"worker": worker, "server": None, "fake Connector": fake.process.pid})
            runner, control = await control_server(lambda: server_stats(bot, cpu))
            async with http.post(f"{fake.control}/_watch", json={"needle": DRAFT}) as resp:
                await resp.read()
            cpu.start()
            ready = {
                "endpoint": endpoint,
                "service_url": fake.url,
                "fake": fake.control,
                "stats": f"http://127.0.0.1:{control}/stats",
                "digest": digest["id"],
                "claim": action_data(digest, CLAIM),
            }
            print(json.dumps(ready), flush=True)
            await until_told_to_stop()
        finally:
            if runner is not None:
                await runner.cleanup()
            await bot.close()
            await fake.close()


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.teams_acks serve")
    parser.add_argument("database_url")
    parser.add_argument("log", help="where this process and its worker process log")
    args = parser.parse_args(argv)
    # The worker process inherits this descriptor: both logs end in one file to count.
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args.database_url))
    return 0


# -- the load ------------------------------------------------------------------------------


@dataclass
class Load:
    """What the members saw from their side."""

    claim_acks: list[float] = field(default_factory=list)
    agree_acks: list[float] = field(default_factory=list)
    join_cards: list[float] = field(default_factory=list)  # from the press to the card
    agreed_at: dict[str, float] = field(default_factory=dict)  # chat -> wall clock of agree
    claim_errors: Counter[str] = field(default_factory=Counter)  # kind -> how many
    agree_errors: Counter[str] = field(default_factory=Counter)
    no_card: int = 0
    lag: float = 0.0  # the latest a press left after its slot: the generator's own delay
    started: float = 0.0  # wall clock of the first press
    claim_span: float = 0.0  # first to last press
    agree_span: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.claim_errors.values()) + sum(self.agree_errors.values())


@contextlib.contextmanager
def no_collector() -> Iterator[None]:
    """The load generator's garbage collector off for the load: a full pass over this
    process's heap (every module the bench imports) takes 150–190 ms here, and would
    show up as the bot's latency for every request in flight and delay the next sends."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def fire(ready: dict[str, Any], config: TeamsConfig, progress: Progress) -> Load:
    """Member i presses Claim at t0 + i/rate, then "I agree" as soon as the card is there."""
    with no_collector():
        return await _fire(ready, config, progress)


async def _fire(ready: dict[str, Any], config: TeamsConfig, progress: Progress) -> Load:
    load = Load()
    teams = TeamsWorld(ready["service_url"])
    digest, claim, endpoint = ready["digest"], ready["claim"], ready["endpoint"]
    thread = f"{TEAM.id};messageid={digest}"
    timeout = ClientTimeout(total=ACK_TIMEOUT)
    claims_sent: list[float] = []
    agrees_sent: list[float] = []
    async with (
        ClientSession(connector=TCPConnector(limit=CONNECTIONS), timeout=timeout) as http,
        ClientSession(connector=TCPConnector(limit=0)) as polls,  # long polls, to the fake
    ):

        async def press(activity: dict[str, Any], acks: list[float], errors: Counter[str]) -> bool:
            began = perf_counter()
            try:
                status = await post(http, endpoint, activity)
            except Exception as exc:
                errors[type(exc).__name__] += 1
                return False
            if status != 201:
                errors[f"HTTP {status}"] += 1
                return False
            acks.append(perf_counter() - began)
            return True

        async def join_card(user: User) -> dict[str, Any] | None:
            """The member's join card and its "I agree" data, or None if none came."""
            query = {"conversation": user.personal_conversation, "needle": AGREE}
            query["within"] = f"{CARD_WITHIN:g}"
            try:
                async with polls.get(f"{ready['fake']}/_wait", params=query) as resp:
                    card = dict(await resp.json()) if resp.status == 200 else None
                return None if card is None else card | {"agree": action_data(card, AGREE)}
            except (ClientError, OSError, RuntimeError, ValueError):  # no card to press
                return None

        async def one(i: int) -> None:
            user = member(i)
            activity = teams.card_submit(
                claim, user=user, reply_to=digest, conversation_type="channel",
                team=TEAM, channel=TEAM.general, conversation=thread,
            )  # fmt: skip
            began = perf_counter()
            claims_sent.append(began)
            if not await press(activity, load.claim_acks, load.claim_errors):
                return
            card = await join_card(user)
            if card is None:
                load.no_card += 1
                return
            load.join_cards.append(perf_counter() - began)
            agree = teams.card_submit(card["agree"], user=user, reply_to=card["id"])
            agrees_sent.append(perf_counter())
            load.agreed_at[user.personal_conversation] = time.time()
            await press(agree, load.agree_acks, load.agree_errors)

        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        t0 = loop.time() + 0.1
        load.started = time.time() + 0.1
        for i in range(config.members):
            slot = t0 + i / config.rate
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not waiting for anything
            load.lag = max(load.lag, loop.time() - slot)
            tasks.append(asyncio.create_task(one(i)))
            if (i + 1) % (config.members // 4 or 1) == 0:
                progress(f"  {i + 1:,} Claim presses sent")
        await asyncio.gather(*tasks)
    load.claim_span = max(claims_sent) - min(claims_sent) if claims_sent else 0.0
    load.agree_span = max(agrees_sent) - min(agrees_sent) if agrees_sent else 0.0
    return load


async def fetch(http: ClientSession, url: str) -> Any:
    async with http.get(url) as resp:
        return await resp.json()


async def drain(ready: dict[str, Any], expected: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Poll the fake until every member who agreed has a draft and no send has come for
    QUIET seconds (the claim's confirmation follows the draft), or nothing at all has come
    for DRAIN_WITHIN seconds; then its report and the bot's counts."""
    async with ClientSession() as http:
        last: dict[str, Any] = {}
        deadline = perf_counter() + DRAIN_WITHIN
        quiet_since = perf_counter()
        while perf_counter() < deadline:
            now = await fetch(http, f"{ready['fake']}/_stats")
            if now != last:
                deadline = perf_counter() + DRAIN_WITHIN
                quiet_since = perf_counter()
            elif now["matched"] >= expected and perf_counter() - quiet_since >= QUIET:
                break
            last = now
            await asyncio.sleep(POLL_EVERY)
        return await fetch(http, f"{ready['fake']}/_report"), await fetch(http, ready["stats"])


# -- rows ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    database: str
    members: int
    load: Load
    report: dict[str, Any]
    stats: dict[str, Any]
    wall: float  # seconds from the start of the presses to the report
    log_errors: list[str]

    @property
    def draft_seconds(self) -> list[float]:
        firsts, agreed = self.report["firsts"], self.load.agreed_at
        return [firsts[c] - agreed[c] for c in firsts if c in agreed]

    @property
    def per_member(self) -> Counter[int]:
        """How many members have 0, 1, 2… drafts in their chat."""
        matching = self.report["matching"]
        chats = [member(i).personal_conversation for i in range(self.members)]
        return Counter(int(matching.get(chat, 0)) for chat in chats)

    @property
    def messages(self) -> Counter[int]:
        """How many members got 0, 1, 2… activities in their 1:1 chat during the run."""
        sends = self.report["sends_into"]
        chats = [member(i).personal_conversation for i in range(self.members)]
        return Counter(int(sends.get(chat, 0)) for chat in chats)

    @property
    def every_draft(self) -> float | None:
        """Seconds from the first press to the last member's draft, if all arrived."""
        firsts: dict[str, float] = self.report["firsts"]
        if len(self.draft_seconds) < self.members or not firsts:
            return None
        return max(firsts.values()) - self.load.started

    @property
    def busiest(self) -> tuple[str, int]:
        per_second = self.report["max_per_second"]
        if not per_second:
            return "-", 0
        name = max(per_second, key=per_second.get)
        return name, int(per_second[name])

    @property
    def once(self) -> bool:
        return self.per_member == Counter({1: self.members})


def _error_note(errors: Counter[str], lag: float | None = None) -> str:
    late = f", sent <= {lag * 1000:.1f} ms late" if lag is not None else ""
    if not errors:
        return f"0 errors{late}"
    kinds = ", ".join(f"{kind} x{n}" for kind, n in errors.most_common())
    return f"{sum(errors.values())} errors ({kinds}){late}"


def _row(
    database: str,
    name: str,
    seconds: list[float],
    note: str,
    *,
    rate: float | None = None,
    unit: str = "",
) -> Row:
    if not seconds:
        return Row(database, name, 0, note=note)
    return latency_row(database, name, seconds, rate=rate, unit=unit, note=note)


def rows_of(o: Outcome) -> list[Row]:
    load, n = o.load, o.members
    claim_rate = (len(load.claim_acks) - 1) / load.claim_span if load.claim_span else None
    agree_rate = (len(load.agree_acks) - 1) / load.agree_span if load.agree_span else None
    per = o.per_member
    spread = ", ".join(f"{k} draft{'s' if k != 1 else ''}: {v}" for k, v in sorted(per.items()))
    every = o.every_draft
    delivered = (
        f"all {n:,} in {every:.1f} s from the first press ({n / every:,.0f}/s)"
        if every
        else f"{len(o.draft_seconds):,} of {n:,}"
    )
    chat, most = o.busiest
    kind = "channel" if chat.startswith("19:") else "1:1 chat"
    limit = "ok" if most <= PER_SECOND else "OVER"
    no_card = f"; {load.no_card} without a join card" if load.no_card else ""
    return [
        _row(o.database, "Claim press, ack", load.claim_acks,
             _error_note(load.claim_errors, load.lag), rate=claim_rate, unit="presses/s"),
        _row(o.database, "  join card, from the press", load.join_cards,
             f"in the member's 1:1 chat (opened for it){no_card}"),
        _row(o.database, '"I agree" press, ack', load.agree_acks,
             _error_note(load.agree_errors) + "; pressed as each join card arrives",
             rate=agree_rate, unit="presses/s"),
        _row(o.database, "  draft, from the agree", o.draft_seconds,
             f"{delivered}; per member: {spread}; max {most}/s into one {kind} "
             f"(<= {PER_SECOND}: {limit})"),
    ]  # fmt: skip


def findings(o: Outcome) -> list[str]:
    """The verdict, the database's counts, the CPU, and what the bot logged."""
    load, s, r = o.load, o.stats, o.report
    spread = ", ".join(f"{k}: {v:,} members" for k, v in sorted(o.messages.items()))
    acks = load.claim_acks + load.agree_acks
    over = max(acks) * 1000 if acks else 0.0
    checks = [
        (load.error_count == 0, f"{load.error_count} non-201 answers"),
        (o.once, f"exactly one draft per member: {'yes' if o.once else 'no'}"),
        (o.busiest[1] <= PER_SECOND, f"max {o.busiest[1]} sends/s into one conversation"),
    ]
    verdict = "; ".join(f"{text} [{'ok' if ok else 'MISSED'}]" for ok, text in checks)
    lines = [
        f"{o.database}: {verdict}; slowest acknowledgement {over:,.1f} ms (Teams waits 15 s)",
        f"{o.database}: the database holds {s['members']:,} members, {s['claims']:,} claims "
        f"by {s['claimants']:,} people on {s['items']} item(s), {s['drafts']:,} drafts; the "
        f"fake Connector took {r['creates']:,} new 1:1 chats and {r['sends']:,} sends "
        f"({r['failed']} refused); activities per member's 1:1 chat: {spread}",
    ]
    cpu = s.get("cpu") or {}
    if cpu:
        used = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
        lines.append(
            f"{o.database}: CPU used from the first press to the end ({o.wall:.1f} s of wall "
            f"clock, {QUIET:g} s of it quiet after the last send; {os.cpu_count()} CPUs): {used}"
        )
    if o.log_errors:
        first = [line[:300] for line in o.log_errors[:3]]
        lines.append(f"{o.database}: the bot logged {len(o.log_errors)} errors, first: {first}")
    return lines


def postgres_cpu() -> float | None:
    """CPU time (user + system) of every `postgres` process on this machine so far, from
    /proc (None elsewhere): the server is local, and its backends for the bot's pool live
    as long as the run."""
    root = Path("/proc")
    if not root.is_dir():
        return None
    total = 0.0
    for entry in root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, _, rest = stat.partition(" (")[2].rpartition(")")
        if not name.startswith("postgres"):
            continue
        fields = rest.split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class TeamsResults:
    rows: list[Row]
    findings: list[str]


async def run_once(database: str, url: str, config: TeamsConfig, progress: Progress) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="ambassador-teams-log-") as tmp:
        log = Path(tmp) / "bot.log"
        progress(f"{database}: starting the bot, the fake Connector and the digest")
        try:
            async with served("bench.teams_acks", "serve", url, str(log)) as ready:
                progress(
                    f"{database}: {config.members:,} members press Claim at {config.rate:g}/s, "
                    "then I agree"
                )
                here = Cpu({"load generator": None})
                here.start()
                database_cpu = postgres_cpu()
                began = perf_counter()
                load = await fire(ready, config, progress)
                progress(f"{database}: waiting for every draft")
                report, stats = await drain(ready, len(load.agreed_at))
                stats["cpu"] |= here.used()
                if database == "PostgreSQL" and database_cpu is not None:
                    after = postgres_cpu()
                    if after is not None:
                        stats["cpu"]["PostgreSQL"] = after - database_cpu
                wall = perf_counter() - began
        except RuntimeError as exc:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{exc}\n{tail}") from exc
        return Outcome(database, config.members, load, report, stats, wall, logged_errors(log))


async def run_teams(
    config: TeamsConfig, progress: Progress, pg_version: str | None
) -> TeamsResults:
    """PostgreSQL (when it answers), then SQLite; fresh processes and database each."""
    runs: list[tuple[str, Callable[[], Any]]] = []
    if pg_version is not None:
        runs.append(("PostgreSQL", postgres_databases))
    runs.append(("SQLite", sqlite_databases))
    results = TeamsResults([], [])
    for database, databases in runs:
        with databases() as fresh:
            o = await run_once(database, fresh(), config, progress)
        results.rows += rows_of(o)
        results.findings += findings(o)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: python -m bench.teams_acks serve … (the bench starts it)")
    sys.exit(serve_main(sys.argv[2:]))
