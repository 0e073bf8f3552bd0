"""Delivery to a local fake Slack: pacing per channel, cached lookups, the outbox's end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from adapters.cli.wiring import slack_client
from adapters.outbox import LEASE, RETRY_DELAYS
from adapters.slack.delivery import Origin, SlackDelivery
from bot.app import Ambassador
from bot.clock import FixedClock
from bot.commands import Actor, Command
from bot.messages import Audience, Message, Paragraph, Reply
from storage import delivery
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


async def _queue_one(app: Ambassador, slack: SlackDelivery, clock: FixedClock, **kind: str) -> None:
    """One outbox row due now, as a scheduled fan-out queues it: a DM, or a file."""
    async with app.database.transaction() as session:
        if "file" in kind:
            await slack.enqueue_file(
                session, to="UANN", filename=kind["file"], title="Week 48", content=b"PNG"
            )
        else:
            await slack.enqueue(session, _to(Audience.DIRECT, "reminder").messages[0], to="UANN")


async def _rows(app: Ambassador) -> list[Outbox]:
    async with app.database.transaction() as session:
        return list((await session.exec(select(Outbox).order_by(Outbox.id))).all())


@pytest.mark.parametrize("method", ["chat.postMessage", "files.completeUploadExternal"])
async def test_a_send_slack_took_but_never_answered_is_not_made_twice(
    app: Ambassador, fake: FakeSlack, clock: FixedClock, method: str
) -> None:
    """Slack accepts the message (or shares the file) and the answer never comes: the
    attempt times out. The retry finds it in the conversation and sends nothing more."""
    slack = _delivery(app, fake, clock, FakeTime())
    slack.send_budget = 0.5
    if method == "chat.postMessage":
        await _queue_one(app, slack, clock)
    else:
        await _queue_one(app, slack, clock, file="ambassador-week-48.png")
    fake.stall(method, after=0)
    assert await slack.retry_due() == 0  # timed out; Slack has it all the same
    (row,) = await _rows(app)
    assert (row.status, row.last_error) == ("pending", "TimeoutError")
    assert row.sending_since is not None
    clock.advance(seconds=RETRY_DELAYS[0] + 1)
    assert await slack.retry_due() == 1
    assert len(fake.of(method)) == 1
    assert len(fake.history["DUANN"]) == 1
    (row,) = await _rows(app)
    assert (row.status, row.sending_since) == ("sent", None)
    (looked,) = fake.of("conversations.history")
    assert looked.params["channel"] == "DUANN"


async def test_a_send_that_never_reached_slack_is_made_on_the_retry(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    slack = _delivery(app, fake, clock, FakeTime())
    await _queue_one(app, slack, clock)
    fake.fail("chat.postMessage", 400, error="fatal_error")
    assert await slack.retry_due() == 0
    clock.advance(seconds=RETRY_DELAYS[0] + 1)
    assert await slack.retry_due() == 1
    assert len(fake.history["DUANN"]) == 1  # looked for, not found, sent
    assert len(fake.of("conversations.history")) == 1


async def test_a_channel_message_cannot_be_checked_and_is_sent_again(
    app: Ambassador, fake: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot does not read channels (no channels:history): after an attempt that may have
    gone out, a channel message goes again rather than never, and the log says so."""
    slack = _delivery(app, fake, clock, FakeTime())
    slack.send_budget = 0.5
    async with app.database.transaction() as session:
        await slack.enqueue(session, _to(Audience.CHANNEL, "the digest").messages[0])
    fake.stall("chat.postMessage", after=0)
    assert await slack.retry_due() == 0
    clock.advance(seconds=RETRY_DELAYS[0] + 1)
    assert await slack.retry_due() == 1
    assert len(fake.history["CDIGEST"]) == 2
    assert fake.of("conversations.history") == []
    assert "may have gone out before; sending it again" in caplog.text


async def test_replicas_never_send_a_row_the_other_holds(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    """Replica A leases a batch and stalls; its lease runs out and replica B takes the rows
    and sends them. When A gets to them, they are no longer its to send."""
    a = _delivery(app, fake, clock, FakeTime())
    b = _delivery(app, fake, clock, FakeTime())
    for _ in range(3):
        await _queue_one(app, a, clock)
    async with app.database.transaction() as session:
        leased = await delivery.lease_due(
            session, platform="slack", owner=a.owner, now=clock.now(), lease=LEASE
        )
    assert len(leased) == 3
    assert await b.retry_due() == 0  # leased by A: left alone
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await b.retry_due() == 3  # A's lease ran out
    async with app.database.transaction() as session:
        held = await delivery.start_sending(
            session, row_id=leased[0].id or 0, owner=a.owner, now=clock.now(), lease=LEASE
        )
    assert held is None
    assert len(fake.of("chat.postMessage")) == 3


async def test_a_stopping_sender_hands_back_the_rows_it_has_not_started(
    app: Ambassador, fake: FakeSlack, clock: FixedClock
) -> None:
    a = _delivery(app, fake, clock, FakeTime())
    for _ in range(3):
        await _queue_one(app, a, clock)
    stop = asyncio.Event()
    stop.set()
    assert await a.retry_due(stop) == 0
    assert fake.of("chat.postMessage") == []
    assert {row.owner for row in await _rows(app)} == {None}
    b = _delivery(app, fake, clock, FakeTime())
    assert await b.retry_due() == 3  # at once, not after the lease
