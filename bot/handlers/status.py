"""`status`: is the programme running, when is the next digest, did the last ones go out,
and is anything stuck in the outbox. For admins; aggregates only (no recipient is named)."""

from __future__ import annotations

from bot.commands import Command
from bot.context import Context
from bot.handlers.digest import digest_channel
from bot.messages import Heading, Message, Note, Paragraph, Reply, Table
from bot.router import Router
from bot.scheduled import DIGEST
from bot.services import jobs, schedule, state
from bot.views import schedule_words
from storage import delivery


async def status(ctx: Context, command: Command) -> Reply:
    t = ctx.t
    plan = await schedule.plan(ctx.session, ctx.settings)
    tz = ctx.settings.tz
    due = schedule.next_digest(ctx.now, tz=tz, at=plan.at, days=plan.days)
    channel = await digest_channel(ctx)
    lines = [
        t("home.paused") if await state.is_paused(ctx.session) else t("home.running"),
        t("home.channel", channel=f"#{channel}" if channel else t("home.no_channel")),
        t("status.schedule", **schedule_words(t, plan, zone=ctx.settings.timezone, due=due)),
    ]
    heading = t("status.heading")
    blocks: list[Heading | Paragraph | Table | Note] = [
        Heading(heading),
        Paragraph("\n".join(lines)),
    ]
    runs = await jobs.recent(ctx.session, job=DIGEST)
    if runs:
        done = tuple(
            (
                run.scheduled_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                t(f"status.outcome_{run.outcome}"),
            )
            for run in runs
        )
        blocks.append(Table((t("status.col_due"), t("status.col_outcome")), done))
    stuck = await delivery.summary(ctx.session)
    if stuck:
        rows = tuple(
            (t(f"status.{state_}"), t(f"status.kind_{kind}"), error or "—", str(count))
            for state_, kind, error, count in stuck
        )
        columns = (
            t("status.col_state"),
            t("status.col_kind"),
            t("status.col_error"),
            t("status.col_count"),
        )
        blocks.append(Table(columns, rows))
    else:
        blocks.append(Note(t("status.outbox_empty")))
    return Reply((Message(heading, tuple(blocks)),))


def register(router: Router) -> None:
    router.add("status", status, role="admin", aliases=("etat", "état"))
