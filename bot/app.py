"""The core's single entry: `Ambassador.handle(command) -> Reply`, one transaction each.

A problem the person can act on (`AmbassadorError`) rolls the transaction back and comes
back as a short, translated reply. Anything else is a bug: it propagates to the adapter's
global handler, which logs it and answers briefly. Either way nothing half-done is stored.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.commands import Command
from bot.context import Context
from bot.drafting import Drafter
from bot.errors import AmbassadorError, UsageError
from bot.handlers import build_router
from bot.handlers.help import help_reply
from bot.i18n import Translator
from bot.messages import Reply
from bot.router import Router
from bot.services import people
from bot.settings import Settings
from storage.database import Database

log = logging.getLogger(__name__)


class Ambassador:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        drafter: Drafter,
        router: Router | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.drafter = drafter
        self.router = router or build_router()

    def translator(self, language: str | None) -> Translator:
        return Translator(language or self.settings.locale)

    async def handle(self, command: Command) -> Reply:
        t = self.translator(command.actor.language)
        ctx: Context | None = None
        try:
            async with self.database.transaction() as session:
                person = await people.find(session, command.actor)
                t = self.translator(command.actor.language or (person.language if person else None))
                roles = await people.roles_of(session, self.settings, command.actor)
                ctx = Context(
                    session=session,
                    settings=self.settings,
                    clock=self.clock,
                    drafter=self.drafter,
                    router=self.router,
                    actor=command.actor,
                    roles=roles,
                    person=person,
                    t=t,
                    now=self.clock.now(),
                )
                route = self.router.resolve(command.name, roles)
                return await route.handler(ctx, command)
        except AmbassadorError as error:
            log.info("refused %s from %s: %s", command.name, command.actor.platform, error.key)
            reply = Reply.say(t(error.key, **error.params))
            if isinstance(error, UsageError) and error.key == "error.unknown_command" and ctx:
                reply += help_reply(ctx)
            return reply
