"""The Slack transport: acknowledge at once, then deduplicate, translate, call the core and
deliver. Everything slow happens after the acknowledgement Slack waits 3 seconds for.

One listener per kind of payload; what each registers is listed in COMMANDS, ACTIONS and
EVENTS, which the manifest test compares with `manifest.yml`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import inbound, modals
from adapters.slack.delivery import Origin, SlackDelivery
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
_OURS = re.compile(r"^amb:")
_LINKS = re.compile(r"^link:")

Ack = Callable[..., Awaitable[None]]
HandOff = Callable[[Coroutine[Any, Any, None]], object]  # runs work after the acknowledgement


class SlackTransport:
    """Wires a Bolt app to the core. `delivery` sends; the core decides."""

    def __init__(
        self,
        core: Ambassador,
        app: AsyncApp,
        slack: SlackDelivery,
        hand_off: HandOff,
    ) -> None:
        self.core = core
        self.app = app
        self.slack = slack
        self._hand_off = hand_off
        self._router_names = {route.name for route in core.router.listed(frozenset({"admin"}))}

    def register(self) -> None:
        app = self.app
        app.command(COMMANDS[0])(self.on_command)
        app.action(_OURS)(self.on_action)
        app.action(_LINKS)(self.on_link)
        app.view(inbound.ADD_FORM)(self.on_add_form)
        app.event("reaction_added")(self.on_reaction)
        app.event("app_mention")(self.on_mention)
        app.event({"type": "message", "channel_type": "im"})(self.on_direct_message)
        app.event("app_home_opened")(self.on_home_opened)

    # -- helpers -------------------------------------------------------------------------

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
        reply = await self.core.handle(command)
        await self.slack.deliver(reply, origin)

    async def _guarded(self, origin: Origin, work: Callable[[], Awaitable[None]]) -> None:
        """The adapter's one global handler: log the bug, answer briefly, keep serving."""
        try:
            await work()
        except Exception:
            log.exception("Slack request failed")
            language = await self.slack.language(origin.user)
            text = self.core.translator(language)("error.generic")
            try:
                await self.slack.deliver(Reply.say(text), origin)
            except Exception:
                log.exception("could not answer after a failure")

    # -- listeners -----------------------------------------------------------------------

    async def on_command(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user = str(body.get("user_id", ""))
        origin = Origin(user, body.get("channel_id"), respond)

        async def work() -> None:
            language = await self.slack.language(user)
            await self._run(inbound.slash_command(body, language), origin)

        self._hand_off(self._guarded(origin, work))

    async def on_action(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user = inbound.user_of(body) or ""
        channel = (body.get("channel") or {}).get("id")
        origin = Origin(user, channel, respond if body.get("response_url") else None)

        async def work() -> None:
            if not await self._first(inbound.action_key(body), DOUBLE_CLICK):
                return
            language = await self.slack.language(user)
            command = inbound.block_action(body, language)
            if command is not None and command.name == "add_form" and not command.args:
                await self._open_add_form(command, body)
                return
            await self._run(command, origin)
            if command is not None and (body.get("view") or {}).get("type") == "home":
                await self._publish_home(user, language)  # show the change where it was made

        self._hand_off(self._guarded(origin, work))

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

    async def on_link(self, ack: Ack) -> None:
        await ack()  # a share link: the browser opens it; nothing to do here

    async def on_add_form(self, ack: Ack, body: dict[str, Any]) -> None:
        user = inbound.user_of(body) or ""
        language = await self.slack.language(user)
        t = self.core.translator(language)
        errors = modals.errors(
            inbound.form_values(body), t, tz=self.core.settings.tz, now=self.core.clock.now()
        )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        origin = Origin(user)
        command = inbound.view_submission(body, language)
        self._hand_off(self._guarded(origin, lambda: self._run(command, origin)))

    async def on_reaction(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        item = event.get("item") or {}
        user = str(event.get("user", ""))
        origin = Origin(user, item.get("channel"))

        async def work() -> None:
            if event.get("reaction") not in inbound.REACTIONS:
                return  # not a keycap: no lookup, nothing stored
            anchor = await self._anchor(item.get("channel"), item.get("ts"))
            if anchor is None or not await self._first(inbound.event_key(body)):
                return
            language = await self.slack.language(user)
            await self._run(inbound.reaction(event, anchor, language), origin)

        self._hand_off(self._guarded(origin, work))

    async def on_mention(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        user = str(event.get("user", ""))
        origin = Origin(user, event.get("channel"), thread_ts=event.get("thread_ts"))

        async def work() -> None:
            if not await self._first(inbound.event_key(body)):
                return
            anchor = await self._anchor(event.get("channel"), event.get("thread_ts"))
            language = await self.slack.language(user)
            await self._run(inbound.mention(event, anchor, language), origin)

        self._hand_off(self._guarded(origin, work))

    async def on_direct_message(
        self, ack: Ack, body: dict[str, Any], event: dict[str, Any]
    ) -> None:
        await ack()
        user = str(event.get("user", ""))
        origin = Origin(user, event.get("channel"))

        async def work() -> None:
            if event.get("bot_id") or event.get("subtype") or not user:
                return
            if not await self._first(inbound.event_key(body)):
                return
            anchor = await self._anchor(event.get("channel"), event.get("thread_ts"))
            language = await self.slack.language(user)
            command = inbound.direct_message(
                event, anchor, language, lambda word: word in self._router_names
            )
            await self._run(command, origin)

        self._hand_off(self._guarded(origin, work))

    async def on_home_opened(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab") not in (None, "home"):
            return
        user = str(event.get("user", ""))
        origin = Origin(user)

        async def work() -> None:
            await self._publish_home(user, await self.slack.language(user))

        self._hand_off(self._guarded(origin, work))

    async def _publish_home(self, user: str, language: str | None) -> None:
        reply = await self.core.handle(Command(inbound.actor(user, language), "home"))
        if reply.messages:
            await self.slack.publish_home(user, reply.messages[-1])


def build_slack(
    core: Ambassador,
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    hand_off: HandOff | None = None,
    delivery_client: AsyncWebClient | None = None,
) -> tuple[AsyncApp, SlackDelivery]:
    """A Bolt app wired to the core, for HTTP (with a signing secret) or Socket Mode.
    `hand_off` runs the work after each acknowledgement (default: a task on the same loop;
    the server passes its worker loop, and a `delivery_client` with pooled connections
    made on that loop)."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    slack = SlackDelivery(
        delivery_client or client,
        core.database,
        core.clock,
        default_channel=core.settings.digest_channel,
    )
    SlackTransport(core, app, slack, hand_off or asyncio.ensure_future).register()
    return app, slack
