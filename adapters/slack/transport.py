"""The Slack transport: acknowledge at once, then deduplicate, translate, call the core and
deliver. Everything slow happens after the acknowledgement Slack waits 3 seconds for.

One listener per kind of payload; what each registers is listed in COMMANDS, ACTIONS and
EVENTS, which the manifest test compares with `manifest.yml`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import inbound, modals
from adapters.slack.delivery import Origin, SlackDelivery
from adapters.worker import Job
from bot.app import Ambassador
from bot.commands import Command
from bot.messages import Anchor, Reply
from bot.services import people
from storage import delivery

log = logging.getLogger(__name__)

COMMANDS = ("/ambassador",)  # each needs the `commands` scope
# The events the bot subscribes to, and the scope each needs. No channel history, ever.
EVENTS = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "reaction_added": "reactions:read",
}
DOUBLE_CLICK = timedelta(seconds=5)
LOOKUP_BUDGET = 1.0  # seconds a modal may spend learning the person's language before ack
_OURS = re.compile(r"^amb:")
_LINKS = re.compile(r"^link:")

Ack = Callable[..., Awaitable[None]]
HandOff = Callable[["Job"], object]  # takes over the work after an acknowledgement


class SlackReceiver:
    """The acknowledging side: verify (Bolt), acknowledge, hand the job over. Nothing here
    touches the database or waits on the core."""

    def __init__(
        self, app: AsyncApp, core: Ambassador, lookups: SlackDelivery, hand_off: HandOff
    ) -> None:
        self.app = app
        self.core = core
        self.lookups = lookups  # only for the language of a modal's inline errors
        self._hand_off = hand_off

    def register(self) -> None:
        app = self.app
        app.command(COMMANDS[0])(self._simple("command"))
        app.action(_OURS)(self._simple("action"))
        app.action(_LINKS)(self.on_link)
        app.view(inbound.ADD_FORM)(self.on_add_form)
        app.event("reaction_added")(self._simple("reaction"))
        app.event("app_mention")(self._simple("mention"))
        app.event({"type": "message", "channel_type": "im"})(self._simple("direct"))
        app.event("app_home_opened")(self._simple("home"))

    def _simple(self, kind: str) -> Callable[[Ack, dict[str, Any]], Awaitable[None]]:
        async def listener(ack: Ack, body: dict[str, Any]) -> None:
            await ack()
            self._hand_off(Job(kind, body))

        return listener

    async def on_link(self, ack: Ack) -> None:
        await ack()  # a share link: the browser opens it; nothing to do here

    async def on_add_form(self, ack: Ack, body: dict[str, Any]) -> None:
        """The form's inline errors must come back in the acknowledgement itself."""
        user = inbound.user_of(body) or ""
        language = None
        with contextlib.suppress(TimeoutError):  # the errors must go back within 3 seconds
            async with asyncio.timeout(LOOKUP_BUDGET):
                language = await self.lookups.language(user)
        t = self.core.translator(language)
        errors = modals.errors(
            inbound.form_values(body), t, tz=self.core.settings.tz, now=self.core.clock.now()
        )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        self._hand_off(Job("add_form", body))


