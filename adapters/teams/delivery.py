"""Sending the core's replies to Teams: through botbuilder's CloudAdapter to the Bot
Connector, to the right conversation for each audience, paced, retried, and never
silently dropped.

Teams has no ephemeral messages: what the core means for the requester alone goes to the
person's 1:1 chat with the bot (opened when needed), like their drafts. The digest goes to
the channel a manager chose with `digest here`. A send Teams still refuses after the
retries here (429, 412, 502 and 504, with backoff, Retry-After honoured) goes to the
persisted outbox, like Slack's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.outbox import RETRY_DELAYS, SEND_BUDGET, Lru, send_due
from adapters.teams.inbound import PLATFORM, Place
from adapters.teams.render import activities
from bot.clock import Clock
from bot.i18n import Translator
from bot.messages import Audience, Message, Reply
from storage import conversations, delivery
from storage.database import Database
from storage.models import Outbox

log = logging.getLogger(__name__)

RETRIED = {429, 412, 502, 504}  # Teams' "try again" answers
TRIES = 4  # one send and three retries
BACKOFF = (1.0, 2.0, 4.0)  # seconds, when Teams gives no Retry-After
MAX_RETRY_AFTER = 15.0  # a longer wait goes to the outbox instead
PER_SECOND = 7  # Teams' limit: messages a second into one conversation
WINDOW = 1.1  # seconds: Teams' second, with room for the network's jitter
PERMANENT = {"no_conversation", "http_400", "http_401", "http_403", "http_404", "http_413"}


class NoConversation(Exception):
    """Nowhere to send: the bot was never installed or addressed there."""


@dataclass(frozen=True)
class Origin:
    """Who acted, and where (None for scheduled work)."""

    user: str | None
    place: Place | None = None
    language: str | None = None


def status_of(exc: BaseException) -> tuple[int | None, float | None]:
    """The HTTP status and Retry-After (seconds) of a failed Bot Connector call, whatever
    the client's exception shape (msrest's HttpOperationError carries the response)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    try:
        raw = headers.get("Retry-After") if hasattr(headers, "get") else None
        retry_after = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        retry_after = None
    return (int(status) if isinstance(status, int) else None), retry_after


def error_of(exc: Exception) -> str:
    if isinstance(exc, NoConversation):
        return "no_conversation"
    status, _ = status_of(exc)
    return f"http_{status}" if status else type(exc).__name__


