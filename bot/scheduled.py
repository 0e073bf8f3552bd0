"""The scheduled jobs, platform-neutral: what is due, claimed once, and what it sends.

The scheduler in `adapters/scheduler.py` only ticks; each tick calls these functions, which
read the time from the clock and the schedule from the database (a manager may change it
from chat on any replica). An occurrence is claimed (`jobs.claim`) in the same transaction
as everything it produces: digest records and one outbox row per channel. So either the
occurrence happened, entirely, or it did not, and the outbox delivers what it queued,
retried with backoff and marked sent only once the platform accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chart import weekly_chart
from bot.clock import Clock
from bot.i18n import Translator
from bot.messages import Anchor
from bot.outbound import Outbound
from bot.services import charter, digests, drafts, jobs, people, schedule, state, stats
from bot.settings import Settings
from bot.views import charter_recall, weekly_report
from bot.views import digest as digest_view
from storage import delivery
from storage.database import Database
from storage.models import JobRun, Person

log = logging.getLogger("ambassador.scheduler")
DIGEST = "digest"
HOUSEKEEPING = "housekeeping"
REPORT = "report"
REPORT_AT = time(8, 0)  # Monday morning, local time, before the digest
REPORT_WEEKS = 8
REMINDERS = "reminders"
REMINDERS_AT = time(11, 0)  # local time, on digest days: after the morning's digest
ACK_AGAIN = timedelta(days=7)  # a charter still to acknowledge is recalled weekly at most
HOUSEKEEPING_AT = time(3, 0)  # local time, every day: a quiet hour
EVERY_DAY = tuple(range(7))
SENT_KEPT = timedelta(days=7)  # delivered messages' payloads, kept for a look back
SEEN_KEPT = timedelta(days=1)  # platforms stop retrying an event after minutes


@dataclass(frozen=True)
class Due:
    """A tick's look at one job: its latest occurrence, and what this tick did about it
    (`outcome` None: claimed already, by another replica or an earlier run)."""

    at: datetime | None
    outcome: str | None = None


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z")


async def _open(
    session: AsyncSession, *, job: str, due: datetime, now: datetime, settings: Settings
) -> JobRun | Due:
    """Claim the occurrence; a `Due` instead when it was taken already, or when it is
    skipped (settled and logged, never kept for later): too late, or the programme paused."""
    run = await jobs.claim(session, job=job, scheduled_at=due, now=now)
    if run is None:
        return Due(due)
    late = now - due
    if late > settings.misfire_grace:
        jobs.settle(run, "missed", f"{late} late")
        log.warning(
            "%s of %s skipped: %s late, past AMBASSADOR_MISFIRE_GRACE (the bot was down)",
            job,
            when(due),
            late,
        )
        return Due(due, "missed")
    if await state.is_paused(session):
        jobs.settle(run, "paused")
        log.info("%s of %s skipped: the programme is paused", job, when(due))
        return Due(due, "paused")
    return run


async def digest_due(
    *, database: Database, settings: Settings, clock: Clock, platforms: Sequence[Outbound]
) -> Due:
    """Run the latest digest occurrence if nobody has; the outcome says what it did (sent,
    empty, paused, missed, no_channel)."""
    now = clock.now()
    async with database.transaction() as session:
        plan = await schedule.plan(session, settings)
        due = schedule.last_occurrence(now, tz=settings.tz, at=plan.at, days=plan.days)
        if due is None:
            return Due(None)
        run = await _open(session, job=DIGEST, due=due, now=now, settings=settings)
        if isinstance(run, Due):
            return run
        outcome = await _digest(
            session, run, due=due, now=now, settings=settings, platforms=platforms
        )
        return Due(due, outcome)


async def _digest(
    session: AsyncSession,
    run: JobRun,
    *,
    due: datetime,
    now: datetime,
    settings: Settings,
    platforms: Sequence[Outbound],
) -> str:
    """What the claimed occurrence `run` does, in the claim's own transaction."""
    label = when(due)
    items = await digests.fresh_items(
        session, now=now, size=settings.digest_size, repeat_days=settings.digest_repeat_days
    )
    if not items:
        jobs.settle(run, "empty")
        log.info("digest of %s: nothing new to share, no post", label)
        return "empty"
    t = Translator(settings.locale)
    sent = []
    for outbound in platforms:
        channel = await state.get(session, state.digest_channel_key(outbound.platform))
        channel = channel or settings.default_digest_channel(outbound.platform)
        if not channel:
            log.warning("digest of %s: no digest channel on %s", label, outbound.platform)
            continue
        record = await digests.record(
            session, platform=outbound.platform, channel=channel, items=items, now=now
        )
        assert record.id is not None
        message = digest_view(t, items, anchor=Anchor("digest", record.id), channel=channel)
        await outbound.enqueue(session, message)
        sent.append(f"{outbound.platform}:{channel}")
    outcome = "sent" if sent else "no_channel"
    jobs.settle(run, outcome, ", ".join(sent) or None)
    log.info("digest of %s: %s (%d items) to %s", label, outcome, len(items), sent or "-")
    return outcome


