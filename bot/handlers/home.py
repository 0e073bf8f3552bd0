"""`home`: one person's page (Slack's App Home, a Teams card): their status and claims, the
programme's state for managers, the weekly figures for admins."""

from __future__ import annotations

from sqlmodel import col, select

from bot.commands import Command
from bot.context import Context
from bot.handlers.admin import figures_table
from bot.handlers.digest import digest_channel
from bot.handlers.review import queue_blocks
from bot.messages import Actions, Block, Button, Heading, Message, Note, Paragraph, Quote, Reply
from bot.router import Router
from bot.services import charter, content, drafts, review, schedule, state
from bot.views import days_named, forget_button
from storage import delivery
from storage.models import Claim, ContentItem

MAX_CLAIMS_SHOWN = 8
QUEUE_SHOWN = 3  # waiting items on the home page; `queue` shows more


async def home(ctx: Context, command: Command) -> Reply:
    t = ctx.t
    blocks: list[Block] = [Heading(t("home.heading"))]
    blocks += await _membership(ctx)
    blocks += await _claims(ctx)
    plan = await schedule.plan(ctx.session, ctx.settings)
    due = schedule.next_digest(ctx.now, tz=ctx.settings.tz, at=plan.at, days=plan.days)
    blocks.append(Note(t("home.next_digest", when=due.strftime("%Y-%m-%d %H:%M"))))
    if "manager" in ctx.roles:
        blocks += await _programme(ctx)
        blocks += await _review(ctx)
    if "admin" in ctx.roles:
        blocks += [Heading(t("home.figures")), *await figures_table(ctx, weeks=4)]
        failed = await delivery.failed_count(ctx.session)
        if failed:  # never silently dropped: someone who can act on it sees it
            blocks.append(Note(t("home.failed", count=failed)))
    return Reply((Message(t("home.heading"), tuple(blocks)),))


async def _membership(ctx: Context) -> list[Block]:
    t = ctx.t
    current = await charter.current_version(ctx.session)
    person = ctx.person
    if person is None or not person.member:
        return [
            Paragraph(t("home.guest")),
            Actions(
                (
                    Button(t("digest.join"), "join", style="primary"),
                    Button(t("digest.charter"), "charter"),
                )
            ),
        ]
    since = person.joined_at.astimezone(ctx.settings.tz).date() if person.joined_at else None
    acked = person.charter_version == current
    status = t("home.member", since=since.isoformat() if since else "—")
    charter_line = (
        t("charter.status_acked", version=current)
        if acked
        else t("charter.status_pending", version=current)
    )
    buttons: list[Button] = [Button(t("digest.charter"), "charter")]
    if not acked:
        buttons.insert(0, Button(t("charter.ack"), "ack", (str(current), ""), "primary"))
    buttons += [
        Button(t("home.leave"), "leave"),
        Button(t("home.mydata"), "mydata"),
        forget_button(t),
    ]
    return [Paragraph(status), Note(charter_line), Actions(tuple(buttons))]


async def _claims(ctx: Context) -> list[Block]:
    t = ctx.t
    if ctx.person is None or ctx.person.id is None:
        return []
    rows = await ctx.session.exec(
        select(Claim, ContentItem)
        .join(ContentItem, col(ContentItem.id) == col(Claim.item_id))
        .where(Claim.person_id == ctx.person.id)
        .order_by(col(Claim.created_at).desc())
        .limit(MAX_CLAIMS_SHOWN)
    )
    found = list(rows.all())
    if not found:
        return [Note(t("home.no_claims")), Note(t("home.suggest_hint"))]
    blocks: list[Block] = [Heading(t("home.claims"))]
    for claim, item in found:
        assert claim.id is not None
        latest = await drafts.latest(ctx.session, claim.id)
        state_key = "home.claim_shared" if claim.shared_at else "home.claim_open"
        blocks.append(Paragraph(t(state_key, title=item.title, url=item.url)))
        if latest is not None:
            blocks.append(Quote(latest.linkedin, label=t("draft.linkedin_label")))
        buttons = [Button(t("draft.new_version"), "new_version", (str(claim.id),))]
        if claim.shared_at is None:
            buttons.append(Button(t("draft.shared"), "shared_claim", (str(claim.id),)))
        blocks.append(Actions(tuple(buttons)))
    blocks.append(Note(t("home.suggest_hint")))
    return blocks


async def _review(ctx: Context) -> list[Block]:
    """The oldest waiting items with their buttons; the whole queue one press away."""
    waiting = list(await review.pending(ctx.session))
    if not waiting:
        return [Note(ctx.t("review.empty"))]
    blocks: list[Block] = [Heading(ctx.t.plural("review.heading", len(waiting)))]
    blocks += await queue_blocks(ctx, waiting[:QUEUE_SHOWN])
    if len(waiting) > QUEUE_SHOWN:
        blocks.append(Actions((Button(ctx.t("home.whole_queue"), "queue"),)))
    return blocks


async def _programme(ctx: Context) -> list[Block]:
    t = ctx.t
    plan = await schedule.plan(ctx.session, ctx.settings)
    days = days_named(t, plan.days)
    paused = await state.is_paused(ctx.session)
    live = await content.live(ctx.session, now=ctx.now)
    channel = await digest_channel(ctx)
    lines = [
        t("home.paused") if paused else t("home.running"),
        t("home.queue", count=len(live)),
        t("home.channel", channel=f"#{channel}" if channel else t("home.no_channel")),
        t("home.time", time=plan.at.strftime("%H:%M"), tz=ctx.settings.timezone, days=days),
    ]
    switch = (
        Button(t("home.resume"), "resume", style="primary")
        if paused
        else Button(t("home.pause"), "pause", style="danger")
    )
    buttons = (
        Button(t("home.add"), "add_form", style="primary"),
        Button(t("home.preview"), "digest", ("preview",)),
        Button(t("home.send"), "digest", ("now",)),
        switch,
    )
    return [Heading(t("home.programme")), Paragraph("\n".join(lines)), Actions(buttons)]


def register(router: Router) -> None:
    router.add("home", home, listed=False)
