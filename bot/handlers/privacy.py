"""`mydata` and `forget`: each person exports or erases their own data, nobody else's."""

from __future__ import annotations

import json

from bot.commands import Command
from bot.context import Context
from bot.messages import Data, Message, Paragraph, Reply
from bot.router import Router
from bot.services import privacy


async def mydata(ctx: Context, command: Command) -> Reply:
    document = await privacy.export(ctx.session, ctx.actor)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    blocks = (Paragraph(ctx.t("privacy.export_intro")), Data("ambassador-my-data.json", text))
    return Reply((Message(ctx.t("privacy.export_text"), blocks),))


async def forget(ctx: Context, command: Command) -> Reply:
    erased = await privacy.erase(ctx.session, ctx.actor, now=ctx.now)
    if not (erased.profile or erased.roles or erased.ledger_entries):
        return Reply.say(ctx.t("privacy.nothing"))
    return Reply.say(
        ctx.t(
            "privacy.erased",
            claims=erased.claims,
            drafts=erased.drafts,
            entries=erased.ledger_entries,
        )
    )


def register(router: Router) -> None:
    router.add("mydata", mydata, aliases=("mesdonnees", "export"))
    router.add("forget", forget, aliases=("oublier", "erase"))
