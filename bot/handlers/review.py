"""Suggestions and the review queue: members suggest, managers approve, reject or edit,
and the suggester is told the outcome. Every manager action is in the audit log."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot import kinds
from bot.commands import Command
from bot.context import Context
from bot.errors import Forbidden, InvalidInput, UsageError
from bot.handlers.args import number, text_after
from bot.handlers.content import audited, when
from bot.i18n import Translator
from bot.messages import (
    Actions,
    Audience,
    Block,
    Button,
    Confirm,
    Heading,
    Message,
    Note,
    Paragraph,
    Reply,
)
from bot.router import Router
from bot.services import content, people, review
from bot.views import item_label
from storage.models import ContentItem, Feed, Person

MAX_WAITING_PER_PERSON = 10  # one member's suggestions waiting at once
SHOWN = 10  # items the queue shows at once, oldest first


def suggested_url(command: Command) -> str | None:
    return command.args[0] if command.args else None


async def suggest(ctx: Context, command: Command) -> Reply:
    """`suggest URL [why]`: a member passes a link to the comms team, who decide."""
    if not ctx.is_member():
        raise Forbidden("review.error_members_only")
    if not command.args:
        raise UsageError("error.usage_of", usage="suggest URL [why]")
    assert ctx.person is not None
    assert ctx.person.id is not None
    url = command.args[0]
    why = text_after(command, url)
    waiting = await ctx.session.exec(
        select(func.count())
        .select_from(ContentItem)
        .where(ContentItem.suggested_by == ctx.person.id)
        .where(ContentItem.status == content.PENDING)
    )
    if waiting.one() >= MAX_WAITING_PER_PERSON:
        raise InvalidInput("review.error_too_many", limit=MAX_WAITING_PER_PERSON)
    item = await content.add(
        ctx.session,
        url=url,
        title=None,
        summary=None,
        expires_at=None,
        now=ctx.now,
        preview=ctx.preview,
        status=content.PENDING,
        origin="suggestion",
        suggested_by=ctx.person.id,
        note=why,
    )
    await _tell_managers(ctx, item)
    return Reply.say(ctx.t("review.suggested", id=item.id, title=item.title))


async def _tell_managers(ctx: Context, item: ContentItem) -> None:
    """Managers on the suggester's platform hear of it at once, with the buttons to act."""
    holders = await people.role_holders(ctx.session, ctx.settings, ctx.actor.platform)
    t = Translator(ctx.settings.locale)
    for manager in holders["manager"]:
        if manager == ctx.actor.user_id:
            continue
        text = t("review.new_suggestion", id=item.id, title=item.title, url=item.url)
        blocks = (Paragraph(text), *_why(t, item), _buttons(t, item))
        await ctx.tell_person(ctx.actor.platform, manager, Message(text, blocks, Audience.DIRECT))


def _why(t: Translator, item: ContentItem) -> tuple[Block, ...]:
    return (Note(t("review.why", why=item.suggestion_note)),) if item.suggestion_note else ()


def _buttons(t: Translator, item: ContentItem) -> Actions:
    assert item.id is not None
    confirm = Confirm(
        t("review.reject_confirm_title"),
        t("review.reject_confirm", title=item.title),
        t("review.reject"),
        t("review.keep"),
    )
    return Actions(
        (
            Button(t("review.approve"), "approve", (str(item.id),), style="primary"),
            Button(t("review.reject"), "reject", (str(item.id),), style="danger", confirm=confirm),
        )
    )


async def queue(ctx: Context, command: Command) -> Reply:
    """`queue`: what waits for review, oldest first, each with its buttons."""
    waiting = list(await review.pending(ctx.session))
    if not waiting:
        return Reply.say(ctx.t("review.empty"))
    heading = ctx.t.plural("review.heading", len(waiting))
    blocks: list[Block] = [Heading(heading)]
    blocks.extend(await queue_blocks(ctx, waiting[:SHOWN]))
    if len(waiting) > SHOWN:
        blocks.append(Note(ctx.t("review.more", count=len(waiting) - SHOWN)))
    blocks.append(Note(ctx.t("review.hint")))
    return Reply((Message(heading, tuple(blocks)),))


