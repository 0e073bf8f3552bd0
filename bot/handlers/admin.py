"""Admins' commands (stats, roles) and the managers' crisis switch (pause, resume)."""

from __future__ import annotations

import re

from bot.commands import Command
from bot.context import Context
from bot.errors import Conflict, InvalidInput, UsageError
from bot.handlers.args import number
from bot.messages import Heading, Message, Note, Paragraph, Reply, Table
from bot.router import Router
from bot.services import people, state, stats
from bot.views import figures_blocks

DEFAULT_WEEKS = 4
MAX_CHAT_WEEKS = 52
_USER = re.compile(r"^[\w.@:+-]{1,128}$")


async def show_stats(ctx: Context, command: Command) -> Reply:
    if len(command.args) > 1:
        raise UsageError("error.usage_of", usage="stats [WEEKS]")
    weeks = number(command.args[0]) if command.args else DEFAULT_WEEKS
    if weeks > MAX_CHAT_WEEKS:
        raise InvalidInput("stats.error_weeks", max=MAX_CHAT_WEEKS)
    heading = ctx.t("stats.heading", weeks=weeks)
    blocks = (Heading(heading), *await figures_table(ctx, weeks=weeks))
    return Reply((Message(heading, blocks),))


async def figures_table(ctx: Context, *, weeks: int) -> tuple[Table, Note]:
    """The weekly figures as people see them in chat: small people counts hidden."""
    figures = await stats.weekly(ctx.session, weeks=weeks, now=ctx.now, tz=ctx.settings.tz)
    return figures_blocks(ctx.t, figures, min_group=ctx.settings.min_group)


def _user(raw: str) -> str:
    user = raw.strip().lstrip("@")
    if not _USER.match(user):
        raise InvalidInput("roles.error_user", user=raw[:40])
    return user


async def role(ctx: Context, command: Command) -> Reply:
    """`role add|remove USER manager|admin`."""
    usage = "role add|remove USER manager|admin"
    if len(command.args) != 3:
        raise UsageError("error.usage_of", usage=usage)
    verb, raw_user, role_name = command.args[0].lower(), command.args[1], command.args[2].lower()
    if verb not in ("add", "remove") or role_name not in people.ROLES:
        raise UsageError("error.usage_of", usage=usage)
    user = _user(raw_user)
    platform = ctx.actor.platform
    if verb == "add":
        granted = await people.grant(
            ctx.session, platform=platform, user_id=user, role=role_name, now=ctx.now
        )
        key = "roles.granted" if granted else "roles.already"
        return Reply.say(ctx.t(key, user=user, role=ctx.t(f"roles.{role_name}")))
    if role_name in people.configured_roles(ctx.settings, user):
        raise Conflict("roles.error_configured", user=user, role=ctx.t(f"roles.{role_name}"))
    if role_name == "admin":
        holders = await people.role_holders(ctx.session, ctx.settings, platform)
        if holders["admin"] == [user]:
            raise Conflict("roles.error_last_admin")
    removed = await people.revoke(ctx.session, platform=platform, user_id=user, role=role_name)
    key = "roles.revoked" if removed else "roles.not_held"
    return Reply.say(ctx.t(key, user=user, role=ctx.t(f"roles.{role_name}")))


async def roles(ctx: Context, command: Command) -> Reply:
    holders = await people.role_holders(ctx.session, ctx.settings, ctx.actor.platform)
    none = ctx.t("roles.none")
    lines = [
        f"{ctx.t('roles.admins')}: {', '.join(holders['admin']) or none}",
        f"{ctx.t('roles.managers')}: {', '.join(holders['manager']) or none}",
    ]
    heading = ctx.t("roles.heading")
    return Reply((Message(heading, (Heading(heading), Paragraph("\n".join(lines)))),))


async def pause(ctx: Context, command: Command) -> Reply:
    if await state.is_paused(ctx.session):
        return Reply.say(ctx.t("pause.already"))
    await state.put(ctx.session, state.PAUSED, "1")
    return Reply.say(ctx.t("pause.done"))


async def resume(ctx: Context, command: Command) -> Reply:
    if not await state.is_paused(ctx.session):
        return Reply.say(ctx.t("pause.not_paused"))
    await state.put(ctx.session, state.PAUSED, "0")
    return Reply.say(ctx.t("pause.resumed"))


def register(router: Router) -> None:
    router.add("stats", show_stats, role="admin", aliases=("statistiques",))
    router.add("role", role, role="admin")
    router.add("roles", roles, role="admin")
    router.add("pause", pause, role="manager")
    router.add("resume", resume, role="manager", aliases=("reprendre",))
