"""The Slack test world: the fake Web API, the real bot on a free port, a signing client."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession

from adapters.cli.serve import RunningBot, start_bot
from bot.clock import FixedClock
from storage.database import Database
from tests.conftest import make_settings
from tests.fakes.slack import SECRET, FakeSlack, SlackClient

MANAGER, ADMIN, CHANNEL = "UMGR", "UBOSS", "CDIGEST"


@dataclass
class SlackWorld:
    fake: FakeSlack
    bot: RunningBot
    slack: SlackClient
    clock: FixedClock
    db: Database  # the test's own connection: it looks at what the bot stored, from outside

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.bot.port}"


async def open_world(
    database_url: str, clock: FixedClock, **settings: Any
) -> AsyncIterator[SlackWorld]:
    fake = FakeSlack()
    await fake.start()
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "AMBASSADOR_PORT": "0",
        "AMBASSADOR_HOST": "127.0.0.1",
        "AMBASSADOR_MANAGERS": MANAGER,
        "AMBASSADOR_ADMINS": ADMIN,
        "AMBASSADOR_DIGEST_CHANNEL": CHANNEL,
    } | settings
    bot = await start_bot(
        make_settings(database_url, **values), clock=clock, rng=random.Random(3), sweep_every=None
    )
    db = Database(database_url)
    async with ClientSession() as http:
        try:
            yield SlackWorld(
                fake,
                bot,
                SlackClient(http, f"http://127.0.0.1:{bot.port}/slack/events", fake),
                clock,
                db,
            )
        finally:
            await bot.close()
            await fake.close()
            await db.dispose()


@pytest.fixture
async def world(migrated: str, clock: FixedClock) -> AsyncIterator[SlackWorld]:
    async for opened in open_world(migrated, clock):
        yield opened
