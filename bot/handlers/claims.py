"""Claiming digest items, getting drafts, revising them, and saying "I shared it"."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from bot.commands import Command, Via
from bot.context import Context
from bot.drafting import is_sensitive, parse_instruction
from bot.errors import NotFound, Paused, UsageError
from bot.guardrail import check, content_source
from bot.handlers.args import number
from bot.handlers.prompts import prompt_ack, prompt_join
from bot.i18n import Translator
from bot.messages import Audience, DraftJob, Heading, Message, Paragraph, Reply
from bot.router import Router
from bot.services import charter, content, digests, drafts, state, stats
from bot.views import charter_reminder, draft_message, drafting_message, findings, write_myself
from storage.models import Claim, ContentItem, Draft

MAX_INSTRUCTION = 500


async def _ensure_active(ctx: Context) -> None:
    if await state.is_paused(ctx.session):
        raise Paused("error.paused")


async def claim_item(ctx: Context, item_id: int, instruction: str | None = None) -> Reply:
    """The one claim path: buttons, `claim N`, reactions and thread mentions end here.
    `instruction` ("make it casual") shapes the first draft."""
    await _ensure_active(ctx)
    item = await content.get_live(ctx.session, item_id, ctx.now)
    if not ctx.is_member():
        return await prompt_join(ctx, item_id)
    person = ctx.person
    assert person is not None
    assert person.id is not None
    assert item.id is not None
    if person.charter_version != await charter.current_version(ctx.session):
        return await prompt_ack(ctx, item_id)
    claim, created = await drafts.create_claim(
        ctx.session, item_id=item.id, person_id=person.id, now=ctx.now
    )
    assert claim.id is not None
    draft = await drafts.latest(ctx.session, claim.id)
    key = "claims.claimed" if created else "claims.already"
    if draft is not None and not instruction:  # a wish on a second claim makes a new version
        shown = Reply((_draft_message(ctx.t, ctx.settings.company, item, draft, ()),))
        return shown + Reply.say(ctx.t(key, title=item.title))
    job = DraftJob(claim.id, ctx.language, instruction, first=draft is None, confirm=key)
    return _drafting(ctx, item, job)


def _drafting(ctx: Context, item: ContentItem, job: DraftJob) -> Reply:
    """Hand the draft over to be written after this reply. An instant drafter's draft comes
    before the confirmation; a model's is announced by a "drafting…" message it replaces."""
    if ctx.drafter.instant:
        return Reply(later=(job,))
    placeholder = f"drafting:{job.claim_id}:{uuid.uuid4().hex[:12]}"
    shown = Reply((drafting_message(ctx.t, item=item, job=job, key=placeholder),))
    if job.confirm:
        shown += Reply.say(ctx.t(job.confirm, title=item.title))
    # the model's deadline counts from now, not from when the messages above are delivered
    later = replace(job, placeholder=placeholder, confirm=None, asked_at=time.monotonic())
    return Reply(shown.messages, (later,))


async def claim(ctx: Context, command: Command) -> Reply:
    """`claim N`: item N of the latest digest, or of the digest a reaction was added to."""
    if not command.args:
        raise UsageError("error.usage_of", usage="claim N")
    position = number(command.args[0])
    if command.anchor is not None and command.anchor.kind == "digest":
        digest_id = command.anchor.id
    else:
        latest = await digests.latest(ctx.session, platform=ctx.actor.platform)
        if latest is None or latest.id is None:
            raise NotFound("claims.error_no_digest")
        digest_id = latest.id
    item_id = await digests.item_at(ctx.session, digest_id=digest_id, position=position)
    # "@Ambassador 2 make it casual": the claim with the first draft's instruction
    instruction = " ".join(command.args[1:]).strip() if command.via is not Via.REACTION else ""
    if len(instruction) > MAX_INSTRUCTION:
        raise UsageError("claims.error_instruction_long", limit=MAX_INSTRUCTION)
    if instruction and is_sensitive(instruction):
        return Reply((_refusal(ctx),))
    return await claim_item(ctx, item_id, instruction or None)


async def _own_claim_for_item(ctx: Context, item_id: int) -> Claim | None:
    if ctx.person is None or ctx.person.id is None:
        return None
    return await drafts.find_claim(ctx.session, item_id=item_id, person_id=ctx.person.id)


async def claim_button(ctx: Context, command: Command) -> Reply:
    if not command.args:
        raise UsageError("error.usage_of", usage="claim_item ID")
    return await claim_item(ctx, number(command.args[0]))


async def _own_claim(ctx: Context, command: Command) -> tuple[Claim, ContentItem]:
    """The claim a button or thread reply refers to; only its owner may act on it."""
    if command.anchor is not None and command.anchor.kind == "claim":
        claim_id = command.anchor.id
    elif command.args and command.via is Via.BUTTON:
        claim_id = number(command.args[0])
    elif ctx.person is not None and ctx.person.id is not None:
        # a plain message to the bot, outside any thread: their latest draft
        latest = await drafts.latest_claim(ctx.session, person_id=ctx.person.id)
        if latest is None:
            raise NotFound("claims.error_no_draft")
        claim_id = latest
    else:
        raise NotFound("claims.error_no_draft")
    row = await ctx.session.get(Claim, claim_id)
    if row is None or ctx.person is None or row.person_id != ctx.person.id:
        raise NotFound("claims.error_no_draft")
    item = await ctx.session.get(ContentItem, row.item_id)
    assert item is not None
    return row, item


