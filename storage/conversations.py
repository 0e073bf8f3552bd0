"""Conversation references: where the bot may post first. Keyword-only, on a session the
caller owns. A Teams bot can only message a chat or channel it has a reference for (the
service URL, the conversation, the tenant), so each activity received refreshes one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation


async def remember(
    session: AsyncSession,
    *,
    platform: str,
    conversation_id: str,
    kind: str,
    user_id: str | None,
    tenant_id: str | None,
    service_url: str,
    reference: str,
    now: datetime,
) -> None:
    """Keep the latest reference for a conversation (the service URL may move). Two
    activities of a new conversation at once both try to insert: the second updates."""
    row = await session.get(Conversation, (platform, conversation_id))
    if row is None:
        fresh = Conversation(
            platform=platform,
            conversation_id=conversation_id,
            kind=kind,
            user_id=user_id,
            tenant_id=tenant_id,
            service_url=service_url,
            reference=reference,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(fresh)
                await session.flush()
        except IntegrityError:
            row = await session.get(
                Conversation, (platform, conversation_id), populate_existing=True
            )
        else:
            return
        assert row is not None
    row.kind, row.user_id, row.tenant_id = kind, user_id, tenant_id
    row.service_url, row.reference, row.updated_at = service_url, reference, now
    session.add(row)
    await session.flush()


async def find(
    session: AsyncSession, *, platform: str, conversation_id: str
) -> Conversation | None:
    return await session.get(Conversation, (platform, conversation_id))


async def personal(session: AsyncSession, *, platform: str, user_id: str) -> Conversation | None:
    """The person's own chat with the bot, if the bot has one."""
    result = await session.exec(
        select(Conversation)
        .where(
            Conversation.platform == platform,
            Conversation.user_id == user_id,
            Conversation.kind == "personal",
        )
        .order_by(col(Conversation.updated_at).desc())
        .limit(1)
    )
    return result.first()


async def any_in_tenant(
    session: AsyncSession, *, platform: str, tenant_id: str | None
) -> Conversation | None:
    """A recent reference in the tenant: its service URL is where a new chat is opened."""
    query = select(Conversation).where(Conversation.platform == platform)
    if tenant_id is not None:
        query = query.where(Conversation.tenant_id == tenant_id)
    result = await session.exec(query.order_by(col(Conversation.updated_at).desc()).limit(1))
    return result.first()


async def of_user(session: AsyncSession, *, platform: str, user_id: str) -> list[Conversation]:
    result = await session.exec(
        select(Conversation).where(
            Conversation.platform == platform, Conversation.user_id == user_id
        )
    )
    return list(result.all())


async def forget_user(session: AsyncSession, *, platform: str, user_id: str) -> int:
    """Erasure: the person's own chats with the bot are forgotten."""
    result = await session.exec(
        delete(Conversation).where(
            col(Conversation.platform) == platform, col(Conversation.user_id) == user_id
        )
    )
    return int(result.rowcount or 0)
