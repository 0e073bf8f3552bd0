"""What a handler is given: the open transaction, its collaborators, and who is asking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.commands import Actor
from bot.drafting import Drafter
from bot.feedread import FeedDoc
from bot.i18n import Translator
from bot.messages import Message
from bot.pages import Problem
from bot.preview import Preview
from bot.router import Router
from bot.settings import Settings
from storage.models import Person


@dataclass
class Context:
    session: AsyncSession
    settings: Settings
    clock: Clock
    drafter: Drafter
    router: Router
    actor: Actor
    roles: frozenset[str]
    person: Person | None  # None until they join
    t: Translator
    now: datetime
    # the page of the URL the command names, fetched before the transaction (`previews`)
    preview: Preview | None = None
    feed: FeedDoc | None = None  # or the feed it names, read (`reads="feed"`)
    no_preview: Problem | None = None  # why neither could be had
    # queue a direct message to someone else (platform, user id), in this transaction;
    # false when that platform is not connected here (the console)
    tell: Callable[[str, str, Message], Awaitable[bool]] | None = None

    async def tell_person(self, platform: str, user_id: str, message: Message) -> bool:
        return False if self.tell is None else await self.tell(platform, user_id, message)

    @property
    def language(self) -> str:
        return self.t.language

    def is_member(self) -> bool:
        return self.person is not None and self.person.member
