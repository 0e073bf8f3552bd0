"""Replicas as they run in production: two `ambassador run` processes on one PostgreSQL
database, started at digest time, post one digest between them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from adapters.cli.wiring import create_app
from bot.commands import Actor, parse
from storage import migrate
from storage.models import Outbox, Person
from tests.conftest import make_settings
from tests.fakes.slack import SECRET, FakeSlack
from tests.test_slack_run import AMBASSADOR, _env

_SAID = re.compile(r"digest of .*?: (sent|already claimed)")


async def _what_it_did(process: asyncio.subprocess.Process) -> str:
    """Read a replica's log until its scheduler says what it did about the occurrence."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while line := (await process.stderr.readline()).decode():
            if found := _SAID.search(line):
                return found[1]
    raise AssertionError("the replica stopped before its first scheduler tick")


@pytest.mark.slow
async def test_two_replicas_at_digest_time_post_one_digest(
    postgres_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(postgres_url)
    app = create_app(make_settings(postgres_url, AMBASSADOR_MANAGERS="UMGR"))
    await app.handle(parse(Actor("slack", "UMGR"), "add https://example.com/a Alpha"))
    await app.database.dispose()
    fake = FakeSlack()
    await fake.start()
    # the digest was due a minute ago: each replica's first tick finds it due
    due = datetime.now(ZoneInfo("Europe/Paris")) - timedelta(minutes=1)
    env = _env(
        tmp_path,
        DATABASE_URL=postgres_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_DIGEST_CHANNEL="CDIGEST",
        AMBASSADOR_DIGEST_TIME=due.strftime("%H:%M"),
        AMBASSADOR_DIGEST_DAYS="mon-sun",
    )
    replicas = [
        await asyncio.create_subprocess_exec(
            AMBASSADOR, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        said = await asyncio.gather(*(_what_it_did(p) for p in replicas))
        assert sorted(said) == ["already claimed", "sent"]
        await fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "CDIGEST")
        for process in replicas:
            process.send_signal(signal.SIGTERM)
        for process in replicas:
            assert await asyncio.wait_for(process.wait(), 30) == 0
        posted = [c for c in fake.of("chat.postMessage") if c.params["channel"] == "CDIGEST"]
        assert len(posted) == 1
        assert "Alpha" in posted[0].blocks_text()
    finally:
        for process in replicas:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await fake.close()


def _eleven_somewhere(now: datetime) -> str:
    """A fixed-offset zone where it is now between 11:00 and 12:00: the charter reminders
    (11:00 on digest days) are due there, well within the misfire grace."""
    offset = 11 - now.astimezone(UTC).hour  # -12 … +11, and Etc/GMT signs are reversed
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


@pytest.mark.slow
async def test_a_fan_out_killed_midway_reaches_everyone_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    """500 members are due a charter reminder. The first `ambassador run` is killed with
    SIGKILL while Slack has taken its 201st direct message but not answered it yet; the
    second, started on the same database, sends the rest and finds that one in the
    conversation rather than sending it again. Slack also fails a few calls on the way."""
    members = 500
    migrate.upgrade(postgres_url)
    app = create_app(make_settings(postgres_url))
    joined = datetime.now(UTC) - timedelta(days=40)  # a gentle reminder is due
    async with app.database.transaction() as session:
        for i in range(members):
            session.add(
                Person(
                    platform="slack",
                    user_id=f"U{i:04d}",
                    member=True,
                    joined_at=joined,
                    charter_version=1,
                    created_at=joined,
                )
            )
    await app.database.dispose()
    fake = FakeSlack()
    await fake.start()
    fake.stall("chat.postMessage", after=200)
    fake.fail("chat.postMessage", 429, times=2, retry_after=1)
    fake.fail("chat.postMessage", 500, times=2)
    env = _env(
        tmp_path,
        DATABASE_URL=postgres_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_TIMEZONE=_eleven_somewhere(datetime.now(UTC)),
        AMBASSADOR_DIGEST_DAYS="mon-sun",
    )

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            AMBASSADOR,
            "run",
            env=env,
            cwd=tmp_path,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the server and its worker
        )

    def reminded() -> dict[str, int]:
        """Direct messages each member's conversation holds, as Slack would show them."""
        return {
            f"D{user}": len(fake.history.get(f"D{user}", []))
            for user in (f"U{i:04d}" for i in range(members))
        }

    first = await start()
    second: asyncio.subprocess.Process | None = None
    try:
        in_flight = (await fake.wait_for("chat.postMessage", count=201, within=60))[200]
        os.killpg(first.pid, signal.SIGKILL)  # both processes: no cleanup, 201st unanswered
        assert await first.wait() == -signal.SIGKILL
        assert sum(reminded().values()) == 201
        second = await start()
        # the rows the first process had leased wait out their lease (30 s); the one in
        # flight comes first among them, and is looked for in its conversation
        await fake.wait_until(lambda: all(reminded().values()), within=90)
        # … as is any whose attempt failed (it may have gone out all the same)
        checked = {c.params["channel"] for c in fake.of("conversations.history")}
        assert in_flight.params["channel"] in checked
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
        await fake.close()
    counts = reminded()
    assert [user for user, n in counts.items() if n != 1] == []
    app = create_app(make_settings(postgres_url))
    async with app.database.transaction() as session:
        statuses = await session.exec(
            select(col(Outbox.status), func.count()).group_by(col(Outbox.status))
        )
        assert dict(statuses.all()) == {"sent": members}
    await app.database.dispose()
