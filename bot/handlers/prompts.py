"""The join and charter-acknowledgement prompts that stand before a claim."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply
from bot.services import charter
from bot.views import ack_prompt, join_prompt


async def prompt_join(ctx: Context, pending: int | None) -> Reply:
    current = await charter.current(ctx.session, ctx.t)
    return Reply(
        (
            join_prompt(
                ctx.t,
                charter_version=current.version,
                charter_summary=charter.summary(current.text),
                company=ctx.settings.company,
                pending=pending,
            ),
        )
    )


async def prompt_ack(ctx: Context, pending: int | None) -> Reply:
    current = await charter.current(ctx.session, ctx.t)
    return Reply((ack_prompt(ctx.t, version=current.version, text=current.text, pending=pending),))
