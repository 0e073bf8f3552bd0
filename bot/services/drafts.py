"""Claims and their drafts: one claim per person and item, every draft version kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.drafting import Drafter, DraftRequest, DraftResult, Style, parse_instruction
from bot.services import stats
from storage.models import Claim, ContentItem, Draft


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


TAKEN_WINDOW = 500  # the drafter can only tell a few hundred wordings apart anyway


async def _taken_by_others(
    session: AsyncSession, *, item_id: int, claim_id: int
) -> tuple[str, ...]:
    """Wordings others already hold for this item: the most recent few hundred, so a claim
    costs the same for the thousandth claimant as for the tenth."""
    result = await session.exec(
        select(Draft.variant)
        .join(Claim, col(Claim.id) == col(Draft.claim_id))
        .where(Claim.item_id == item_id, Claim.id != claim_id)
        .order_by(col(Draft.id).desc())
        .limit(TAKEN_WINDOW)
    )
    return tuple(result.all())


def style_of(history: list[Draft], language: str, instruction: str | None) -> Style:
    """Replay the member's instructions so each revision builds on the ones before."""
    style = Style(language=history[0].language if history else language)
    for draft in history:
        if draft.instruction:
            style = parse_instruction(draft.instruction).apply(style)
    if instruction:
        style = parse_instruction(instruction).apply(style)
    return style


async def next_draft(
    session: AsyncSession,
    *,
    drafter: Drafter,
    claim: Claim,
    item: ContentItem,
    company: str,
    language: str,
    instruction: str | None,
    now: datetime,
) -> tuple[Draft, DraftResult]:
    """Write the claim's next draft version (the first one when there is none)."""
    assert claim.id is not None
    assert item.id is not None
    history = await versions(session, claim.id)
    style = style_of(history, language, instruction)
    request = DraftRequest(
        title=item.title,
        url=item.url,
        summary=item.summary,
        company=company,
        style=style,
        taken=await _taken_by_others(session, item_id=item.id, claim_id=claim.id),
        own=tuple(d.variant for d in history),
    )
    result = await drafter.draft(request)
    draft = Draft(
        claim_id=claim.id,
        version=(history[-1].version + 1) if history else 1,
        language=result.language,
        linkedin=result.linkedin,
        x=result.x,
        variant=result.variant,
        instruction=instruction,
        created_at=now,
    )
    session.add(draft)
    await session.flush()
    await stats.count(session, kind="draft", at=now)
    return draft, result
