"""Scheduling: when digests are due (DST included), and the scheduled digest happening once
— claimed in the database with everything it queues — driven by an injected clock, over the
real Slack transport (fake Web API) and both databases."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from adapters.cli.serve import RunningBot
from adapters.cli.wiring import create_app
from bot.app import Ambassador
from bot.commands import Actor, Command, Via, parse
from bot.scheduled import digest_due, housekeeping_due
from bot.services import schedule, stats
from bot.settings import Settings, parse_clock, parse_days
from storage.models import Digest, Draft, JobRun, Outbox
from tests.conftest import make_settings
from tests.fakes.slack import button
from tests.slack_world import ADMIN, CHANNEL, MANAGER, SlackWorld
from tests.test_slack_wire import text_of

PARIS = ZoneInfo("Europe/Paris")
EVERY_DAY = tuple(range(7))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


# --- the calendar -------------------------------------------------------------------------


def test_nine_o_clock_stays_nine_o_clock_across_both_dst_changes() -> None:
    # 2026-03-29: Paris goes from UTC+1 to UTC+2; 2026-10-25: back
    before = schedule.next_digest(paris(2026, 3, 27, 12), tz=PARIS, at=time(9), days=EVERY_DAY)
    after = schedule.next_digest(paris(2026, 3, 28, 12), tz=PARIS, at=time(9), days=EVERY_DAY)
    assert before.astimezone(UTC) == datetime(2026, 3, 28, 8, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    autumn = schedule.next_digest(paris(2026, 10, 24, 12), tz=PARIS, at=time(9), days=EVERY_DAY)
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 8, tzinfo=UTC)


def test_a_time_in_the_spring_gap_happens_after_the_jump_and_a_doubled_one_once() -> None:
    spring = schedule.next_digest(paris(2026, 3, 28, 12), tz=PARIS, at=time(2, 30), days=EVERY_DAY)
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 local
    assert (spring.hour, spring.minute) == (3, 30)
    autumn = schedule.next_digest(paris(2026, 10, 24, 12), tz=PARIS, at=time(2, 30), days=EVERY_DAY)
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first
    following = schedule.next_digest(autumn, tz=PARIS, at=time(2, 30), days=EVERY_DAY)
    assert following.date() == autumn.date() + timedelta(days=1)  # not the second 02:30


def test_last_digest_skips_days_off() -> None:
    sunday = paris(2026, 11, 22, 10)
    last = schedule.last_occurrence(sunday, tz=PARIS, at=time(9), days=schedule.WORKING_DAYS)
    assert last == paris(2026, 11, 20, 9)  # Friday
    monday_early = paris(2026, 11, 23, 8, 59)
    last = schedule.last_occurrence(monday_early, tz=PARIS, at=time(9), days=(0, 2, 4))
    assert last == paris(2026, 11, 20, 9)
    assert schedule.last_occurrence(paris(2026, 11, 23, 9), tz=PARIS, at=time(9)) == paris(
        2026, 11, 23, 9
    )
    assert schedule.last_occurrence(sunday, tz=PARIS, at=time(9), days=()) is None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon,wed,fri", (0, 2, 4)),
        ("lun, mer, ven", (0, 2, 4)),
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("Friday-Monday", (0, 4, 5, 6)),
        ("sun", (6,)),
        ("mon,mon", (0,)),
        ("", None),
        ("mon,funday", None),
        ("mon-wed-fri", None),
    ],
)
def test_days_in_either_language(text: str, days: tuple[int, ...] | None) -> None:
    assert parse_days(text) == days


def test_clock_times() -> None:
    assert parse_clock("8:30") == time(8, 30)
    assert parse_clock(" 23:59 ") == time(23, 59)
    for bad in ("24:00", "8h30", "08:60", ""):
        assert parse_clock(bad) is None


def test_settings_read_days_and_grace_and_refuse_nonsense() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, AMBASSADOR_DIGEST_DAYS="mon,thu", AMBASSADOR_MISFIRE_GRACE="90m"
    )
    assert settings.digest_days == (0, 3)
    assert settings.misfire_grace == timedelta(minutes=90)
    assert Settings(_env_file=None).misfire_grace == timedelta(hours=2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="mon-fri"):
        Settings(_env_file=None, AMBASSADOR_DIGEST_DAYS="weekdays")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="2h"):
        Settings(_env_file=None, AMBASSADOR_MISFIRE_GRACE="soon")  # type: ignore[call-arg]


# --- the scheduled digest, over the wire ------------------------------------------------------
# The world's clock starts on Monday 2026-11-16 at 09:00 in Paris: the default digest time.


async def add_items(w: SlackWorld, count: int = 2) -> None:
    for n in range(1, count + 1):
        await w.slack.command(MANAGER, f"add https://example.com/{n} Item number {n}")
        await w.fake.wait_for("respond", lambda c, n=n: f"Added item #{n}" in text_of(c))


async def tick(bot: RunningBot) -> str | None:
    assert bot.scheduler is not None
    return await bot.call(bot.scheduler.tick())


async def runs(w: SlackWorld) -> list[JobRun]:
    """The digest's occurrences (ticks run the nightly housekeeping too)."""
    async with w.db.transaction() as session:
        return list((await session.exec(select(JobRun).where(JobRun.job == "digest"))).all())


