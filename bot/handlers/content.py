"""Managers' content commands: add, list, remove, expire."""

from __future__ import annotations

from datetime import datetime

from bot.commands import Command
from bot.context import Context
from bot.errors import InvalidInput, UsageError
from bot.handlers.args import number
from bot.messages import Heading, Message, Note, Reply, Table
from bot.router import Router
from bot.services import content
from storage.models import ContentItem


def _when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return ctx.t("content.never")
    return moment.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


async def add(ctx: Context, command: Command) -> Reply:
    """`add URL [title]`: the rest of the line after the URL is the title."""
    if not command.args:
        raise InvalidInput("content.error_url_missing")
    url = command.args[0]
    title = command.rest[len(url) :].strip() or None
    item = await content.add(
        ctx.session, url=url, title=title, summary=None, expires_at=None, now=ctx.now
    )
    return Reply.say(ctx.t("content.added", id=item.id, title=item.title, url=item.url))


async def list_items(ctx: Context, command: Command) -> Reply:
    items = await content.live(ctx.session, now=ctx.now)
    if not items:
        return Reply.say(ctx.t("content.empty"))
    rows = tuple(_row(ctx, item) for item in items)
    table = Table(
        (ctx.t("content.col_id"), ctx.t("content.col_title"), ctx.t("content.col_expires")),
        rows,
    )
    heading = ctx.t.plural("content.list_heading", len(items))
    blocks = (Heading(heading), table, Note(ctx.t("content.list_hint")))
    return Reply((Message(heading, blocks),))


def _row(ctx: Context, item: ContentItem) -> tuple[str, ...]:
    return (f"#{item.id}", f"{item.title} — {item.url}", _when(ctx, item.expires_at))


async def remove(ctx: Context, command: Command) -> Reply:
    if len(command.args) != 1:
        raise UsageError("error.usage_of", usage="remove ID")
    item = await content.remove(ctx.session, item_id=number(command.args[0]), now=ctx.now)
    return Reply.say(ctx.t("content.removed", id=item.id, title=item.title))


async def expire(ctx: Context, command: Command) -> Reply:
    """`expire ID DATE|never`: after that moment the item leaves digests and claims."""
    if len(command.args) != 2:
        raise UsageError("error.usage_of", usage="expire ID YYYY-MM-DD|never")
    item_id = number(command.args[0])
    raw = command.args[1]
    when = (
        None
        if raw.lower() in ("never", "jamais")
        else content.parse_expiry(raw, tz=ctx.settings.tz, now=ctx.now)
    )
    item = await content.set_expiry(ctx.session, item_id=item_id, expires_at=when)
    return Reply.say(ctx.t("content.expiry_set", id=item.id, when=_when(ctx, when)))


async def add_form(ctx: Context, command: Command) -> Reply:
    """The "Add content" form (a Slack modal, a Teams card): URL, title, summary, expiry
    as four arguments, empty when left blank. Without arguments: how to add by command."""
    if len(command.args) != 4:
        return Reply.say(ctx.t("content.form_hint"))
    url, title, summary, expires = command.args
    when = content.parse_expiry(expires, tz=ctx.settings.tz, now=ctx.now) if expires else None
    item = await content.add(
        ctx.session,
        url=url,
        title=title or None,
        summary=summary or None,
        expires_at=when,
        now=ctx.now,
    )
    return Reply.say(ctx.t("content.added", id=item.id, title=item.title, url=item.url))


def register(router: Router) -> None:
    router.add("add_form", add_form, role="manager", listed=False)
    router.add("add", add, role="manager", aliases=("ajouter",))
    router.add("list", list_items, role="manager", aliases=("liste",))
    router.add("remove", remove, role="manager", aliases=("retirer",))
    router.add("expire", expire, role="manager", aliases=("expiration",))
