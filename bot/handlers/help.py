"""`help`: the commands this person may use, in their language."""

from __future__ import annotations

from bot.commands import Command
from bot.context import Context
from bot.messages import Actions, Button, Heading, Message, Note, Paragraph, Reply
from bot.router import Router

ORDER = (
    "join", "leave", "charter", "claim", "shared", "check", "suggest", "mydata", "forget",
    "add", "list", "remove", "expire", "queue", "approve", "reject", "edit", "feed",
    "digest", "pause", "resume",
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


async def welcome(ctx: Context, command: Command) -> Reply:
    """What a platform shows when the bot is installed or first spoken to: the programme,
    voluntary and unpaid, before anyone is asked anything."""
    t = ctx.t
    blocks = (
        Heading(t("help.welcome_heading")),
        Paragraph(t("help.welcome")),
        Paragraph(t("help.welcome_terms")),
        Note(t("help.welcome_next")),
        Actions(
            (
                Button(t("digest.join"), "join", style="primary"),
                Button(t("digest.charter"), "charter"),
            )
        ),
    )
    return Reply((Message(t("help.welcome_heading"), blocks),))


def register(router: Router) -> None:
    router.add("help", show_help, aliases=("aide", "?"))
    router.add("welcome", welcome, listed=False)
