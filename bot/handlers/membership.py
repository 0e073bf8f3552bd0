"""Joining, leaving and the charter: every consent is an explicit act and a ledger entry."""

from __future__ import annotations

import re

from bot.commands import Command
from bot.context import Context
from bot.errors import Conflict, Forbidden
from bot.handlers.args import number, optional_item
from bot.handlers.claims import claim_item
from bot.handlers.prompts import prompt_ack, prompt_join
from bot.messages import Actions, Button, Heading, Message, Note, Quote, Reply
from bot.router import Router
from bot.services import charter, ledger, people

_SET = re.compile(r"set\s+(.*)\Z", re.IGNORECASE | re.DOTALL)


async def _complete_pending(ctx: Context, pending: int | None) -> Reply:
    """Finish the claim that sent the person through the join or charter step."""
    return await claim_item(ctx, pending) if pending is not None else Reply()


async def join(ctx: Context, command: Command) -> Reply:
    if ctx.is_member():
        return Reply.say(ctx.t("join.already"))
    return await prompt_join(ctx, None)


async def _serialise(ctx: Context) -> None:
    """Take the ledger lock, then re-read membership: a double click waits its turn and
    finds the first click's result."""
    await ledger.lock(ctx.session)
    ctx.person = await people.find(ctx.session, ctx.actor, fresh=True)


async def agree(ctx: Context, command: Command) -> Reply:
    """The "I agree" button: carries the charter version that was shown, and the item to
    claim afterwards, if a claim brought them here."""
    version = number(command.args[0]) if command.args else 0
    pending = optional_item(command.args[1]) if len(command.args) > 1 else None
    await _serialise(ctx)
    current = await charter.current_version(ctx.session)
    if version != current:  # the charter changed while the prompt was open: show it again
        return Reply.say(ctx.t("join.charter_changed")) + await prompt_join(ctx, pending)
    if ctx.is_member():
        return await _acknowledge(ctx, current, pending)
    person = await people.find_or_create(ctx.session, ctx.actor, ctx.now)
    statement = ctx.t("join.statement", company=ctx.settings.company)
    await ledger.append(
        ctx.session,
        at=ctx.now,
        platform=ctx.actor.platform,
        user=ctx.actor.user_id,
        action="join",
        charter_version=current,
        statement=statement,
    )
    person.member = True
    person.joined_at = ctx.now
    person.charter_version = current
    person.language = ctx.actor.language or person.language
    ctx.session.add(person)
    ctx.person = person
    welcome = Reply.say(ctx.t("join.welcome"))
    return welcome + await _complete_pending(ctx, pending)


async def decline(ctx: Context, command: Command) -> Reply:
    return Reply.say(ctx.t("join.declined"))


async def leave(ctx: Context, command: Command) -> Reply:
    await _serialise(ctx)
    if ctx.person is None or not ctx.person.member:
        return Reply.say(ctx.t("leave.not_member"))
    await ledger.append(
        ctx.session,
        at=ctx.now,
        platform=ctx.actor.platform,
        user=ctx.actor.user_id,
        action="leave",
        charter_version=ctx.person.charter_version,
    )
    ctx.person.member = False
    ctx.session.add(ctx.person)
    return Reply.say(ctx.t("leave.done"))


async def _acknowledge(ctx: Context, version: int, pending: int | None) -> Reply:
    assert ctx.person is not None
    if ctx.person.charter_version != version:
        await ledger.append(
            ctx.session,
            at=ctx.now,
            platform=ctx.actor.platform,
            user=ctx.actor.user_id,
            action="charter_ack",
            charter_version=version,
        )
        ctx.person.charter_version = version
        ctx.session.add(ctx.person)
        thanks = Reply.say(ctx.t("charter.acked", version=version))
    else:
        thanks = Reply.say(ctx.t("charter.already_acked", version=version))
    return thanks + await _complete_pending(ctx, pending)


async def ack(ctx: Context, command: Command) -> Reply:
    version = number(command.args[0]) if command.args else 0
    pending = optional_item(command.args[1]) if len(command.args) > 1 else None
    await _serialise(ctx)
    if not ctx.is_member():
        return await prompt_join(ctx, pending)
    current = await charter.current_version(ctx.session)
    if version != current:
        return Reply.say(ctx.t("join.charter_changed")) + await prompt_ack(ctx, pending)
    return await _acknowledge(ctx, current, pending)


async def show_charter(ctx: Context, command: Command) -> Reply:
    if command.args and command.args[0].lower() == "set":
        return await set_charter(ctx, command)
    current = await charter.current(ctx.session, ctx.t)
    if not ctx.is_member():
        status = ctx.t("charter.status_guest")
        buttons: tuple[Button, ...] = (Button(ctx.t("digest.join"), "join", style="primary"),)
    elif ctx.person is not None and ctx.person.charter_version == current.version:
        status, buttons = ctx.t("charter.status_acked", version=current.version), ()
    else:
        status = ctx.t("charter.status_pending", version=current.version)
        buttons = (Button(ctx.t("charter.ack"), "ack", (str(current.version), ""), "primary"),)
    blocks: list[Heading | Quote | Note | Actions] = [
        Heading(ctx.t("charter.heading", version=current.version)),
        Quote(current.text),
        Note(status),
    ]
    if buttons:
        blocks.append(Actions(buttons))
    return Reply((Message(ctx.t("charter.heading", version=current.version), tuple(blocks)),))


async def set_charter(ctx: Context, command: Command) -> Reply:
    if "manager" not in ctx.roles:
        raise Forbidden("error.forbidden_manager")
    match = _SET.match(command.rest)
    text = match.group(1) if match else ""
    current = await charter.current(ctx.session, ctx.t)
    if text.strip() == current.text.strip():
        raise Conflict("charter.error_same", version=current.version)
    version = await charter.publish(ctx.session, text=text, now=ctx.now)
    return Reply.say(ctx.t("charter.published", version=version))


def register(router: Router) -> None:
    router.add("join", join, aliases=("rejoindre",))
    router.add("leave", leave, aliases=("quitter",))
    router.add("charter", show_charter, aliases=("charte",))
    router.add("agree", agree, listed=False)
    router.add("ack", ack, listed=False)
    router.add("decline", decline, listed=False)
