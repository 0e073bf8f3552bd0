"""The social-media charter: versioned. Until a manager writes one, the built-in charter
(version 1, in each reader's language) applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput
from bot.i18n import Translator
from storage.models import CharterVersion

MAX_CHARTER_LENGTH = 3_000


@dataclass(frozen=True)
class Charter:
    version: int
    text: str
    created_at: datetime | None  # None for the built-in charter


async def current(session: AsyncSession, t: Translator) -> Charter:
    result = await session.exec(
        select(CharterVersion).order_by(col(CharterVersion.version).desc()).limit(1)
    )
    row = result.first()
    if row is None:
        return Charter(1, t("charter.default"), None)
    return Charter(row.version, row.text, row.created_at)


async def current_version(session: AsyncSession) -> int:
    result = await session.exec(
        select(CharterVersion.version).order_by(col(CharterVersion.version).desc()).limit(1)
    )
    return result.first() or 1


async def publish(session: AsyncSession, *, text: str, now: datetime) -> int:
    """Store a new version (after the built-in version 1) and return its number."""
    text = text.strip()
    if not text:
        raise InvalidInput("charter.error_empty")
    if len(text) > MAX_CHARTER_LENGTH:
        raise InvalidInput("charter.error_long", limit=MAX_CHARTER_LENGTH)
    version = await current_version(session) + 1
    session.add(CharterVersion(version=version, text=text, created_at=now))
    await session.flush()
    return version


def summary(text: str, lines: int = 5) -> str:
    """The first lines of the charter, for join prompts."""
    kept = [line for line in text.splitlines() if line.strip()][:lines]
    return "\n".join(kept)