class TeamsDelivery:
    platform = PLATFORM  # as the core sees it when it speaks first (`bot.outbound.Outbound`)

    def __init__(
        self,
        adapter: CloudAdapter,
        database: Database,
        clock: Clock,
        *,
        app_id: str,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        send_budget: float = SEND_BUDGET,
    ) -> None:
        self.adapter = adapter
        self.database = database
        self.clock = clock
        self.app_id = app_id
        self._monotonic = monotonic
        self._sleep = sleep
        self.send_budget = send_budget
        self.owner = uuid.uuid4().hex
        self._sent: dict[str, deque[float]] = {}  # conversation -> recent send times
        self._locks: dict[str, asyncio.Lock] = {}
        self._placed: Lru = Lru()  # message key -> (conversation, activity id)

    # -- where --------------------------------------------------------------------------

    async def _reference(self, conversation: str) -> ConversationReference:
        async with self.database.transaction() as session:
            row = await conversations.find(session, platform=PLATFORM, conversation_id=conversation)
        if row is None:
            raise NoConversation(conversation)
        return ConversationReference().deserialize(json.loads(row.reference))

    async def personal_chat(self, user: str, near: Place | None = None) -> str:
        """The person's 1:1 chat with the bot; opened (and remembered) when there is none,
        through the service URL of where they acted or of their tenant."""
        async with self.database.transaction() as session:
            row = await conversations.personal(session, platform=PLATFORM, user_id=user)
            if row is not None:
                return row.conversation_id
            tenant = near.tenant if near else None
            known = await conversations.any_in_tenant(session, platform=PLATFORM, tenant_id=tenant)
        service_url = (near.service_url if near and near.service_url else None) or (
            known.service_url if known else None
        )
        if not service_url:
            raise NoConversation(user)
        tenant = tenant or (known.tenant_id if known else None)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=f"28:{self.app_id}" if self.app_id else "28:ambassador"),
            members=[ChannelAccount(id=user)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        opened: list[str] = []

        async def keep(turn: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(turn.activity)
            opened.append(str(reference.conversation.id))
            await self.remember(reference, kind="personal", user=user, tenant=tenant)

        await self._retrying(
            lambda: self.adapter.create_conversation(
                self.app_id, keep, parameters, "msteams", service_url, None
            ),
        )
        return opened[0]

    async def remember(
        self, reference: ConversationReference, *, kind: str, user: str | None, tenant: str | None
    ) -> None:
        conversation = str(reference.conversation.id).partition(";messageid=")[0]
        reference.conversation.id = conversation
        async with self.database.transaction() as session:
            await conversations.remember(
                session,
                platform=PLATFORM,
                conversation_id=conversation,
                kind=kind,
                user_id=user if kind == "personal" else None,
                tenant_id=tenant,
                service_url=str(reference.service_url or ""),
                reference=json.dumps(reference.serialize()),
                now=self.clock.now(),
            )

    # -- sending ------------------------------------------------------------------------

    async def _paced(self, conversation: str) -> None:
        """At most PER_SECOND sends into one conversation in any second."""
        sent = self._sent.setdefault(conversation, deque(maxlen=PER_SECOND))
        if len(sent) == PER_SECOND:
            wait = sent[0] + WINDOW - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
        sent.append(self._monotonic())

    async def _retrying(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Teams' 429, 412, 502 and 504 are tried again after Retry-After or a backoff."""
        for attempt in range(TRIES):
            try:
                return await call()
            except Exception as exc:
                status, retry_after = status_of(exc)
                if status not in RETRIED or attempt == TRIES - 1:
                    raise
                wait = retry_after if retry_after is not None else BACKOFF[attempt]
                if wait > MAX_RETRY_AFTER:
                    raise
                log.info("Teams answered %s; trying again in %.1f s", status, wait)
                await self._sleep(wait)
        raise AssertionError("unreachable")

    async def _send(
        self, conversation: str, payload: dict[str, Any], *, update: str | None = None
    ) -> str:
        """One activity into `conversation` (or in place of activity `update`); returns its
        id."""
        reference = await self._reference(conversation)
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        result: list[str] = []

        async def logic(turn: TurnContext) -> None:
            activity = Activity().deserialize(payload)
            if update is not None:
                activity.id = update
                activity.conversation = reference.conversation
                await turn.update_activity(activity)
                result.append(update)
                return
            response = await turn.send_activity(activity)
            result.append(str(response.id) if response and response.id else "")

        async with lock:
            await self._paced(conversation)
            await self._retrying(
                lambda: self.adapter.continue_conversation(reference, logic, self.app_id)
            )
        return result[0] if result else ""

    async def _post(
        self, conversation: str, payloads: list[dict[str, Any]], anchor: tuple[str, int] | None
    ) -> str:
        """Post every activity of one message; the first is what replies point to."""
        first = ""
        for payload in payloads:
            posted = await self._send(conversation, payload)
            first = first or posted
        if anchor is not None and first:
            try:  # delivered already: failing to note the anchor must not cause a resend
                async with self.database.transaction() as session:
                    await delivery.remember(
                        session,
                        platform=PLATFORM,
                        channel=conversation,
                        ts=first,
                        anchor_kind=anchor[0],
                        anchor_id=anchor[1],
                        now=self.clock.now(),
                    )
            except Exception:
                log.exception("could not record what Teams message %s is about", first)
        return first

    async def send_to_person(self, origin: Origin, activity: dict[str, Any]) -> None:
        """A ready-made activity (the "Add content" form) into the person's chat."""
        assert origin.user is not None
        conversation = await self._conversation("direct", origin.user, origin.place)
        await self._send(conversation, activity)

    async def post_to(self, conversation: str, message: Message) -> None:
        """`message` into that very conversation (the welcome, where the bot was added)."""
        anchor = (message.anchor.kind, message.anchor.id) if message.anchor else None
        await self._post(conversation, activities(message), anchor)

    async def deliver(self, reply: Reply, origin: Origin) -> None:
        for message in reply.messages:
            await self._deliver_one(message, origin)

    async def _deliver_one(self, message: Message, origin: Origin) -> None:
        payloads = activities(message)
        anchor = (message.anchor.kind, message.anchor.id) if message.anchor else None
        kind, target = self._where(message, origin)
        try:
            conversation = await self._conversation(kind, target, origin.place)
            if message.replaces and len(payloads) == 1:
                placed = self._placed.pop(message.replaces, None)
                if placed is not None:
                    try:
                        await self._send(placed[0], payloads[0], update=placed[1])
                    except Exception as exc:  # noqa: BLE001 - posting anew is the fallback
                        log.warning("Teams update failed (%s); posting anew", error_of(exc))
                    else:
                        return
            posted = await self._post(conversation, payloads, anchor)
            if message.key and posted:
                self._placed.remember(message.key, (conversation, posted))
        except Exception as exc:  # noqa: BLE001 - a failed delivery must not lose the message
            error = error_of(exc)
            if error in PERMANENT:
                log.warning("Teams refused a %s message for good: %s", kind, error)
                if kind == "channel" and origin.user:
                    await self._tell(origin, "teams.cannot_post", reason=error)
                return
            await self._queue(kind, target, payloads, anchor, error)
            if origin.user:
                await self._tell(origin, "teams.queued")

    def _where(self, message: Message, origin: Origin) -> tuple[str, str]:
        if message.audience is Audience.CHANNEL:
            return "channel", message.channel or ""
        return "direct", origin.user or ""

    async def _conversation(self, kind: str, target: str, near: Place | None) -> str:
        if kind == "channel":
            if not target:
                raise NoConversation("no digest channel")
            return target
        if near is not None and near.personal:
            return near.conversation
        return await self.personal_chat(target, near)

    async def _tell(self, origin: Origin, key: str, **params: str) -> None:
        """A short word to the person who acted, in their chat, best effort."""
        assert origin.user is not None
        text = Translator(origin.language or "en")(key, **params)
        try:
            conversation = await self._conversation("direct", origin.user, origin.place)
            await self._send(conversation, {"type": "message", "text": text})
        except Exception:
            log.warning("could not tell a Teams user about a delivery problem", exc_info=True)

    async def _queue(
        self,
        kind: str,
        target: str,
        payloads: list[dict[str, Any]],
        anchor: tuple[str, int] | None,
        error: str,
    ) -> None:
        log.warning("queueing a Teams %s message after: %s", kind, error)
        async with self.database.transaction() as session:
            await delivery.enqueue(
                session,
                platform=PLATFORM,
                kind=kind,
                target=target,
                payload=json.dumps({"activities": payloads}),
                anchor=anchor,
                error=error,
                now=self.clock.now(),
                delay=timedelta(seconds=RETRY_DELAYS[0]),
            )

    # -- the outbox (scheduled fan-outs, retries) ---------------------------------------

    async def enqueue(
        self, session: AsyncSession, message: Message, *, to: str | None = None
    ) -> None:
        anchor = (message.anchor.kind, message.anchor.id) if message.anchor else None
        await delivery.enqueue(
            session,
            platform=PLATFORM,
            kind="direct" if to else "channel",
            target=to or message.channel or "",
            payload=json.dumps({"activities": activities(message)}),
            anchor=anchor,
            error=None,
            now=self.clock.now(),
            delay=timedelta(0),
        )

    async def enqueue_file(
        self, session: AsyncSession, *, to: str, filename: str, title: str, content: bytes
    ) -> None:
        """The report's chart, as an inline image in the person's chat (a bot can only
        send a file after the person accepts a file-consent card)."""
        image = {
            "type": "message",
            "text": title,
            "attachments": [
                {
                    "contentType": "image/png",
                    "contentUrl": "data:image/png;base64," + base64.b64encode(content).decode(),
                    "name": filename,
                }
            ],
        }
        await delivery.enqueue(
            session,
            platform=PLATFORM,
            kind="direct",
            target=to,
            payload=json.dumps({"activities": [image]}),
            anchor=None,
            error=None,
            now=self.clock.now(),
            delay=timedelta(0),
        )

    async def retry_due(self, stop: asyncio.Event | None = None) -> int:
        return await send_due(
            database=self.database,
            clock=self.clock,
            platform=PLATFORM,
            owner=self.owner,
            send=self._send_row,
            error_of=error_of,
            permanent=PERMANENT,
            budget=self.send_budget,
            stop=stop,
        )

    async def _send_row(self, row: Outbox, payload: dict[str, Any], since: datetime | None) -> None:
        if since is not None:
            # the Bot Connector lets a bot read no history: an attempt that may have reached
            # Teams cannot be checked, so it is made again
            log.warning(
                "Teams outbox delivery %s may have gone out before; sending it again", row.id
            )
        anchor = (row.anchor_kind, row.anchor_id) if row.anchor_kind and row.anchor_id else None
        conversation = await self._conversation(row.kind, row.target, None)
        await self._post(conversation, list(payload["activities"]), anchor)
