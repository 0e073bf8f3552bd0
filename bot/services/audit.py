"""The audit log: every manager action on content and feeds, append-only, exported with
`ambassador audit export`. It answers "who approved this, and when" without reading chat."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Actor
from storage.models import AuditEvent

ERASED = "erased:"
FIELDS = ("id", "at", "actor", "action", "subject", "detail")


def actor_of(actor: Actor) -> str:
    return f"{actor.platform}:{actor.user_id}"


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    **detail: Any,
) -> None:
    """One entry, in the transaction of the action it records: both happen, or neither."""
    shown = {key: value for key, value in detail.items() if value is not None}
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            subject=subject,
            detail=json.dumps(shown, ensure_ascii=False, sort_keys=True) if shown else None,
        )
    )
    await session.flush()


async def events(
    session: AsyncSession, *, since: datetime | None = None, actor: str | None = None
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.at), col(AuditEvent.id))
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    return (await session.exec(query)).all()


async def pseudonymise(session: AsyncSession, actor: str) -> int:
    """On erasure: the person's entries keep what was done, under one random name that
    nothing links back to them (a hash of their id could be recomputed from a list of ids)."""
    alias = ERASED + secrets.token_hex(8)
    result = await session.exec(
        update(AuditEvent).where(col(AuditEvent.actor) == actor).values(actor=alias)
    )
    return int(result.rowcount or 0)


def as_record(event: AuditEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "at": event.at.isoformat().replace("+00:00", "Z"),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "detail": event.detail,
    }
