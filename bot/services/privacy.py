"""A person's own data: everything stored about them, and erasing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Actor
from bot.services import audit, ledger, people
from storage import conversations
from storage.models import (
    Claim,
    ContentItem,
    Draft,
    Outbox,
    Person,
    PlatformMessage,
    RoleGrant,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def export(session: AsyncSession, actor: Actor) -> dict[str, object]:
    """Everything Ambassador stores about this person, as plain JSON-ready data."""
    person = await people.find(session, actor)
    claims: list[dict[str, object]] = []
    if person is not None:
        rows = await session.exec(
            select(Claim, ContentItem)
            .join(ContentItem, col(ContentItem.id) == col(Claim.item_id))
            .where(Claim.person_id == person.id)
            .order_by(col(Claim.id))
        )
        for claim, item in rows.all():
            drafts = await session.exec(
                select(Draft).where(Draft.claim_id == claim.id).order_by(col(Draft.version))
            )
            claims.append(
                {
                    "item": {"id": item.id, "title": item.title, "url": item.url},
                    "claimed_at": _iso(claim.created_at),
                    "shared_at": _iso(claim.shared_at),
                    "write_it_myself": claim.self_written,
                    "drafts": [
                        {
                            "version": d.version,
                            "language": d.language,
                            "linkedin": d.linkedin,
                            "x": d.x,
                            "instruction": d.instruction,
                            "created_at": _iso(d.created_at),
                        }
                        for d in drafts.all()
                    ],
                }
            )
    grants = await session.exec(
        select(RoleGrant).where(
            RoleGrant.platform == actor.platform, RoleGrant.user_id == actor.user_id
        )
    )
    consent = await ledger.entries_of(session, platform=actor.platform, user=actor.user_id)
    suggested = (
        await session.exec(
            select(ContentItem)
            .where(ContentItem.suggested_by == person.id)
            .order_by(col(ContentItem.id))
        )
        if person is not None
        else None
    )
    actions = await audit.events(session, actor=audit.actor_of(actor))
    return {
        "platform": actor.platform,
        "user": actor.user_id,
        "profile": None
        if person is None
        else {
            "member": person.member,
            "joined_at": _iso(person.joined_at),
            "charter_version_acknowledged": person.charter_version,
            "language": person.language,
            "first_seen": _iso(person.created_at),
        },
        "roles_granted_in_chat": [
            {"role": g.role, "granted_at": _iso(g.granted_at)} for g in grants.all()
        ],
        "claims": claims,
        "consent_ledger": [ledger.as_record(entry) for entry in consent],
        "suggestions": [
            {
                "item": {"id": item.id, "title": item.title, "url": item.url},
                "why": item.suggestion_note,
                "suggested_at": _iso(item.created_at),
                "status": item.status,
                "reviewed_at": _iso(item.reviewed_at),
                "reason_given": item.review_note,
            }
            for item in (suggested.all() if suggested is not None else [])
        ],
        "actions_on_content": [
            {"at": _iso(e.at), "action": e.action, "subject": e.subject, "detail": e.detail}
            for e in actions
        ],
        "chats_with_the_bot": [
            {"conversation": c.conversation_id, "last_seen": _iso(c.updated_at)}
            for c in await conversations.of_user(
                session, platform=actor.platform, user_id=actor.user_id
            )
        ],
    }


@dataclass(frozen=True)
class Erased:
    claims: int
    drafts: int
    profile: bool
    roles: int
    ledger_entries: int


async def erase(session: AsyncSession, actor: Actor, *, now: datetime) -> Erased:
    """Delete claims, drafts, profile and chat role grants; pseudonymise the ledger.
    Anonymous activity counts stay, so past weekly figures do not change."""
    person = await people.find(session, actor)
    claims = drafts = 0
    if person is not None:
        claim_ids = list(
            (await session.exec(select(Claim.id).where(Claim.person_id == person.id))).all()
        )
        if claim_ids:
            drafts = len(
                (
                    await session.exec(select(Draft.id).where(col(Draft.claim_id).in_(claim_ids)))
                ).all()
            )
            await session.exec(delete(Draft).where(col(Draft.claim_id).in_(claim_ids)))
            await session.exec(delete(Claim).where(col(Claim.id).in_(claim_ids)))
            await session.exec(
                delete(PlatformMessage).where(
                    col(PlatformMessage.anchor_kind) == "claim",
                    col(PlatformMessage.anchor_id).in_(claim_ids),
                )
            )
        claims = len(claim_ids)
        # their suggestions stay (a link is not about them), but no longer name them
        await session.exec(
            update(ContentItem)
            .where(col(ContentItem.suggested_by) == person.id)
            .values(suggested_by=None, suggestion_note=None)
        )
        await session.exec(delete(Person).where(col(Person.id) == person.id))
    grants = await session.exec(
        select(RoleGrant).where(
            RoleGrant.platform == actor.platform, RoleGrant.user_id == actor.user_id
        )
    )
    roles = 0
    for grant in grants.all():
        await session.delete(grant)
        roles += 1
    # drafts still waiting to be delivered to them go too, and where the bot reached them
    await conversations.forget_user(session, platform=actor.platform, user_id=actor.user_id)
    await session.exec(
        delete(Outbox).where(
            col(Outbox.platform) == actor.platform,
            col(Outbox.kind) == "direct",
            col(Outbox.target) == actor.user_id,
        )
    )
    entries = await ledger.erase(session, at=now, platform=actor.platform, user=actor.user_id)
    await audit.pseudonymise(session, audit.actor_of(actor))  # what they did, not who
    await session.flush()
    return Erased(claims, drafts, person is not None, roles, entries)