async def queue_blocks(ctx: Context, items: list[ContentItem]) -> list[Block]:
    """Each waiting item: what and where from, why, and Approve / Reject."""
    titles = await _feed_titles(ctx, items)
    blocks: list[Block] = []
    for item in items:
        if item.origin == "suggestion":
            source = ctx.t("review.from_member")
        else:
            source = ctx.t("review.from_feed", feed=titles.get(item.feed_id or 0, "?"))
        line = ctx.t("review.line", id=item.id, title=item.title, url=item.url)
        blocks.append(Paragraph(f"{line}\n{item_label(ctx.t, item)} · {source}"))
        blocks.extend(_why(ctx.t, item))
        blocks.append(_buttons(ctx.t, item))
    return blocks


async def _feed_titles(ctx: Context, items: list[ContentItem]) -> dict[int, str]:
    ids = {item.feed_id for item in items if item.feed_id is not None}
    if not ids:
        return {}
    result = await ctx.session.exec(select(Feed).where(col(Feed.id).in_(ids)))
    return {feed.id: feed.title or feed.url for feed in result.all() if feed.id is not None}


async def approve(ctx: Context, command: Command) -> Reply:
    """`approve ID [KIND]`: from the next digest on, members see it."""
    if not 1 <= len(command.args) <= 2:
        raise UsageError("error.usage_of", usage="approve ID [article|job|event|training]")
    kind = None
    if len(command.args) == 2:
        kind = kinds.parse_kind(command.args[1])
        if kind is None:
            raise InvalidInput("content.error_kind", kind=command.args[1][:20])
    item = await review.approve(
        ctx.session, item_id=number(command.args[0]), now=ctx.now, kind=kind
    )
    await audited(ctx, "approve", f"content:{item.id}", url=item.url, kind=item.kind)
    await _tell_suggester(ctx, item, "review.told_approved")
    return Reply.say(ctx.t("review.approved", id=item.id, title=item.title))


async def reject(ctx: Context, command: Command) -> Reply:
    """`reject ID [reason]`: the suggester is told, with the reason if there is one."""
    if not command.args:
        raise UsageError("error.usage_of", usage="reject ID [reason]")
    raw = command.args[0]
    reason = text_after(command, raw)
    item = await review.reject(ctx.session, item_id=number(raw), now=ctx.now, reason=reason)
    await audited(ctx, "reject", f"content:{item.id}", url=item.url, reason=item.review_note)
    await _tell_suggester(ctx, item, "review.told_rejected")
    return Reply.say(ctx.t("review.rejected", id=item.id, title=item.title))


async def _tell_suggester(ctx: Context, item: ContentItem, key: str) -> None:
    if item.suggested_by is None:
        return
    person = await ctx.session.get(Person, item.suggested_by)
    if person is None or not person.member:
        return  # they left: the bot does not write to people who left
    t = Translator(person.language or ctx.settings.locale)
    text = t(key, title=item.title, url=item.url)
    blocks: list[Block] = [Paragraph(text)]
    if key == "review.told_rejected" and item.review_note:
        blocks.append(Note(t("review.told_reason", reason=item.review_note)))
    await ctx.tell_person(
        person.platform, person.user_id, Message(text, tuple(blocks), Audience.DIRECT)
    )


async def edit(ctx: Context, command: Command) -> Reply:
    """`edit ID title|summary|expires|kind VALUE`: one field of a waiting or live item."""
    if len(command.args) < 3:
        raise UsageError("error.usage_of", usage="edit ID title|summary|expires|kind VALUE")
    raw_id, field = command.args[0], command.args[1]
    after_id = text_after(command, raw_id) or ""
    value = after_id[after_id.find(field) + len(field) :].strip()
    item, name = await review.edit(
        ctx.session,
        item_id=number(raw_id),
        field=field,
        value=value,
        tz=ctx.settings.tz,
        now=ctx.now,
    )
    shown = {
        "title": item.title,
        "summary": item.summary or "—",
        "expires": when(ctx, item.expires_at),
        "kind": ctx.t(f"kinds.{item.kind}"),
    }[name]
    await audited(ctx, "edit", f"content:{item.id}", field=name, value=shown)
    return Reply.say(
        ctx.t("review.edited", id=item.id, field=ctx.t(f"review.field_{name}"), value=shown)
    )


def register(router: Router) -> None:
    router.add("suggest", suggest, aliases=("suggérer", "suggerer", "proposer"),
               previews=suggested_url)  # fmt: skip
    router.add("queue", queue, role="manager", aliases=("file", "attente"))
    router.add("approve", approve, role="manager", aliases=("approuver", "valider"))
    router.add("reject", reject, role="manager", aliases=("rejeter", "refuser"))
    router.add("edit", edit, role="manager", aliases=("modifier",))