def digests_posted(w: SlackWorld) -> list[object]:
    return [c for c in w.fake.of("chat.postMessage") if c.params["channel"] == CHANNEL]


async def test_the_digest_goes_out_once_at_its_time_and_can_be_claimed(world: SlackWorld) -> None:
    w = world
    await add_items(w)
    w.clock.set(paris(2026, 11, 16, 8, 59))
    assert await tick(w.bot) == "missed"  # the latest occurrence: Friday 09:00, 3 days ago
    assert [r.outcome for r in await runs(w)] == ["missed"]
    w.clock.set(paris(2026, 11, 16, 9, 0, 20))
    assert await tick(w.bot) == "sent"
    (digest,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL)
    assert "Item number 2" in text_of(digest)
    assert "voluntary and unpaid" in text_of(digest)
    assert await tick(w.bot) is None  # the same occurrence: nothing again
    w.clock.advance(hours=1)
    assert await tick(w.bot) is None
    assert len(digests_posted(w)) == 1
    async with w.db.transaction() as session:  # (Monday: the admins' report went too)
        (row,) = (await session.exec(select(Outbox).where(Outbox.kind == "channel"))).all()
        assert row.status == "sent"
    # the posted digest works like one sent by hand: a Claim button
    await w.slack.click("UALICE", button(digest, "Claim 1"))
    await w.fake.wait_for("respond", lambda c: "I agree" in text_of(c))


async def test_replicas_ticking_together_post_one_digest(world: SlackWorld) -> None:
    """Two more cores on the same database, as other replicas would be, all at once."""
    w = world
    await add_items(w)
    url = w.bot.core.settings.database_url
    others = [
        create_app(make_settings(url, AMBASSADOR_DIGEST_CHANNEL=CHANNEL), clock=w.clock)
        for _ in range(2)
    ]

    class Recorder:
        platform = "slack"

        def __init__(self) -> None:
            self.queued: list[object] = []

        async def enqueue(self, session: object, message: object) -> None:
            self.queued.append(message)

    recorders = [Recorder(), Recorder()]
    w.clock.set(paris(2026, 11, 16, 9, 1))

    async def replica(app: Ambassador, recorder: Recorder) -> str | None:
        due = await digest_due(
            database=app.database, settings=app.settings, clock=w.clock, platforms=[recorder]
        )
        return due.outcome

    outcomes = await asyncio.gather(
        tick(w.bot), *(replica(app, rec) for app, rec in zip(others, recorders, strict=True))
    )
    for app in others:
        await app.database.dispose()
    assert sorted(o or "-" for o in outcomes) == ["-", "-", "sent"]
    assert sum(len(rec.queued) for rec in recorders) + len(digests_posted(w)) <= 1
    async with w.db.transaction() as session:
        assert len((await session.exec(select(Digest))).all()) == 1
        digest_runs = (await session.exec(select(JobRun).where(JobRun.job == "digest"))).all()
        assert [r.outcome for r in digest_runs] == ["sent"]


