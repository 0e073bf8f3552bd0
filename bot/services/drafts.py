"""Claims and their drafts: one claim per person and item, every draft version kept.

A template draft is written in one transaction, under the item's lock. A model's draft is
written in three steps, so that no transaction stays open while the model thinks:
read what the request needs; ask the drafter with no transaction open; then, holding the
item's lock (so two members' drafts of one item are compared one after the other, even on
several replicas), compare the result with every draft others now hold and save it. A
model draft too close to another member's is asked for once more with a different angle;
whatever is still too close at saving time is replaced by a differently worded template.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.drafting import (
    Drafter,
    DraftRequest,
    DraftResult,
    Given,
    Style,
    Usage,
    parse_instruction,
)
from bot.drafting.distinct import Distinct
from bot.messages import DraftJob
from bot.services import content, state, stats
from storage.database import Database
from storage.models import Claim, ContentItem, Draft, Person


async def find_claim(session: AsyncSession, *, item_id: int, person_id: int) -> Claim | None:
    result = await session.exec(
        select(Claim).where(Claim.item_id == item_id, Claim.person_id == person_id)
    )
    return result.first()


async def create_claim(
    session: AsyncSession, *, item_id: int, person_id: int, now: datetime
) -> tuple[Claim, bool]:
    """The person's claim of the item, and whether this call created it. A concurrent
    duplicate (a double click on PostgreSQL) resolves to the claim that won."""
    existing = await find_claim(session, item_id=item_id, person_id=person_id)
    if existing is not None:
        return existing, False
    claim = Claim(item_id=item_id, person_id=person_id, created_at=now)
    try:
        async with session.begin_nested():
            session.add(claim)
            await session.flush()
    except IntegrityError:
        winner = await find_claim(session, item_id=item_id, person_id=person_id)
        if winner is None:
            raise
        return winner, False
    await stats.count(session, kind="claim", at=now)
    return claim, True


async def latest_claim(session: AsyncSession, *, person_id: int) -> int | None:
    """The claim whose draft this person received most recently."""
    result = await session.exec(
        select(Claim.id)
        .join(Draft, col(Draft.claim_id) == col(Claim.id))
        .where(Claim.person_id == person_id)
        .order_by(col(Draft.created_at).desc(), col(Draft.id).desc())
        .limit(1)
    )
    return result.first()


async def versions(session: AsyncSession, claim_id: int) -> list[Draft]:
    result = await session.exec(
        select(Draft).where(Draft.claim_id == claim_id).order_by(col(Draft.version))
    )
    return list(result.all())


async def latest(session: AsyncSession, claim_id: int) -> Draft | None:
    drafts = await versions(session, claim_id)
    return drafts[-1] if drafts else None


async def delete_older_than(session: AsyncSession, *, before: datetime) -> int:
    """Retention: draft texts older than `before` go; claims (no text) and the anonymous
    counts behind the weekly figures stay, so past weeks do not change."""
    result = await session.exec(delete(Draft).where(col(Draft.created_at) < before))
    return int(result.rowcount or 0)


TAKEN_WINDOW = 500  # the drafts compared with a new one: the most recent few hundred
ANGLES_SHOWN = 20  # angles the model is told colleagues already have


@dataclass(frozen=True)
class _Others:
    """What other members hold for an item: their variant keys and texts."""

    variants: tuple[str, ...]
    given: tuple[Given, ...]

    def angles(self) -> tuple[str, ...]:
        """The angles of the model drafts among them, newest first, without repeats."""
        found = (
            v.split(".", 2)[2].replace("-", " ") for v in self.variants if v.startswith("model.")
        )
        return tuple(dict.fromkeys(a for a in found if a))[:ANGLES_SHOWN]


async def _others(session: AsyncSession, *, item_id: int, claim_id: int) -> _Others:
    """Drafts others hold for this item: the most recent few hundred, so a claim costs the
    same for the thousandth claimant as for the tenth."""
    result = await session.exec(
        select(Draft.variant, Draft.linkedin, Draft.x)
        .join(Claim, col(Claim.id) == col(Draft.claim_id))
        .where(Claim.item_id == item_id, Claim.id != claim_id)
        .order_by(col(Draft.id).desc())
        .limit(TAKEN_WINDOW)
    )
    rows = result.all()
    return _Others(tuple(r[0] for r in rows), tuple(Given(r[1], r[2]) for r in rows))


def style_of(history: list[Draft], language: str, instruction: str | None) -> Style:
    """Replay the member's instructions so each revision builds on the ones before."""
    style = Style(language=history[0].language if history else language)
    for draft in history:
        if draft.instruction:
            style = parse_instruction(draft.instruction).apply(style)
    if instruction:
        style = parse_instruction(instruction).apply(style)
    return style


@dataclass(frozen=True)
class Written:
    """How a draft job ended: a draft to show (`result` None when it was there already),
    or a catalog key saying why nothing was written, or nothing at all (the claim is gone)."""

    draft: Draft | None = None
    item: ContentItem | None = None
    result: DraftResult | None = None
    refused: str | None = None


@dataclass(frozen=True)
class _Prepared:
    item: ContentItem
    request: DraftRequest
    history: list[Draft]


