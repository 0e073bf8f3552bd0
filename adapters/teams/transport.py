"""The Teams transport: authenticate and acknowledge at once (botbuilder's CloudAdapter),
then deduplicate, translate, call the core and deliver, on the worker side.

The receiving side does no database work and never waits on the core: the activity is
handed over as JSON, like a Slack job, and the Bot Connector gets its answer in
milliseconds. Everything said back is sent afterwards, proactively, with the
conversation reference kept from the activity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity

from adapters.server import TEAMS_PATH
from adapters.teams import inbound
from adapters.teams.delivery import Origin, TeamsDelivery
from adapters.teams.render import FORM_COMMAND, add_content_card
from adapters.worker import Job
from bot.app import Ambassador
from bot.commands import Command
from bot.kinds import KINDS
from bot.messages import Anchor, Reply
from bot.services import people
from bot.settings import Settings
from storage import delivery

log = logging.getLogger(__name__)

JOB = "teams"
__all__ = ["JOB", "TEAMS_PATH", "TeamsWorker", "build_adapter", "build_worker", "messages_handler"]
DOUBLE_CLICK = timedelta(seconds=5)

HandOff = Callable[[Job], object]


class _Config:
    """What ConfigurationBotFrameworkAuthentication reads, from the settings."""

    def __init__(self, settings: Settings) -> None:
        local = settings.teams_mode == "local"
        password = settings.microsoft_app_password
        self.APP_ID = "" if local else settings.microsoft_app_id or ""
        self.APP_PASSWORD = "" if local or password is None else password.get_secret_value()
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""


def build_adapter(settings: Settings) -> CloudAdapter:
    """CloudAdapter with ConfigurationBotFrameworkAuthentication: with an app id every
    request must carry a valid Bot Framework token; `AMBASSADOR_TEAMS=local` (and no app
    id) turns authentication off, for the Emulator on one machine."""
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config(settings)))


def app_id_of(settings: Settings) -> str:
    return "" if settings.teams_mode == "local" else settings.microsoft_app_id or ""


class _HandOffBot:
    """The bot CloudAdapter runs once the request is authenticated: it only hands over."""

    def __init__(self, hand_off: HandOff) -> None:
        self._hand_off = hand_off

    async def on_turn(self, turn: TurnContext) -> None:
        self._hand_off(Job(JOB, turn.activity.serialize()))


def messages_handler(adapter: CloudAdapter, hand_off: HandOff) -> Callable[[web.Request], Any]:
    """`POST /api/messages`: 401 without a valid token (when authentication is on), 400
    for what is not an activity, 201 once handed over."""
    bot = _HandOffBot(hand_off)

    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            response = await adapter.process(request, bot)
        except web.HTTPException as refusal:
            return web.json_response({"error": refusal.reason}, status=refusal.status)
        except Exception as exc:  # noqa: BLE001 - a malformed activity is the sender's problem
            log.warning("unreadable Teams activity: %s", type(exc).__name__)
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        return response or web.Response(status=201)

    return messages


class TeamsWorker:
    """The working side: deduplicate, translate, call the core, deliver."""

    def __init__(self, core: Ambassador, teams: TeamsDelivery) -> None:
        self.core = core
        self.teams = teams
        self._router_names = {
            route.name for route in core.router.listed(frozenset({"admin", "manager"}))
        }
        self._router_names.add("home")  # Teams has no Home tab: typing `home` shows it

    async def process(self, job: Job) -> None:
        """The adapter's one global handler: log the bug, answer briefly, keep serving."""
        activity = job.body
        try:
            await self._activity(activity)
        except Exception:
            log.exception("Teams %s failed", activity.get("type"))
            user = inbound.user_of(activity)
            if user is None:
                return
            origin = self._origin(activity)
            text = self.core.translator(origin.language)("error.generic")
            try:
                await self.teams.deliver(Reply.say(text), origin)
            except Exception:
                log.exception("could not answer after a failure")

    @staticmethod
    def _origin(activity: Mapping[str, Any]) -> Origin:
        return Origin(
            inbound.user_of(activity), inbound.place_of(activity), inbound.language_of(activity)
        )

    async def _first(self, key: str | None, window: timedelta | None = None) -> bool:
        if key is None:
            return True
        async with self.core.database.transaction() as session:
            return await delivery.first_sighting(
                session, key=key, now=self.core.clock.now(), window=window
            )

    async def _anchor(self, conversation: str, message: str | None) -> Anchor | None:
        if not message:
            return None
        async with self.core.database.transaction() as session:
            found = await delivery.anchor_of(
                session, platform=inbound.PLATFORM, channel=conversation, ts=message
            )
        return Anchor(*found) if found else None

    async def _remember(self, activity: Mapping[str, Any]) -> None:
        """Keep where the bot can speak again: this conversation (a channel's, without the
        thread), and who it is with when it is a 1:1 chat."""
        place = inbound.place_of(activity)
        reference = TurnContext.get_conversation_reference(Activity().deserialize(dict(activity)))
        await self.teams.remember(
            reference,
            kind=place.kind,
            user=inbound.user_of(activity) if place.personal else None,
            tenant=place.tenant,
        )

    async def _activity(self, activity: Mapping[str, Any]) -> None:
        if inbound.is_install(activity):
            await self._welcome(activity)
            return
        if activity.get("type") != "message":
            return
        if not await self._first(inbound.activity_key(activity)):
            return  # Teams delivered it again
        if activity.get("value") is not None and not await self._first(
            inbound.press_key(activity), DOUBLE_CLICK
        ):
            return  # a double click
        await self._remember(activity)
        place = inbound.place_of(activity)
        replied_to = place.thread or activity.get("replyToId")
        anchor = await self._anchor(place.conversation, replied_to)
        command = inbound.command(
            activity,
            bot_id=str((activity.get("recipient") or {}).get("id") or ""),
            anchor=anchor,
            commands=lambda word: word in self._router_names,
        )
        if command is None:
            return
        origin = self._origin(activity)
        if command.name == FORM_COMMAND and not command.args:
            await self._open_add_form(command, origin)
            return
        if command.name == "digest" and command.args == ("here",):
            text = self.core.translator(origin.language)("teams.here_in_channel")
            await self.teams.deliver(Reply.say(text), origin)
            return
        await self._run(command, origin)

    async def _open_add_form(self, command: Command, origin: Origin) -> None:
        """The overview's "Add content" shows the form as a card, for managers only
        (checked here, and again by the router when the filled-in card comes back)."""
        async with self.core.database.transaction() as session:
            roles = await people.roles_of(session, self.core.settings, command.actor)
        t = self.core.translator(command.actor.language)
        if "manager" not in roles:
            await self.teams.deliver(Reply.say(t("error.forbidden_manager")), origin)
            return
        names = ("url", "title", "summary", "expires", "kind", "kind_guess")
        labels = {name: t(f"slack.form_{name}") for name in names}
        choices = [(kind, t(f"kinds.{kind}")) for kind in KINDS]
        card = add_content_card(t("slack.form_heading"), labels, t("slack.form_submit"), choices)
        await self.teams.send_to_person(origin, card)

    async def _run(self, command: Command, origin: Origin) -> None:
        async def deliver(reply: Reply) -> None:
            await self.teams.deliver(reply, origin)

        await self.core.run(command, deliver)

    async def _welcome(self, activity: Mapping[str, Any]) -> None:
        """Installed in a personal chat or a team: say what the programme is, there."""
        if not await self._first(inbound.activity_key(activity)):
            return
        await self._remember(activity)
        place = inbound.place_of(activity)
        user = inbound.user_of(activity) or "installer"
        command = Command(inbound.actor(user, inbound.language_of(activity)), "welcome")
        reply = await self.core.handle(command)
        for message in reply.messages:
            await self.teams.post_to(place.conversation, message)


def build_worker(core: Ambassador, settings: Settings) -> TeamsWorker:
    """The working side, made on the loop it will run on."""
    teams = TeamsDelivery(
        build_adapter(settings), core.database, core.clock, app_id=app_id_of(settings)
    )
    return TeamsWorker(core, teams)
