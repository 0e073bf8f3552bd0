"""`digest preview` and `digest now`: what members will see, and sending it."""

from __future__ import annotations

from bot.commands import Command
from bot.context import Context
from bot.errors import NotFound, Paused, UsageError
from bot.i18n import Translator
from bot.messages import Anchor, Audience, Reply
from bot.router import Router
from bot.services import content, digests, state
from bot.views import digest as digest_view


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
    channel = await state.get(ctx.session, state.DIGEST_CHANNEL) or ctx.settings.digest_channel
    record = await digests.record(
        ctx.session, platform=ctx.actor.platform, channel=channel, items=items, now=ctx.now
    )
    assert record.id is not None
    t = Translator(ctx.settings.locale)
    posted = digest_view(t, items, anchor=Anchor("digest", record.id))
    return Reply.say(ctx.t.plural("digest.sent", len(items))) + Reply((posted,))


async def digest(ctx: Context, command: Command) -> Reply:
    sub = command.args[0].lower() if command.args else ""
    if sub in ("preview", "apercu", "aperçu"):
        return await preview(ctx, command)
    if sub in ("now", "maintenant"):
        return await send_now(ctx, command)
    raise UsageError("error.usage_of", usage="digest preview|now")


def register(router: Router) -> None:
    router.add("digest", digest, role="manager")
