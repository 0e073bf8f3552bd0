"""`help`: the commands this person may use, in their language."""

from __future__ import annotations

from bot.commands import Command
from bot.context import Context
from bot.messages import Heading, Message, Note, Paragraph, Reply
from bot.router import Router

ORDER = (
    "join", "leave", "charter", "claim", "shared", "check", "mydata", "forget",
    "add", "list", "remove", "expire", "digest", "pause", "resume",
    "stats", "status", "role", "roles", "help",
)  # fmt: skip


def help_reply(ctx: Context) -> Reply:
    names = {route.name for route in ctx.router.listed(ctx.roles)}
    lines = [ctx.t(f"help.{name}") for name in ORDER if name in names]
    blocks = (
        Heading(ctx.t("help.heading")),
        Paragraph("\n".join(lines)),
        Note(ctx.t("help.footer")),
    )
    return Reply((Message(ctx.t("help.heading"), blocks),))


async def show_help(ctx: Context, command: Command) -> Reply:
    return help_reply(ctx)


def register(router: Router) -> None:
    router.add("help", show_help, aliases=("aide", "?"))