async def _revise(ctx: Context, own: Claim, instruction: str | None) -> Reply:
    await _ensure_active(ctx)
    if instruction and len(instruction) > MAX_INSTRUCTION:
        raise UsageError("claims.error_instruction_long", limit=MAX_INSTRUCTION)
    if instruction and is_sensitive(instruction):
        return Reply((_refusal(ctx),))
    item = await ctx.session.get(ContentItem, own.item_id)
    assert item is not None
    assert own.id is not None
    if not content.is_live(item, ctx.now):
        raise NotFound("content.error_gone", id=item.id)
    # The template drafter says which wishes it cannot follow; a model follows any wording.
    puzzled = instruction and ctx.drafter.instant and not parse_instruction(instruction).understood
    notes = _NOT_UNDERSTOOD if puzzled else ()
    job = DraftJob(own.id, ctx.language, instruction, first=False, notes=notes)
    return _drafting(ctx, item, job)


_NOT_UNDERSTOOD: tuple[str, ...] = ("draft.not_understood",)


def _draft_message(
    t: Translator, company: str, item: ContentItem, draft: Draft, notes: tuple[str, ...]
) -> Message:
    """The draft, checked against the charter: anything flagged is shown with its fix.
    The company's name and the member's own wishes (a team name) are theirs to use."""
    source = "\n".join(
        (content_source(item.title, item.summary, item.url), company, draft.instruction or "")
    )
    flagged = check(f"{draft.linkedin}\n{draft.x}", source=source)
    return draft_message(
        t, item=item, draft=draft, claim_id=draft.claim_id, notes=notes, flagged=flagged
    )


def finished(t: Translator, company: str, job: DraftJob, written: drafts.Written) -> Reply:
    """What the member sees once a draft job is done: the draft in place of the "drafting…"
    message (or a short word saying why there is none), then any confirmation."""
    if written.draft is not None and written.item is not None:
        notes = (*job.notes, *(written.result.notes if written.result else ()))
        message = _draft_message(t, company, written.item, written.draft, notes)
        reply = Reply((replace(message, replaces=job.placeholder),))
        if job.confirm:
            reply += Reply.say(t(job.confirm, title=written.item.title))
        return reply
    if written.refused is None:
        return Reply()
    text = t(written.refused)
    return Reply((Message(text, (Paragraph(text),), Audience.DIRECT, replaces=job.placeholder),))


async def check_text(ctx: Context, command: Command) -> Reply:
    """`check TEXT`: a member pastes their own wording and gets the charter check; figures
    and announcements are judged against the content on offer."""
    text = command.rest.strip()
    if not text:
        raise UsageError("error.usage_of", usage="check TEXT")
    live = await content.live(ctx.session, now=ctx.now)
    source = "\n".join(
        [content_source(i.title, i.summary, i.url) for i in live] + [ctx.settings.company]
    )
    flagged = check(text, source=source)
    heading = ctx.t("guardrail.heading")
    body: list[Paragraph] = findings(ctx.t, flagged) or [Paragraph(ctx.t("guardrail.ok"))]
    return Reply((Message(heading, (Heading(heading), *body)),))


def _refusal(ctx: Context) -> Message:
    return Message(
        ctx.t("claims.refusal_text"),
        (Paragraph(ctx.t("claims.refusal")), charter_reminder(ctx.t)),
        Audience.DIRECT,
    )


async def revise(ctx: Context, command: Command) -> Reply:
    """A plain-words reply in a draft's thread or DM: "shorter", "en français"…"""
    own, _ = await _own_claim(ctx, command)
    return await _revise(ctx, own, command.rest.strip() or None)


async def new_version(ctx: Context, command: Command) -> Reply:
    own, _ = await _own_claim(ctx, command)
    return await _revise(ctx, own, None)


async def myself(ctx: Context, command: Command) -> Reply:
    own, item = await _own_claim(ctx, command)
    assert own.id is not None
    own.self_written = True
    ctx.session.add(own)
    return Reply((write_myself(ctx.t, item=item, company=ctx.settings.company, claim_id=own.id),))


async def _mark_shared(ctx: Context, own: Claim, item: ContentItem) -> Reply:
    if own.shared_at is None:
        own.shared_at = ctx.now
        ctx.session.add(own)
        await stats.count(ctx.session, kind="share", at=ctx.now)
        return Reply.say(ctx.t("claims.shared", title=item.title))
    return Reply.say(ctx.t("claims.shared_again", title=item.title))


async def shared_button(ctx: Context, command: Command) -> Reply:
    own, item = await _own_claim(ctx, command)
    return await _mark_shared(ctx, own, item)


async def shared(ctx: Context, command: Command) -> Reply:
    """`shared N`: "I shared item N of the latest digest" (self-reported, optional)."""
    if not command.args:
        raise UsageError("error.usage_of", usage="shared N")
    position = number(command.args[0])
    latest = await digests.latest(ctx.session, platform=ctx.actor.platform)
    if latest is None or latest.id is None:
        raise NotFound("claims.error_no_digest")
    item_id = await digests.item_at(ctx.session, digest_id=latest.id, position=position)
    own = await _own_claim_for_item(ctx, item_id)
    if own is None:
        raise NotFound("claims.error_not_claimed", number=position)
    item = await ctx.session.get(ContentItem, item_id)
    assert item is not None
    return await _mark_shared(ctx, own, item)


def register(router: Router) -> None:
    router.add("claim", claim, aliases=("prendre",))
    router.add("shared", shared, aliases=("partage",))
    router.add("check", check_text, aliases=("verifier",))
    router.add("claim_item", claim_button, listed=False)
    router.add("revise", revise, listed=False)
    router.add("new_version", new_version, listed=False)
    router.add("write_myself", myself, listed=False)
    router.add("shared_claim", shared_button, listed=False)
