"""`python -m bench.slack_server DATABASE_URL MEMBERS`: the real bot in a process of its own.

The load generator must not share an event loop with the bot, or its own work would show up
as acknowledgement latency. This process starts the local fake Slack Web API and the real
bot (`start_bot`, the same wiring as `ambassador run`), publishes a digest as the manager,
makes MEMBERS people already joined (straight through the core: setup, not measured), then
prints one JSON line on stdout with what the load generator needs, and serves until stdin
closes or SIGTERM. `GET /stats` on a small control server of its own reports what the bot
has done so far: claims and drafts in the database, DMs the fake has received and when.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy import distinct
from sqlmodel import col, func, select

from adapters.cli.serve import RunningBot, start_bot
from adapters.server import SLACK_PATH
from bench.lifetime import until_told_to_stop
from bot.commands import Actor, Command, Via
from bot.settings import Settings
from storage.models import Claim, Draft, PlatformMessage
from tests.fakes.slack import SECRET, Call, SlackClient, button

MANAGER, CHANNEL = "UMGR", "CDIGEST"
ITEMS = 5
JOIN_TASKS = 4  # members are made a few at a time: every agree takes the ledger head lock


def member_id(i: int) -> str:
    """The Slack user id of member `i`, the same in the bench process and here."""
    return f"U{i:05d}"


@dataclass
class RemoteFake:
    """The fake Slack Web API in a process of its own (`bench.fake_slack`), seen through
    its control routes: Slack is remote in production, so it must not share this
    interpreter's lock and garbage collector with the bot."""

    process: asyncio.subprocess.Process
    url: str
    control: str
    http: ClientSession

    @classmethod
    async def start(cls, http: ClientSession) -> RemoteFake:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.fake_slack",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        return cls(process, ready["url"], ready["control"], http)

    def response_url(self, name: str) -> str:
        return self.url.replace("/api/", f"/respond/{name}")

    async def calls(self, method: str) -> list[Call]:
        async with self.http.get(f"{self.control}/_calls", params={"method": method}) as resp:
            return [Call(method, params) for params in await resp.json()]

    async def wait_for(self, method: str, predicate: Callable[[Call], bool]) -> list[Call]:
        """Setup only: poll the fake until a matching call arrived (15 s at most)."""
        async with asyncio.timeout(15):
            while True:  # another process: there is no event to wait on, so poll
                found = [c for c in await self.calls(method) if predicate(c)]
                if found:
                    return found
                await asyncio.sleep(0.05)

    async def stats(self) -> dict[str, Any]:
        async with self.http.get(f"{self.control}/_stats") as resp:
            return dict(await resp.json())

    async def quiet(self) -> None:
        async with self.http.post(f"{self.control}/_quiet") as resp:
            await resp.read()

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 30)


class ErrorLog(logging.Handler):
    """Counts what the bot logs at ERROR or above (a failed click is acknowledged first and
    only then fails, so the HTTP status cannot show it) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            error = record.exc_info[1] if record.exc_info else None
            cause = f": {type(error).__name__}: {error}"[:300] if error else ""
            self.first.append(f"{record.getMessage()}{cause}")


ERRORS = ErrorLog()


def bench_settings(database_url: str, api_url: str) -> Settings:
    """Explicit values, so a developer's environment or .env cannot change the figures."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_MANAGERS=MANAGER,
        AMBASSADOR_DIGEST_CHANNEL=CHANNEL,
        AMBASSADOR_COMPANY="ACME",
        AMBASSADOR_LOCALE="en",
        AMBASSADOR_FETCH=False,  # the benchmarks never reach the internet
        OPENAI_API_KEY="",  # template drafts: a developer's key must not reach a real model
        AZURE_OPENAI_API_KEY="",
    )


