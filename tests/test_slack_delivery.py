"""Delivery to a local fake Slack: pacing per channel, cached lookups, the outbox's end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from adapters.cli.wiring import slack_client
from adapters.slack.delivery import RETRY_DELAYS, Origin, SlackDelivery
from bot.app import Ambassador
from bot.clock import FixedClock
from bot.commands import Actor, Command
from bot.messages import Audience, Message, Paragraph, Reply
from storage.models import Outbox
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack


class FakeTime:
    """A monotonic clock that only moves when the delivery sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.close()


def _delivery(app: Ambassador, fake: FakeSlack, clock: FixedClock, time: FakeTime) -> SlackDelivery:
    settings = make_settings(
        app.settings.database_url, SLACK_BOT_TOKEN="xoxb-t", SLACK_API_URL=fake.url
    )
    return SlackDelivery(
        slack_client(settings),
        app.database,
        clock,
        default_channel="CDIGEST",
        monotonic=time.monotonic,
        sleep=time.sleep,
    )


def _to(audience: Audience, text: str, channel: str | None = None) -> Reply:
    return Reply((Message(text, (Paragraph(text),), audience, channel=channel),))


async def test_one_post_per_second_per_channel(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    time = FakeTime()
    slack = _delivery(app, fake, clock, time)
    for n in range(3):
        await slack.deliver(_to(Audience.CHANNEL, f"post {n}"), Origin("UMGR"))
    await slack.deliver(_to(Audience.CHANNEL, "elsewhere", channel="COTHER"), Origin("UMGR"))
    posts = fake.of("chat.postMessage")
    assert [c.params["channel"] for c in posts] == ["CDIGEST"] * 3 + ["COTHER"]
    assert time.waits == [1.0, 1.0]  # the other channel did not wait


async def test_direct_messages_reuse_the_conversation(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    slack = _delivery(app, fake, clock, FakeTime())
    for n in range(3):
        await slack.deliver(_to(Audience.DIRECT, f"draft {n}"), Origin("UANN"))
    assert len(fake.of("conversations.open")) == 1
    assert [c.params["channel"] for c in fake.of("chat.postMessage")] == ["DUANN"] * 3


async def test_a_delivery_that_keeps_failing_ends_failed_and_visible(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    slack = _delivery(app, fake, clock, FakeTime())
    fake.fail("chat.postMessage", 500, times=3)
    await slack.deliver(_to(Audience.CHANNEL, "the digest"), Origin("UMGR", "CGENERAL"))
    for _ in RETRY_DELAYS:
        fake.fail("chat.postMessage", 500, times=3)
        clock.advance(hours=1)
        assert await slack.retry_due() == 0
    async with app.database.transaction() as session:
        (row,) = (await session.exec(select(Outbox))).all()
    assert row.status == "failed"
    assert row.attempts == len(RETRY_DELAYS) + 1
    assert row.last_error == "internal_error"
    clock.advance(hours=1)
    assert await slack.retry_due() == 0  # failed rows are not retried for ever
    assert fake.of("chat.postMessage") == []
    # …and admins see it on their Home tab
    home = await app.handle(Command(Actor("slack", "boss"), "home"))
    assert "never accepted after every retry: 1" in str(home)
    member_home = await app.handle(Command(Actor("slack", "someone"), "home"))
    assert "never accepted" not in str(member_home)


async def test_a_permanent_refusal_tells_the_manager(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    slack = _delivery(app, fake, clock, FakeTime())
    fake.fail("chat.postMessage", 200, error="not_in_channel")
    await slack.deliver(_to(Audience.CHANNEL, "the digest"), Origin("UMGR", "CGENERAL"))
    (told,) = await fake.wait_for("chat.postEphemeral")
    assert "/invite @Ambassador" in told.blocks_text()
    async with app.database.transaction() as session:
        rows = (await session.exec(select(Outbox))).all()
    assert rows == []  # retrying would not help; the manager knows what to do
