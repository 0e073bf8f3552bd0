"""The core's single entry: `Ambassador.handle(command) -> Reply`, one transaction each.

A problem the person can act on (`AmbassadorError`) rolls the transaction back and comes
back as a short, translated reply. Anything else is a bug: it propagates to the adapter's
global handler, which logs it and answers briefly. Either way nothing half-done is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.clock import Clock
from bot.commands import Command
from bot.context import Context
from bot.drafting import Drafter
from bot.errors import AmbassadorError, UsageError
from bot.feedread import FeedDoc
from bot.handlers import build_router
from bot.handlers.claims import finished
from bot.handlers.help import help_reply
from bot.i18n import Translator
from bot.messages import Audience, DraftJob, Message, Paragraph, Reply
from bot.outbound import Outbound
from bot.pages import Problem, look, look_feed
from bot.preview import Preview
from bot.router import Router
from bot.services import content, drafts, people
from bot.settings import Settings
from bot.web import Fetcher
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
        fallback: Drafter | None = None,
        router: Router | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.drafter = drafter
        # what rewords a draft too close to another member's: the template drafter
        self.fallback = fallback or drafter
        self.router = router or build_router()
        self.fetcher = fetcher  # link previews and feeds; None: no previews
        # the platforms this process sends to first (`connect`), and who sends the outbox
        self.outbound: dict[str, Outbound] = {}
        self.wake: Callable[[], Awaitable[None]] | None = None

    def connect(
        self, platforms: Sequence[Outbound], wake: Callable[[], Awaitable[None]] | None
    ) -> None:
        """Let commands tell other people (a suggester, of the review's outcome): through
        these platforms' outboxes, and `wake` their sender once the command is stored."""
        self.outbound = {outbound.platform: outbound for outbound in platforms}
        self.wake = wake

    def translator(self, language: str | None) -> Translator:
        return Translator(language or self.settings.locale)

    async def run(self, command: Command, deliver: Callable[[Reply], Awaitable[None]]) -> None:
        """What every adapter does with a command: show the reply, then whatever the work
        it left (`Reply.later`: a model's draft) produces, in place of its placeholder."""
        reply = await self.handle(command)
        await deliver(reply)
        for job in reply.later:
            await deliver(await self.finish(job))

    async def handle(self, command: Command) -> Reply:
        """The reply to one command. Drafts from an instant drafter are written before it
        returns; a slower drafter's are left in `Reply.later` for `finish`."""
        reply = await self._handle(command)
        if not self.drafter.instant or not reply.later:
            return reply
        done = Reply(reply.messages)
        for job in reply.later:
            done += await self.finish(job)
        return done

    async def finish(self, job: DraftJob) -> Reply:
        """Write a draft left for later, with no transaction open while the drafter works.
        The adapters' error handlers do not see this work, so failures are answered here,
        in place of the placeholder: the member is never left with "drafting…"."""
        t = self.translator(job.language)
        try:
            written = await drafts.write(
                database=self.database,
                drafter=self.drafter,
                fallback=self.fallback,
                job=job,
                company=self.settings.company,
                model=self.settings.llm_model,
                clock=self.clock,
            )
        except Exception:
            log.exception("writing a draft failed (claim %s)", job.claim_id)
            text = t("drafting.failed")
            return Reply(
                (Message(text, (Paragraph(text),), Audience.DIRECT, replaces=job.placeholder),)
            )
        return finished(t, self.settings.company, job, written)

    async def _handle(self, command: Command) -> Reply:
        t = self.translator(command.actor.language)
        ctx: Context | None = None
        told: list[str] = []
        try:
            preview, feed, problem = await self._preview(command)
            async with self.database.transaction() as session:
                person = await people.find(session, command.actor)
                t = self.translator(command.actor.language or (person.language if person else None))
                roles = await people.roles_of(session, self.settings, command.actor)

                async def tell(platform: str, user_id: str, message: Message) -> bool:
                    outbound = self.outbound.get(platform)
                    if outbound is None:
                        log.info("nobody told on %s: not connected here", platform)
                        return False
                    await outbound.enqueue(session, message, to=user_id)
                    told.append(user_id)
                    return True

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
                    preview=preview,
                    feed=feed,
                    no_preview=problem,
                    tell=tell,
                )
                route = self.router.resolve(command.name, roles)
                reply = await route.handler(ctx, command)
        except AmbassadorError as error:
            log.info("refused %s from %s: %s", command.name, command.actor.platform, error.key)
            reply = Reply.say(t(error.key, **error.params))
            if isinstance(error, UsageError) and error.key == "error.unknown_command" and ctx:
                reply += help_reply(ctx)
            return reply
        if told and self.wake is not None:
            await self.wake()  # what the command queued for others goes out now
        return reply

    async def _preview(
        self, command: Command
    ) -> tuple[Preview | None, FeedDoc | None, Problem | None]:
        """The page of the URL a command names (`add`, `suggest`), fetched before its
        transaction opens: a slow site never holds the database. Only for someone the
        command is for, and only for a URL that passes the content rules."""
        route = self.router.find(command.name)
        url = route.previews(command) if route is not None and route.previews else None
        if route is None or not url:
            return None, None, None
        async with self.database.transaction() as session:
            roles = await people.roles_of(session, self.settings, command.actor)
            person = await people.find(session, command.actor)
        self.router.resolve(command.name, roles)  # refused here: nothing is fetched
        if not roles and not (person is not None and person.member):
            return None, None, None  # a member's command, from someone not one (yet)
        url = content.normalise_url(url)
        if route.reads == "feed":
            feed, problem = await look_feed(self.fetcher, url)
            return None, feed, problem
        preview, problem = await look(self.fetcher, url)
        return preview, None, problem
