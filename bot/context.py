"""What a handler is given: the open transaction, its collaborators, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.commands import Actor
from bot.drafting import Drafter
from bot.i18n import Translator
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

    @property
    def language(self) -> str:
        return self.t.language

    def is_member(self) -> bool:
        return self.person is not None and self.person.member