async def publish_digest(bot: RunningBot, fake: RemoteFake) -> Call:
    """The manager adds the items and sends `digest now`, over signed HTTP as in Slack."""
    slack = SlackClient(fake.http, f"http://127.0.0.1:{bot.port}{SLACK_PATH}", fake)  # type: ignore[arg-type]
    for i in range(1, ITEMS + 1):
        await slack.command(MANAGER, f"add https://example.com/n/{i} Title {i}")
        await fake.wait_for("respond", lambda c, i=i: f"Added item #{i}" in c.blocks_text())
    await slack.command(MANAGER, "digest now")
    (digest,) = await fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == CHANNEL
    )
    return digest


async def make_members(bot: RunningBot, members: int) -> None:
    """MEMBERS people press "I agree" (charter 1, nothing pending), through the core only."""
    ids = iter(range(members))

    async def worker() -> None:
        for i in ids:  # one shared iterator: each member is made once
            actor = Actor("slack", member_id(i))
            await bot.core.handle(Command(actor, "agree", ("1", ""), via=Via.BUTTON))

    async def all_of_them() -> None:
        await asyncio.gather(*(worker() for _ in range(JOIN_TASKS)))

    await all_of_them()  # straight into the database this process shares with the worker


async def _first(bot: RunningBot, query: Any) -> Any:
    async with bot.core.database.transaction() as session:
        return (await session.exec(query)).first()


async def digest_ts(bot: RunningBot) -> str:
    """The ts the fake gave the digest: what Slack puts in a click's container. The bot
    notes it just after the post, so it may take a moment to appear (setup: polling is fine)."""
    query = select(PlatformMessage.ts).where(PlatformMessage.anchor_kind == "digest")
    async with asyncio.timeout(15):
        while True:
            found = await _first(bot, query)
            if found is not None:
                return str(found)
            await asyncio.sleep(0.05)


async def stats(bot: RunningBot, fake: RemoteFake) -> dict[str, Any]:
    """What has been stored and delivered so far."""
    counts = select(
        func.count(col(Claim.id)),
        func.count(distinct(Claim.person_id)),
        func.count(distinct(Claim.item_id)),
    )

    async def read() -> tuple[Any, Any, Any, Any]:
        async with bot.core.database.transaction() as session:
            claims, people, items = (await session.exec(counts)).one()
            drafts = (await session.exec(select(func.count(col(Draft.id))))).one()
        return claims, people, items, drafts

    claims, people, items, drafts = await read()
    return {
        "claims": int(claims),
        "claimants": int(people),
        "items": int(items),
        "drafts": int(drafts),
        **await fake.stats(),
        "logged_errors": ERRORS.count,
        "first_errors": ERRORS.first,
    }


async def control_server(
    read: Callable[[], Awaitable[dict[str, Any]]],
) -> tuple[web.AppRunner, int]:
    """`GET /stats` answers what `read` says: how the load generator reads a bot process."""

    async def handle(_request: web.Request) -> web.Response:
        return web.json_response(await read())

    app = web.Application()
    app.router.add_get("/stats", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


async def serve(database_url: str, members: int) -> None:
    logging.getLogger().addHandler(ERRORS)
    async with ClientSession() as http:
        fake = await RemoteFake.start(http)
        bot = await start_bot(
            bench_settings(database_url, fake.url), rng=random.Random(1), worker_process=True
        )
        runner: web.AppRunner | None = None
        try:
            digest = await publish_digest(bot, fake)
            await make_members(bot, members)
            runner, control = await control_server(lambda: stats(bot, fake))
            ready = {
                "endpoint": f"http://127.0.0.1:{bot.port}{SLACK_PATH}",
                "api": fake.url,
                "stats": f"http://127.0.0.1:{control}/stats",
                "button": button(digest, "Claim 1"),
                "message_ts": await digest_ts(bot),
            }
            await fake.quiet()  # production has no growing list of calls: count, do not hoard
            print(json.dumps(ready), flush=True)
            await until_told_to_stop()
        finally:
            if runner is not None:
                await runner.cleanup()
            await bot.close()
            await fake.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_server", description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("members", type=int)
    args = parser.parse_args()
    asyncio.run(serve(args.database_url, args.members))
    return 0


if __name__ == "__main__":
    sys.exit(main())
