"""Programme-wide state changed from chat: paused or not, the digest channel."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProgrammeState

PAUSED = "paused"


def digest_channel_key(platform: str) -> str:
    """Each platform has its own digest channel."""
    return f"digest_channel:{platform}"


async def get(session: AsyncSession, key: str) -> str | None:
    row = await session.get(ProgrammeState, key)
    return row.value if row else None


async def put(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(ProgrammeState, key)
    if row is None:
        session.add(ProgrammeState(key=key, value=value))
    else:
        row.value = value
        session.add(row)
    await session.flush()


async def is_paused(session: AsyncSession) -> bool:
    return await get(session, PAUSED) == "1"
