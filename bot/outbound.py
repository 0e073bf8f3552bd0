"""A connected chat platform as the core sees it when it speaks first: scheduled jobs, a
suggester told the outcome, managers told a feed broke. Messages are queued in the caller's
transaction, so they go out exactly when what they tell of is stored."""

from __future__ import annotations

from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Message


class Outbound(Protocol):
    platform: str

    async def enqueue(
        self, session: AsyncSession, message: Message, *, to: str | None = None
    ) -> None:
        """Queue `message` for delivery — to the digest channel, or to the person `to` —
        within the caller's transaction."""

    async def enqueue_file(
        self, session: AsyncSession, *, to: str, filename: str, title: str, content: bytes
    ) -> None:
        """Queue a file (the report's chart) for the person `to`, likewise."""