async def housekeeping_due(*, database: Database, settings: Settings, clock: Clock) -> Due:
    """Once a day: drafts past `AMBASSADOR_RETENTION_DAYS`, delivered messages' payloads
    and old deduplication keys are deleted. Runs while paused too: it sends nothing."""
    now = clock.now()
    async with database.transaction() as session:
        due = schedule.last_occurrence(
            now, tz=settings.tz, at=HOUSEKEEPING_AT, days=tuple(range(7))
        )
        assert due is not None
        run = await jobs.claim(session, job=HOUSEKEEPING, scheduled_at=due, now=now)
        if run is None:
            return Due(due)
        gone = await drafts.delete_older_than(
            session, before=now - timedelta(days=settings.retention_days)
        )
        sent = await delivery.forget_sent_before(session, before=now - SENT_KEPT)
        await delivery.forget_seen_before(session, before=now - SEEN_KEPT)
        jobs.settle(run, "done", f"{gone} drafts, {sent} delivered messages")
        log.info(
            "housekeeping of %s: %d old drafts and %d delivered messages deleted",
            when(due),
            gone,
            sent,
        )
        return Due(due, "done")


async def reminders_due(
    *, database: Database, settings: Settings, clock: Clock, platforms: Sequence[Outbound]
) -> Due:
    """Charter reminders, on digest days at 11:00: members who have not acknowledged the
    current version are asked to, at most weekly until they do; everyone else is reminded
    gently every `AMBASSADOR_CHARTER_REMINDER_DAYS`. One outbox row per person, queued with
    the claim and with each person's "reminded" time: a crash midway resumes, nobody twice."""
    now = clock.now()
    async with database.transaction() as session:
        plan = await schedule.plan(session, settings)
        due = schedule.last_occurrence(now, tz=settings.tz, at=REMINDERS_AT, days=plan.days)
        if due is None:
            return Due(None)
        run = await _open(session, job=REMINDERS, due=due, now=now, settings=settings)
        if isinstance(run, Due):
            return run
        version = await charter.current_version(session)
        outbound = {o.platform: o for o in platforms}
        gentle_after = timedelta(days=settings.charter_reminder_days)
        members = await session.exec(
            select(Person).where(col(Person.member).is_(True)).order_by(col(Person.id))
        )
        asked = gentle = 0
        texts: dict[str, charter.Charter] = {}
        for person in members.all():
            platform = outbound.get(person.platform)
            pending = person.charter_version != version
            # a gentle reminder counts from the latest word the bot had with them about it
            gentle_base = (person.reminded_at, person.ack_reminded_at, person.joined_at)
            last = (
                person.ack_reminded_at if pending else max(filter(None, gentle_base), default=None)
            )
            wait = ACK_AGAIN if pending else gentle_after
            if platform is None or (last is not None and now - last < wait):
                continue
            language = person.language or settings.locale
            if language not in texts:  # once per language, not once per person
                texts[language] = await charter.current(session, Translator(language))
            t, text = Translator(language), texts[language]
            await platform.enqueue(
                session, charter_recall(t, text, pending=pending), to=person.user_id
            )
            if pending:
                person.ack_reminded_at, asked = now, asked + 1
            else:
                person.reminded_at, gentle = now, gentle + 1
            session.add(person)
        outcome = "sent" if asked or gentle else "empty"
        jobs.settle(run, outcome, f"{asked} to acknowledge, {gentle} gentle")
        log.info("charter reminders of %s: %d to acknowledge, %d gentle", when(due), asked, gentle)
        return Due(due, outcome)


async def report_due(
    *, database: Database, settings: Settings, clock: Clock, platforms: Sequence[Outbound]
) -> Due:
    """Monday 08:00: the last weeks' figures (people counts under the minimum group hidden)
    and their chart, by direct message to each admin — queued with the claim."""
    now = clock.now()
    async with database.transaction() as session:
        due = schedule.last_occurrence(now, tz=settings.tz, at=REPORT_AT, days=(0,))
        assert due is not None
        run = await _open(session, job=REPORT, due=due, now=now, settings=settings)
        if isinstance(run, Due):
            return run
        weeks = await stats.weekly(session, weeks=REPORT_WEEKS, now=now, tz=settings.tz)
        sent = 0
        for outbound in platforms:
            for admin in await people.admins(session, settings, platform=outbound.platform):
                t = Translator(settings.locale)
                await outbound.enqueue(
                    session, weekly_report(t, weeks, min_group=settings.min_group), to=admin
                )
                await outbound.enqueue_file(
                    session,
                    to=admin,
                    filename=f"ambassador-{weeks[-1].week_start.isoformat()}.png",
                    title=t("report.chart_title", weeks=len(weeks)),
                    content=weekly_chart(weeks, t, min_group=settings.min_group),
                )
                sent += 1
        outcome = "sent" if sent else "empty"
        jobs.settle(run, outcome, f"{sent} admins")
        log.info("weekly report of %s: %d admins", when(due), sent)
        return Due(due, outcome)