async def test_a_late_start_within_the_grace_sends_late_after_it_skips(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    await add_items(w)
    caplog.set_level(logging.INFO, "ambassador.scheduler")
    w.clock.set(paris(2026, 11, 17, 10, 59))  # Tuesday, 1 h 59 after 09:00
    assert await tick(w.bot) == "sent"
    w.clock.set(paris(2026, 11, 18, 11, 1))  # Wednesday, 2 h 1 after
    assert await tick(w.bot) == "missed"
    assert len(digests_posted(w)) == 1
    assert "skipped: 2:01:00 late, past AMBASSADOR_MISFIRE_GRACE" in caplog.text


async def test_paused_skips_and_logs_and_does_not_queue(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    await add_items(w)
    await w.slack.command(MANAGER, "pause")
    await w.fake.wait_for("respond", lambda c: "paused" in text_of(c).lower())
    caplog.set_level(logging.INFO, "ambassador.scheduler")
    w.clock.set(paris(2026, 11, 16, 9, 5))
    assert await tick(w.bot) == "paused"
    await w.slack.command(MANAGER, "resume")
    await w.fake.wait_for("respond", lambda c: "resumed" in text_of(c).lower())
    assert await tick(w.bot) is None  # skipped, not queued for later
    assert digests_posted(w) == []
    assert "skipped: the programme is paused" in caplog.text


async def test_nothing_new_means_no_post_and_repeats_wait_a_week(world: SlackWorld) -> None:
    w = world
    w.clock.set(paris(2026, 11, 16, 9, 1))
    assert await tick(w.bot) == "empty"
    await add_items(w, 1)
    w.clock.set(paris(2026, 11, 17, 9, 1))
    assert await tick(w.bot) == "sent"
    w.clock.set(paris(2026, 11, 18, 9, 1))
    assert await tick(w.bot) == "empty"  # item 1 went out yesterday
    await add_items(w, 2)  # "add" of item 1 again is refused as a duplicate; item 2 is new
    w.clock.set(paris(2026, 11, 19, 9, 1))
    assert await tick(w.bot) == "sent"
    posted = digests_posted(w)
    assert "Item number 2" in text_of(posted[-1])
    assert "Item number 1" not in text_of(posted[-1])
    w.clock.set(paris(2026, 11, 25, 9, 1))  # eight days after item 1 was sent
    assert await tick(w.bot) == "sent"
    assert "Item number 1" in text_of(digests_posted(w)[-1])


async def test_a_manager_moves_the_digest_from_chat(world: SlackWorld) -> None:
    w = world
    await add_items(w)
    await w.slack.command(MANAGER, "digest time 7:45")
    (said,) = await w.fake.wait_for("respond", lambda c: "Digests go out at" in text_of(c))
    assert "07:45 (Europe/Paris) on Mon, Tue, Wed, Thu, Fri" in text_of(said)
    await w.slack.command(MANAGER, "digest days mon,wed,fri")
    await w.fake.wait_for("respond", lambda c: "on Mon, Wed, Fri" in text_of(c))
    w.clock.set(paris(2026, 11, 17, 7, 50))  # Tuesday: not a digest day any more
    assert await tick(w.bot) == "missed"  # the latest was Monday 07:45, a day ago
    assert digests_posted(w) == []
    w.clock.set(paris(2026, 11, 18, 7, 46))  # Wednesday 07:46
    assert await tick(w.bot) == "sent"
    async with w.db.transaction() as session:
        last = (
            await session.exec(select(JobRun).order_by(col(JobRun.scheduled_at).desc()))
        ).first()
    assert last is not None
    assert last.scheduled_at == paris(2026, 11, 18, 7, 45)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("digest time 25:00", "is not a time"),
        ("digest time", "digest time HH:MM"),
        ("digest days someday", "is not a list of days"),
        ("digest days", "digest days"),
    ],
)
async def test_bad_schedule_input_is_refused_and_changes_nothing(
    world: SlackWorld, text: str, answer: str
) -> None:
    w = world
    await w.slack.command(MANAGER, text)
    await w.fake.wait_for("respond", lambda c: answer in text_of(c))
    async with w.bot.core.database.transaction() as session:
        plan = await schedule.plan(session, w.bot.core.settings)
    assert plan == schedule.Plan(time(9), (0, 1, 2, 3, 4))