async def _prepare(
    session: AsyncSession, job: DraftJob, company: str, now: datetime, *, lock: bool
) -> Written | _Prepared:
    """What the request needs, or why there is nothing to draft. With `lock`, the item's
    lock is taken first: the caller drafts and saves in this same transaction."""
    claim = await session.get(Claim, job.claim_id)
    if claim is None or claim.id is None:
        return Written()  # erased meanwhile: nothing to say to anyone
    if await state.is_paused(session):
        return Written(refused="error.paused")
    person = await session.get(Person, claim.person_id)
    if person is None or not person.member:
        return Written(refused="drafting.left")
    if lock:
        await _lock_item(session, claim.item_id)
    item = await session.get(ContentItem, claim.item_id)
    if item is None or item.id is None or not content.is_live(item, now):
        return Written(refused="drafting.gone")
    history = await versions(session, claim.id)
    if job.first and history:  # a double click's twin wrote it already
        return Written(history[-1], item)
    others = await _others(session, item_id=item.id, claim_id=claim.id)
    wishes = [d.instruction for d in history if d.instruction]
    request = replace(
        _request(item, company, style_of(history, job.language, job.instruction)),
        taken=others.variants,
        own=tuple(d.variant for d in history),
        others=others.given,
        instructions=(*wishes, *([job.instruction] if job.instruction else [])),
        avoid=others.angles(),
    )
    return _Prepared(item, request, history)


def _request(item: ContentItem, company: str, style: Style) -> DraftRequest:
    return DraftRequest(
        title=item.title,
        url=item.url,
        summary=item.summary,
        company=company,
        style=style,
        kind=item.kind,
    )


async def _lock_item(session: AsyncSession, item_id: int) -> None:
    """Serialise the final comparison per item (PostgreSQL row lock; SQLite transactions
    are serialised already)."""
    await session.exec(select(ContentItem.id).where(ContentItem.id == item_id).with_for_update())


async def write(
    *,
    database: Database,
    drafter: Drafter,
    fallback: Drafter,
    job: DraftJob,
    company: str,
    model: str,
    clock: Clock,
) -> Written:
    """Write the job's draft (see the module docstring for the three steps). An instant
    drafter drafts under the item's lock in one transaction: it takes microseconds."""
    if drafter.instant:
        async with database.transaction() as session:
            now = clock.now()
            prepared = await _prepare(session, job, company, now, lock=True)
            if isinstance(prepared, Written):
                return prepared
            result = await drafter.draft(prepared.request)
            return await _store(
                session, job, prepared.item, result, history=prepared.history, now=now
            )
    async with database.transaction() as session:
        prepared = await _prepare(session, job, company, clock.now(), lock=False)
    if isinstance(prepared, Written):
        return prepared
    asked_at = job.asked_at if job.asked_at is not None else time.monotonic()
    item, request = prepared.item, replace(prepared.request, asked_at=asked_at)
    result = await drafter.draft(request)
    usage = list(result.usage)
    may_reask = True
    while True:
        async with database.transaction() as session:
            saved = await _save(
                session,
                job=job,
                item=item,
                request=request,
                result=result,
                usage=usage,
                fallback=fallback if not may_reask or result.source != "model" else None,
                company=company,
                model=model,
                now=clock.now(),
            )
        if isinstance(saved, Written):
            return saved
        # too close to a colleague's: once, another angle, with no lock held meanwhile
        request, may_reask = saved, False
        result = await drafter.draft(request)
        usage += result.usage


async def _save(
    session: AsyncSession,
    *,
    job: DraftJob,
    item: ContentItem,
    request: DraftRequest,
    result: DraftResult,
    usage: list[Usage],
    fallback: Drafter | None,
    company: str,
    model: str,
    now: datetime,
) -> Written | DraftRequest:
    """Under the item's lock, compare `result` with what others hold now and save it, or a
    differently worded `fallback` draft; without a fallback, a clash returns the request to
    ask again with (nothing written)."""
    assert item.id is not None
    await _lock_item(session, item.id)
    others = await _others(session, item_id=item.id, claim_id=job.claim_id)
    clash = Distinct(others.given, title=item.title, company=company).clashes(
        result.linkedin, result.x
    )
    if clash and fallback is None:
        return replace(request, others=others.given, avoid=(result.angle, *others.angles()))
    await stats.record_calls(session, model=model, usage=usage, at=now)
    history = await versions(session, job.claim_id)
    if job.first and history:  # a double click's twin got there first
        return Written(history[-1], item)
    if await state.is_paused(session):
        return Written(refused="error.paused")
    if clash and fallback is not None:
        reworded = await fallback.draft(
            replace(request, taken=others.variants, others=others.given)
        )
        result = replace(reworded, notes=tuple(dict.fromkeys((*result.notes, *reworded.notes))))
    return await _store(session, job, item, result, history=history, now=now)


async def _store(
    session: AsyncSession,
    job: DraftJob,
    item: ContentItem,
    result: DraftResult,
    *,
    history: list[Draft],
    now: datetime,
) -> Written:
    """The claim's next version, counted for the weekly figures."""
    draft = Draft(
        claim_id=job.claim_id,
        version=(history[-1].version + 1) if history else 1,
        language=result.language,
        linkedin=result.linkedin,
        x=result.x,
        variant=result.variant,
        instruction=job.instruction,
        created_at=now,
    )
    session.add(draft)
    await session.flush()
    await stats.count(session, kind="draft", at=now)
    return Written(draft, item, result)
