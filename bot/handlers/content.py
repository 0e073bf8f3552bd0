"""Managers' content commands: add, list, remove, expire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import kinds
from bot.commands import Command
from bot.context import Context
from bot.errors import InvalidInput, UsageError
from bot.handlers.args import number, text_after
from bot.messages import Heading, Message, Note, Paragraph, Reply, Table
from bot.router import Router
from bot.services import audit, content
from bot.views import item_label
from storage.models import ContentItem


def when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return ctx.t("content.never")
    return moment.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


async def audited(ctx: Context, action: str, subject: str, **detail: Any) -> None:
    """Record a manager's action on content or feeds, in the action's own transaction."""
    await audit.record(
        ctx.session,
        actor=audit.actor_of(ctx.actor),
        action=action,
        subject=subject,
        now=ctx.now,
        **detail,
    )


def _kind_and_url(command: Command) -> tuple[str | None, str | None]:
    """`add [KIND] URL [title]`: a kind word may come first (`add job https://…`)."""
    args = command.args
    if len(args) > 1 and kinds.parse_kind(args[0]) is not None:
        return kinds.parse_kind(args[0]), args[1]
    return None, args[0] if args else None


def added_url(command: Command) -> str | None:
    """The URL `add` previews."""
    return _kind_and_url(command)[1]


FORM_FIELDS = 5  # url, title, summary, expires, kind


def form_url(command: Command) -> str | None:
    """The URL the Add-content form previews (its first field)."""
    return command.args[0] if len(command.args) == FORM_FIELDS and command.args[0] else None


def added(ctx: Context, item: ContentItem, *, title_given: bool) -> Reply:
    """The confirmation, with what the page's preview filled in or why there was none."""
    text = ctx.t("content.added", id=item.id, title=item.title, url=item.url)
    blocks: list[Paragraph | Note] = [Paragraph(text), Note(item_label(ctx.t, item))]
    if ctx.no_preview is not None:
        blocks.append(Note(ctx.t("content.no_preview", reason=ctx.no_preview.said(ctx.t))))
        if not title_given:
            blocks.append(Note(ctx.t("content.give_title", id=item.id)))
    return Reply((Message(text, tuple(blocks)),))


async def add(ctx: Context, command: Command) -> Reply:
    """`add [KIND] URL [title]`: the rest of the line after the URL is the title; what the
    manager leaves out comes from the page's preview."""
    kind, url = _kind_and_url(command)
    if not url:
        raise InvalidInput("content.error_url_missing")
    title = text_after(command, url)
    item = await content.add(
        ctx.session,
        url=url,
        title=title,
        summary=None,
        expires_at=None,
        now=ctx.now,
        preview=ctx.preview,
        kind=kind,
    )
    await audited(ctx, "add", f"content:{item.id}", url=item.url, title=item.title, kind=item.kind)
    return added(ctx, item, title_given=title is not None)


async def list_items(ctx: Context, command: Command) -> Reply:
    items = await content.live(ctx.session, now=ctx.now)
    if not items:
        return Reply.say(ctx.t("content.empty"))
    rows = tuple(_row(ctx, item) for item in items)
    table = Table(
        (
            ctx.t("content.col_id"),
            ctx.t("content.col_title"),
            ctx.t("content.col_kind"),
            ctx.t("content.col_expires"),
        ),
        rows,
    )
    heading = ctx.t.plural("content.list_heading", len(items))
    blocks = (Heading(heading), table, Note(ctx.t("content.list_hint")))
    return Reply((Message(heading, blocks),))


def _row(ctx: Context, item: ContentItem) -> tuple[str, ...]:
    return (
        f"#{item.id}",
        f"{item.title} — {item.url}",
        ctx.t(f"kinds.{item.kind}"),
        when(ctx, item.expires_at),
    )


async def remove(ctx: Context, command: Command) -> Reply:
    if len(command.args) != 1:
        raise UsageError("error.usage_of", usage="remove ID")
    item = await content.remove(ctx.session, item_id=number(command.args[0]), now=ctx.now)
    await audited(ctx, "remove", f"content:{item.id}", url=item.url)
    return Reply.say(ctx.t("content.removed", id=item.id, title=item.title))


async def expire(ctx: Context, command: Command) -> Reply:
    """`expire ID DATE|never`: after that moment the item leaves digests and claims."""
    if len(command.args) != 2:
        raise UsageError("error.usage_of", usage="expire ID YYYY-MM-DD|never")
    item_id = number(command.args[0])
    raw = command.args[1]
    moment = (
        None
        if raw.lower() in ("never", "jamais")
        else content.parse_expiry(raw, tz=ctx.settings.tz, now=ctx.now)
    )
    item = await content.set_expiry(ctx.session, item_id=item_id, expires_at=moment)
    await audited(
        ctx, "expire", f"content:{item.id}", expires=moment.isoformat() if moment else None
    )
    return Reply.say(ctx.t("content.expiry_set", id=item.id, when=when(ctx, moment)))


async def add_form(ctx: Context, command: Command) -> Reply:
    """The "Add content" form (a Slack modal, a Teams card): URL, title, summary, expiry
    and kind as five arguments, empty when left blank (no kind: the page's). Without
    arguments: how to add by command."""
    if len(command.args) != FORM_FIELDS:
        return Reply.say(ctx.t("content.form_hint"))
    url, title, summary, expires, kind_word = command.args
    kind = kinds.parse_kind(kind_word) if kind_word else None
    if kind_word and kind is None:
        raise InvalidInput("content.error_kind", kind=kind_word[:20])
    moment = content.parse_expiry(expires, tz=ctx.settings.tz, now=ctx.now) if expires else None
    item = await content.add(
        ctx.session,
        url=url,
        title=title or None,
        summary=summary or None,
        expires_at=moment,
        now=ctx.now,
        preview=ctx.preview,
        kind=kind,
    )
    await audited(ctx, "add", f"content:{item.id}", url=item.url, title=item.title, kind=item.kind)
    return added(ctx, item, title_given=bool(title))


def register(router: Router) -> None:
    router.add("add_form", add_form, role="manager", listed=False, previews=form_url)
    router.add("add", add, role="manager", aliases=("ajouter",), previews=added_url)
    router.add("list", list_items, role="manager", aliases=("liste",))
    router.add("remove", remove, role="manager", aliases=("retirer",))
    router.add("expire", expire, role="manager", aliases=("expiration",))