async def test_members_cannot_move_the_digest(world: SlackWorld) -> None:
    w = world
    await w.slack.command("UALICE", "digest time 06:00")
    await w.fake.wait_for("respond", lambda c: "manager" in text_of(c).lower())
    async with w.bot.core.database.transaction() as session:
        assert (await schedule.plan(session, w.bot.core.settings)).at == time(9)


async def test_status_shows_schedule_outcomes_and_undelivered_messages_in_aggregate(
    world: SlackWorld,
) -> None:
    w = world
    await add_items(w)
    w.fake.fail("chat.postMessage", 200, error="not_in_channel")  # the bot left the channel
    w.clock.set(paris(2026, 11, 16, 9, 0, 30))
    assert await tick(w.bot) == "sent"
    await w.fake.wait_for("chat.postMessage:failed")
    await w.slack.command(ADMIN, "status")
    (answer,) = await w.fake.wait_for("respond", lambda c: "Programme status" in text_of(c))
    shown = text_of(answer)
    assert (
        "Digest at 09:00 (Europe/Paris) on Mon, Tue, Wed, Thu, Fri; next: 2026-11-17 09:00" in shown
    )
    assert "2026-11-16 09:00" in shown
    assert "sent" in shown
    assert "failed for good" in shown
    assert "not_in_channel" in shown
    await w.slack.command("UALICE", "status")
    await w.fake.wait_for("respond", lambda c: "admin" in text_of(c).lower())


async def test_housekeeping_runs_once_a_night_and_keeps_the_figures(world: SlackWorld) -> None:
    w = world
    core = w.bot.core
    await add_items(w, 1)
    w.clock.set(paris(2026, 11, 17, 9, 0, 30))  # a Tuesday: no weekly report in the way
    assert await tick(w.bot) == "sent"  # a delivered outbox row, with its payload
    alice = Actor("slack", "UALICE")

    async def claim() -> None:
        await core.handle(Command(alice, "agree", ("1", ""), via=Via.BUTTON))
        await core.handle(parse(alice, "claim 1"))

    await w.bot.call(claim())

    async def week_of_the_claim() -> stats.Week:
        async with w.db.transaction() as session:
            weeks = await stats.weekly(session, weeks=52, now=w.clock.now(), tz=PARIS)
        (week,) = [f for f in weeks if f.week_start.isoformat() == "2026-11-16"]  # Mon 16
        return week

    async def housekeeping() -> str | None:
        due = await housekeeping_due(database=core.database, settings=core.settings, clock=w.clock)
        return due.outcome

    async def count(model: type) -> int:
        async with w.db.transaction() as session:
            return len((await session.exec(select(model))).all())

    assert (await count(Draft), await count(Outbox)) == (1, 1)
    w.clock.set(paris(2027, 5, 15, 3, 5))  # 179 days later: the draft stays
    before = await week_of_the_claim()
    assert await housekeeping() == "done"
    assert await housekeeping() is None  # once a night
    assert (await count(Draft), await count(Outbox)) == (1, 0)  # the sent payload went
    w.clock.set(paris(2027, 5, 17, 3, 5))  # 181 days: the draft goes, the figures stay
    assert await housekeeping() == "done"
    assert await count(Draft) == 0
    after = await week_of_the_claim()
    assert (after.claims, after.drafts) == (before.claims, before.drafts) == (1, 1)


# --- charter reminders: one outbox row per person, queued with the claim ----------------------


async def join_members(w: SlackWorld, users: list[str]) -> None:
    core = w.bot.core

    async def join_all() -> None:
        for user in users:
            await core.handle(Command(Actor("slack", user), "agree", ("1", ""), via=Via.BUTTON))

    await w.bot.call(join_all())


def reminders_to(w: SlackWorld, user: str) -> list[object]:
    return [
        c
        for c in w.fake.of("chat.postMessage")
        if c.params["channel"] == "D" + user and "charter" in text_of(c).lower()
    ]