class SlackWorker:
    """The working side: deduplicate, translate, call the core, deliver. Runs on the worker
    loop, in this process or another."""

    def __init__(self, core: Ambassador, slack: SlackDelivery) -> None:
        self.core = core
        self.slack = slack
        self._router_names = {
            route.name for route in core.router.listed(frozenset({"admin", "manager"}))
        }
        self._processors: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "command": self._command,
            "action": self._action,
            "add_form": self._add_form,
            "reaction": self._reaction,
            "mention": self._mention,
            "direct": self._direct_message,
            "home": self._home,
        }

    async def process(self, job: Job) -> None:
        """The adapter's one global handler: log the bug, answer briefly, keep serving."""
        processor = self._processors.get(job.kind)
        if processor is None:
            log.error("unknown job kind %r", job.kind)
            return
        try:
            await processor(job.body)
        except Exception:
            log.exception("Slack %s failed", job.kind)
            origin = self._origin(job.body)
            language = await self.slack.language(origin.user)
            text = self.core.translator(language)("error.generic")
            try:
                await self.slack.deliver(Reply.say(text), origin)
            except Exception:
                log.exception("could not answer after a failure")

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _origin(body: dict[str, Any]) -> Origin:
        """Where answers go: the response_url of commands and buttons, else ephemeral in the
        channel (or thread) of the event, else a direct message."""
        event = body.get("event") or {}
        user = inbound.user_of(body) or ""
        url = body.get("response_url")
        respond = AsyncRespond(response_url=str(url)) if url else None
        channel = (
            body.get("channel_id")
            or (body.get("channel") or {}).get("id")
            or (event.get("item") or {}).get("channel")
            or (event.get("channel") if event.get("type") != "app_home_opened" else None)
        )
        return Origin(user, channel, respond, thread_ts=event.get("thread_ts"))

    async def _first(self, key: str | None, window: timedelta | None = None) -> bool:
        """Persisted deduplication: False for a Slack retry or a double click."""
        if key is None:
            return True
        async with self.core.database.transaction() as session:
            return await delivery.first_sighting(
                session, key=key, now=self.core.clock.now(), window=window
            )

    async def _anchor(self, channel: str | None, ts: str | None) -> Anchor | None:
        if not channel or not ts:
            return None
        async with self.core.database.transaction() as session:
            found = await delivery.anchor_of(
                session, platform=inbound.PLATFORM, channel=channel, ts=ts
            )
        return Anchor(*found) if found else None

    async def _run(self, command: Command | None, origin: Origin) -> None:
        if command is None:
            return

        async def deliver(reply: Reply) -> None:
            await self.slack.deliver(reply, origin)

        await self.core.run(command, deliver)

    async def _publish_home(self, user: str, language: str | None) -> None:
        reply = await self.core.handle(Command(inbound.actor(user, language), "home"))
        if reply.messages:
            await self.slack.publish_home(user, reply.messages[-1])

    # -- one processor per kind of request -----------------------------------------------

    async def _command(self, body: dict[str, Any]) -> None:
        origin = self._origin(body)
        language = await self.slack.language(origin.user)
        await self._run(inbound.slash_command(body, language), origin)

    async def _action(self, body: dict[str, Any]) -> None:
        if not await self._first(inbound.action_key(body), DOUBLE_CLICK):
            return
        origin = self._origin(body)
        language = await self.slack.language(origin.user)
        command = inbound.block_action(body, language)
        if command is not None and command.name == "add_form" and not command.args:
            await self._open_add_form(command, body)
            return
        await self._run(command, origin)
        if command is not None and (body.get("view") or {}).get("type") == "home":
            await self._publish_home(origin.user, language)  # show the change where it was made

    async def _open_add_form(self, command: Command, body: dict[str, Any]) -> None:
        """The Home tab's "Add content" opens a modal, for managers only (checked here and
        again by the router when the form comes back)."""
        async with self.core.database.transaction() as session:
            roles = await people.roles_of(session, self.core.settings, command.actor)
        t = self.core.translator(command.actor.language)
        if "manager" not in roles:
            refusal = Reply.say(t("error.forbidden_manager"))
            await self.slack.deliver(refusal, Origin(command.actor.user_id))
            return
        await self.slack.open_modal(str(body.get("trigger_id")), modals.add_content(t))

    async def _add_form(self, body: dict[str, Any]) -> None:
        user = inbound.user_of(body) or ""
        language = await self.slack.language(user)
        await self._run(inbound.view_submission(body, language), Origin(user))

    async def _reaction(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("reaction") not in inbound.REACTIONS:
            return  # not a keycap: no lookup, nothing stored
        item = event.get("item") or {}
        anchor = await self._anchor(item.get("channel"), item.get("ts"))
        if anchor is None or not await self._first(inbound.event_key(body)):
            return
        origin = self._origin(body)
        language = await self.slack.language(origin.user)
        await self._run(inbound.reaction(event, anchor, language), origin)

    async def _mention(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if not await self._first(inbound.event_key(body)):
            return
        anchor = await self._anchor(event.get("channel"), event.get("thread_ts"))
        origin = self._origin(body)
        language = await self.slack.language(origin.user)
        await self._run(inbound.mention(event, anchor, language), origin)

    async def _direct_message(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return  # the bot's own posts, edits, joins: nothing a person asked
        if not await self._first(inbound.event_key(body)):
            return
        anchor = await self._anchor(event.get("channel"), event.get("thread_ts"))
        origin = self._origin(body)
        language = await self.slack.language(origin.user)
        command = inbound.direct_message(
            event, anchor, language, lambda word: word in self._router_names
        )
        await self._run(command, origin)

    async def _home(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab") not in (None, "home"):
            return
        user = str(event.get("user", ""))
        await self._publish_home(user, await self.slack.language(user))


def build_slack(
    core: Ambassador,
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    hand_off: HandOff,
) -> AsyncApp:
    """A Bolt app that acknowledges and hands each job to `hand_off`, for HTTP (with a
    signing secret) or Socket Mode."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    lookups = SlackDelivery(client, core.database, core.clock, default_channel=None)
    SlackReceiver(app, core, lookups, hand_off).register()
    return app


def build_worker(core: Ambassador, client: AsyncWebClient) -> SlackWorker:
    """The working side, with a client made on the loop it will run on."""
    slack = SlackDelivery(
        client, core.database, core.clock, default_channel=core.settings.digest_channel
    )
    return SlackWorker(core, slack)
