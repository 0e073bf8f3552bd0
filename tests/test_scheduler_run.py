"""Replicas as they run in production: two `ambassador run` processes on one PostgreSQL
database, started at digest time, post one digest between them."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.cli.wiring import create_app
from bot.commands import Actor, parse
from storage import migrate
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
