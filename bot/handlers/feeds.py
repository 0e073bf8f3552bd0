"""`feed add|list|remove`: the RSS and Atom feeds content arrives from by itself."""

from __future__ import annotations

from bot.commands import Command
from bot.context import Context
from bot.errors import InvalidInput, UsageError
from bot.handlers.args import number
from bot.handlers.content import audited, when
from bot.messages import Heading, Message, Note, Reply, Table
from bot.pages import Problem
from bot.router import Router
from bot.services import feeds
from storage.models import Feed

TRUSTED = ("trusted", "fiable", "confiance")
USAGE = "feed add URL [trusted] | feed list | feed remove ID"


def feed_url(command: Command) -> str | None:
    """The URL `feed add` reads before following it."""
    args = command.args
    if len(args) >= 2 and args[0].lower() in ("add", "ajouter"):
        return args[1]
    return None


async def add(ctx: Context, command: Command) -> Reply:
    if len(command.args) not in (2, 3):
        raise UsageError("error.usage_of", usage="feed add URL [trusted]")
    trusted = len(command.args) == 3
    if trusted and command.args[2].lower() not in TRUSTED:
        raise UsageError("error.usage_of", usage="feed add URL [trusted]")
    if ctx.feed is None:  # it could not be read: following it would only fail hourly
        problem = ctx.no_preview or Problem("pages.disabled", {})
        raise InvalidInput("feed.error_unreadable", reason=problem.said(ctx.t))
    feed = await feeds.add(ctx.session, url=command.args[1], trusted=trusted, now=ctx.now)
    if ctx.feed.title:
        feed.title = ctx.feed.title[:300]
        ctx.session.add(feed)
    await audited(ctx, "feed_add", f"feed:{feed.id}", url=feed.url, trusted=trusted)
    key = "feed.added_trusted" if trusted else "feed.added"
    return Reply.say(
        ctx.t(
            key,
            id=feed.id,
            title=feed.title or feed.url,
            entries=len(ctx.feed.entries),
            minutes=ctx.settings.feed_interval,
        )
    )


async def list_feeds(ctx: Context) -> Reply:
    followed = list(await feeds.followed(ctx.session))
    if not followed:
        return Reply.say(ctx.t("feed.empty"))
    rows = tuple(_row(ctx, feed) for feed in followed)
    table = Table(
        (
            ctx.t("feed.col_id"),
            ctx.t("feed.col_feed"),
            ctx.t("feed.col_review"),
            ctx.t("feed.col_state"),
        ),
        rows,
    )
    heading = ctx.t.plural("feed.heading", len(followed))
    blocks = (Heading(heading), table, Note(ctx.t("feed.hint", minutes=ctx.settings.feed_interval)))
    return Reply((Message(heading, blocks),))


def _row(ctx: Context, feed: Feed) -> tuple[str, ...]:
    name = f"{feed.title} — {feed.url}" if feed.title else feed.url
    review = ctx.t("feed.trusted") if feed.trusted else ctx.t("feed.reviewed")
    problem = Problem.load(feed.last_error)
    if problem is not None:
        state = ctx.t(
            "feed.state_failing", since=when(ctx, feed.failing_since), reason=problem.said(ctx.t)
        )
    elif feed.polled_at is None:
        state = ctx.t("feed.state_new")
    else:
        state = ctx.t("feed.state_ok", at=when(ctx, feed.polled_at), taken=feed.entries_taken)
    return (f"#{feed.id}", name, review, state)


async def remove(ctx: Context, command: Command) -> Reply:
    if len(command.args) != 2:
        raise UsageError("error.usage_of", usage="feed remove ID")
    feed = await feeds.remove(ctx.session, feed_id=number(command.args[1]), now=ctx.now)
    await audited(ctx, "feed_remove", f"feed:{feed.id}", url=feed.url)
    return Reply.say(ctx.t("feed.removed", id=feed.id, title=feed.title or feed.url))


async def feed(ctx: Context, command: Command) -> Reply:
    sub = command.args[0].lower() if command.args else ""
    if sub in ("add", "ajouter"):
        return await add(ctx, command)
    if sub in ("list", "liste"):
        return await list_feeds(ctx)
    if sub in ("remove", "retirer"):
        return await remove(ctx, command)
    raise UsageError("error.usage_of", usage=USAGE)


def register(router: Router) -> None:
    router.add("feed", feed, role="manager", aliases=("feeds", "flux"), previews=feed_url,
               reads="feed")  # fmt: skip