async def test_charter_reminders_ask_weekly_until_acknowledged_and_gently_monthly(
    world: SlackWorld,
) -> None:
    w = world
    await join_members(w, ["UANN", "UBEN"])
    await w.slack.command(MANAGER, "charter set Our new charter: own words, no secrets.")
    await w.fake.wait_for("respond", lambda c: "version 2 published" in text_of(c))
    w.clock.set(paris(2026, 11, 16, 11, 0, 10))
    await tick(w.bot)
    await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUBEN")
    (ann,) = reminders_to(w, "UANN")
    assert "version 2 is waiting for you" in text_of(ann)
    assert "Our new charter" in text_of(ann)
    await tick(w.bot)  # the same occurrence: nobody twice
    w.clock.set(paris(2026, 11, 18, 11, 0, 10))  # two days later: not yet again
    await tick(w.bot)
    assert len(reminders_to(w, "UANN")) == 1
    # Ann acknowledges from the reminder; Ben does not
    await w.slack.click("UANN", button(ann, "I have read it"), channel="DUANN")
    await w.fake.wait_for("respond", lambda c: "version 2 acknowledged" in text_of(c))
    w.clock.set(paris(2026, 11, 23, 11, 0, 10))  # a week after the first
    await tick(w.bot)
    await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUBEN", count=2)
    assert len(reminders_to(w, "UANN")) == 1  # acknowledged: the next is the gentle one
    w.clock.set(paris(2026, 12, 21, 11, 0, 10))  # 35 days after joining
    await tick(w.bot)
    gentle = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUANN", count=2
    )
    assert "nothing to do" in text_of(gentle[-1])
    assert "`/ambassador leave`" in text_of(gentle[-1])


async def test_a_fan_out_through_429s_and_500s_loses_nobody_and_repeats_nobody(
    world: SlackWorld,
) -> None:
    w = world
    users = [f"UM{n:02d}" for n in range(12)]
    await join_members(w, users)
    w.clock.set(paris(2026, 12, 17, 11, 0, 10))  # a month on: everyone is due a reminder
    w.fake.fail("chat.postMessage", 429, times=2, retry_after=0)
    w.fake.fail("chat.postMessage", 500, times=6)
    await tick(w.bot)
    for _ in range(6):  # the outbox sweeps that follow, each after its backoff
        w.clock.advance(minutes=45)
        await w.bot.call(w.bot.slack.retry_due())
    for user in users:
        assert len(reminders_to(w, user)) == 1, user
    async with w.db.transaction() as session:
        rows = (await session.exec(select(Outbox))).all()
    assert {r.status for r in rows} == {"sent"}
    assert len(rows) == len(users)


# --- the weekly report: figures and a chart, to admins only -----------------------------------


async def test_the_weekly_report_goes_to_each_admin_with_its_chart_once(world: SlackWorld) -> None:
    from io import BytesIO  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    w = world
    await join_members(w, ["UANN", "UBEN"])  # two joins: fewer than five, so never shown
    w.clock.set(paris(2026, 11, 23, 8, 0, 30))  # the next Monday morning
    await tick(w.bot)
    (upload,) = await w.fake.wait_for("upload")
    (shared,) = await w.fake.wait_for("files.completeUploadExternal")
    assert shared.params["channel_id"] == "D" + ADMIN
    assert "Ambassador programme, last 8 weeks" in shared.params["files"]
    chart = Image.open(BytesIO(upload.params["data"]))
    assert (chart.format, chart.size) == ("PNG", (900, 420))
    (ticket,) = w.fake.of("files.getUploadURLExternal")
    assert int(ticket.params["length"]) == len(upload.params["data"])
    (table,) = [
        c for c in w.fake.of("chat.postMessage") if "Weekly programme figures" in text_of(c)
    ]
    assert table.params["channel"] == "D" + ADMIN
    assert "&lt;5" in text_of(table) or "<5" in text_of(table)
    assert "UANN" not in text_of(table)
    await tick(w.bot)  # once a week
    assert len(w.fake.of("files.completeUploadExternal")) == 1
    members = {"UANN", "UBEN", MANAGER}
    assert not [c for c in w.fake.of("chat.postMessage") if c.params["channel"][1:] in members]
