"""`digest preview` and `digest now`: what members will see, and sending it."""

from __future__ import annotations

import re

from bot.commands import Command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, Paused, UsageError
from bot.i18n import Translator
from bot.messages import Anchor, Audience, Reply
from bot.router import Router
from bot.services import content, digests, schedule, state
from bot.settings import parse_clock, parse_days
from bot.views import digest as digest_view
from bot.views import schedule_words

CONSOLE = "console"  # the one platform with no channels: the digest is shown to everyone
_CHANNEL = re.compile(r"^[\w.:@-]{1,128}$")


async def preview(ctx: Context, command: Command) -> Reply:
    items = await content.live(ctx.session, now=ctx.now, limit=ctx.settings.digest_size)
    if not items:
        raise NotFound("digest.empty")
    t = Translator(ctx.settings.locale)  # the digest speaks the programme's language
    message = digest_view(t, items, anchor=None, audience=Audience.REQUESTER, preview=True)
    return Reply((message,))


async def send_now(ctx: Context, command: Command) -> Reply:
    if await state.is_paused(ctx.session):
        raise Paused("error.paused")
    items = await content.live(ctx.session, now=ctx.now, limit=ctx.settings.digest_size)
    if not items:
        raise NotFound("digest.empty")
    channel = await digest_channel(ctx)
    if channel is None and ctx.actor.platform != CONSOLE:
        raise NotFound("digest.no_channel")
    record = await digests.record(
        ctx.session, platform=ctx.actor.platform, channel=channel, items=items, now=ctx.now
    )
    assert record.id is not None
    t = Translator(ctx.settings.locale)
    posted = digest_view(t, items, anchor=Anchor("digest", record.id), channel=channel)
    return Reply((posted,)) + Reply.say(ctx.t.plural("digest.sent", len(items)))


async def digest_channel(ctx: Context) -> str | None:
    """The channel chosen in chat for this platform, else `AMBASSADOR_DIGEST_CHANNEL`."""
    chosen = await state.get(ctx.session, state.digest_channel_key(ctx.actor.platform))
    return chosen or ctx.settings.default_digest_channel(ctx.actor.platform)


async def set_channel(ctx: Context, command: Command) -> Reply:
    """`digest channel #name`: adapters hand the channel's id as the argument, and may add
    the name people know it by (Teams' ids are not something anyone reads)."""
    if len(command.args) < 2:
        raise UsageError("error.usage_of", usage="digest channel #channel")
    channel = command.args[1].lstrip("#")
    if not _CHANNEL.match(channel):
        raise InvalidInput("digest.error_channel", channel=command.args[1][:80])
    await state.put(ctx.session, state.digest_channel_key(ctx.actor.platform), channel)
    shown = " ".join(command.args[2:])[:80] or channel
    return Reply.say(ctx.t("digest.channel_set", channel=shown))


async def set_time(ctx: Context, command: Command) -> Reply:
    """`digest time 08:30`: every replica follows it from its next tick."""
    if len(command.args) != 2:
        raise UsageError("error.usage_of", usage="digest time HH:MM")
    at = parse_clock(command.args[1])
    if at is None:
        raise InvalidInput("digest.error_time", value=command.args[1][:20])
    await state.put(ctx.session, schedule.TIME_KEY, at.strftime("%H:%M"))
    return await _schedule_said(ctx)


async def set_days(ctx: Context, command: Command) -> Reply:
    """`digest days mon,wed,fri` (or `lun,mer,ven`, `mon-fri`)."""
    text = " ".join(command.args[1:])
    if not text:
        raise UsageError("error.usage_of", usage="digest days mon,tue,wed,thu,fri")
    days = parse_days(text)
    if days is None:
        raise InvalidInput("digest.error_days", value=text[:40])
    await state.put(ctx.session, schedule.DAYS_KEY, ",".join(map(str, days)))
    return await _schedule_said(ctx)


async def _schedule_said(ctx: Context) -> Reply:
    plan = await schedule.plan(ctx.session, ctx.settings)
    due = schedule.next_digest(ctx.now, tz=ctx.settings.tz, at=plan.at, days=plan.days)
    words = schedule_words(ctx.t, plan, zone=ctx.settings.timezone, due=due)
    return Reply.say(ctx.t("digest.schedule_set", **words))


async def digest(ctx: Context, command: Command) -> Reply:
    sub = command.args[0].lower() if command.args else ""
    if sub in ("preview", "apercu", "aperçu"):
        return await preview(ctx, command)
    if sub in ("now", "maintenant"):
        return await send_now(ctx, command)
    if sub in ("channel", "canal"):
        return await set_channel(ctx, command)
    if sub in ("time", "heure"):
        return await set_time(ctx, command)
    if sub in ("days", "jours"):
        return await set_days(ctx, command)
    raise UsageError("error.usage_of", usage="digest preview|now|channel #channel|time HH:MM|days")


def register(router: Router) -> None:
    router.add("digest", digest, role="manager")
