"""Sending the core's replies to Slack: the right place for each audience, paced, retried,
and never silently dropped.

The Web API client retries 429 (honouring Retry-After), 5xx and connection errors itself;
what still fails goes to the persisted outbox and is retried later by `retry_due`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.outbox import RETRY_DELAYS, SEND_BUDGET, Lru, send_due
from adapters.slack.inbound import PLATFORM
from adapters.slack.render import home_view, message_payload
from bot.clock import Clock
from bot.i18n import Translator, normalise_language
from bot.messages import Audience, Message, Reply
from storage import delivery
from storage.database import Database
from storage.models import Outbox

log = logging.getLogger(__name__)

# Every Web API method the bot calls, and the scope it needs (the manifest test reads this).
SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "conversations.history": "im:history",  # after a crash: did a direct message go out?
    "users.info": "users:read",
    "files.getUploadURLExternal": "files:write",  # the weekly report's chart, to admins
    "files.completeUploadExternal": "files:write",
    "views.publish": None,  # needs no scope beyond the bot token
    "views.open": None,
}
PERMANENT = {"not_in_channel", "channel_not_found", "is_archived", "invalid_blocks", "msg_too_long"}
CHANNEL_GAP = 1.0  # seconds between posts to one channel (Slack's pace)
LOCALE_TTL = 24 * 3600.0
CLOCK_SKEW = timedelta(minutes=1)  # how far Slack's clock may be from ours, either way
METADATA_TYPE = "ambassador_delivery"  # marks a direct message with its outbox row

Respond = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Origin:
    """Where a request came from, so answers go back to the right place."""

    user: str
    channel: str | None = None  # where an ephemeral answer can be shown
    respond: Respond | None = None  # the response_url helper of slash commands and buttons
    thread_ts: str | None = None


def error_of(exc: Exception) -> str:
    """Slack's error code for a failed call (`not_in_channel`…), or the exception's kind."""
    if isinstance(exc, SlackApiError):
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        return f"http_{getattr(exc.response, 'status_code', 'error')}"
    return type(exc).__name__


class SlackDelivery:
    platform = PLATFORM  # as the core sees it when it speaks first (`bot.outbound.Outbound`)

    def __init__(
        self,
        client: AsyncWebClient,
        database: Database,
        clock: Clock,
        *,
        default_channel: str | None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        send_budget: float = SEND_BUDGET,
    ) -> None:
        self.client = client
        self.database = database
        self.clock = clock
        self.default_channel = default_channel
        self._monotonic = monotonic
        self._sleep = sleep
        self.send_budget = send_budget
        self._dm: Lru = Lru()
        self._placed: Lru = Lru()  # message key -> (channel, ts): what a later one replaces
        self._queued: Lru = Lru()  # message key -> outbox row id, while not sent yet
        self._locale: Lru = Lru()
        self._last_post: dict[str, float] = {}
        self._channel_locks: dict[str, asyncio.Lock] = {}
        self.owner = uuid.uuid4().hex  # this process, as the outbox's leases name it

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """Every Web API call goes through here, so SCOPES lists them all (the SDK's typed
        method knows each one's encoding)."""
        if method not in SCOPES:
            raise ValueError(f"{method} is not in SCOPES (and so not in the manifest)")
        response = await getattr(self.client, method.replace(".", "_"))(**params)
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def language(self, user: str) -> str | None:
        """The person's Slack language, cached for a day (users.info with include_locale)."""
        cached = self._locale.get(user)
        if cached is not None and cached[1] > self._monotonic():
            return str(cached[0]) if cached[0] else None
        try:
            response = await self._call("users.info", user=user, include_locale=True)
            locale = response.get("user", {}).get("locale")
        except Exception as exc:  # noqa: BLE001 - no language is fine: the default applies
            log.warning("users.info failed: %s", error_of(exc))
            locale = None
        language = normalise_language(locale, "") or None
        self._locale.remember(user, (language, self._monotonic() + LOCALE_TTL))
        return language

    async def dm_channel(self, user: str) -> str:
        cached = self._dm.get(user)
        if cached:
            return str(cached)
        response = await self._call("conversations.open", users=user)
        channel = str(response["channel"]["id"])
        self._dm.remember(user, channel)
        return channel

    async def _paced_post(self, channel: str, payload: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage, at most one per second into any one channel."""
        lock = self._channel_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._last_post.get(channel, -CHANNEL_GAP) + CHANNEL_GAP - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                return await self._call("chat.postMessage", channel=channel, **payload)
            finally:
                self._last_post[channel] = self._monotonic()

    async def deliver(self, reply: Reply, origin: Origin) -> None:
        for message in reply.messages:
            await self._deliver_one(message, origin)

    async def _deliver_one(self, message: Message, origin: Origin) -> None:
        payload = message_payload(message)
        if message.audience is Audience.REQUESTER:
            await self._ephemeral(payload, origin)
            return
        if message.audience is Audience.DIRECT:
            kind, target = "direct", origin.user
        else:
            kind, target = "channel", message.channel or self.default_channel or ""
        anchor = (message.anchor.kind, message.anchor.id) if message.anchor else None
        if message.replaces and await self._update(message.replaces, payload):
            return
        try:
            placed = await self._post(kind, target, payload, anchor)
            if message.key and placed:
                self._placed.remember(message.key, placed)
        except Exception as exc:  # noqa: BLE001 - a failed delivery must not lose the message
            error = error_of(exc)
            if error in PERMANENT:
                log.warning("Slack refused a %s message for good: %s", kind, error)
                await self._tell(origin, "slack.cannot_post", channel=f"<#{target}>", reason=error)
                return
            row_id = await self._queue(kind, target, payload, anchor, error)
            if message.key:
                self._queued.remember(message.key, row_id)
            await self._tell(origin, "slack.queued")

    async def _update(self, key: str, payload: dict[str, Any]) -> bool:
        """Put `payload` in place of the message posted under `key` (a "drafting…" message
        becomes the draft). False when there is nothing to replace, or Slack refused: the
        caller then posts it as a new message, so it is never lost."""
        row_id = self._queued.pop(key, None)
        if row_id is not None:  # still in the outbox: it will go out as the new message
            async with self.database.transaction() as session:
                if await delivery.replace_pending(
                    session, row_id=row_id, payload=json.dumps(payload)
                ):
                    return True
        placed = self._placed.pop(key, None)
        if placed is None:
            return False
        channel, ts = placed
        try:
            await self._call("chat.update", channel=channel, ts=ts, **payload)
        except Exception as exc:  # noqa: BLE001 - posting it anew is the fallback
            log.warning("chat.update failed (%s); posting the message anew", error_of(exc))
            return False
        return True

    async def _post(
        self,
        kind: str,
        target: str,
        payload: dict[str, Any],
        anchor: tuple[str, int] | None,
        row: int | None = None,
    ) -> tuple[str, str] | None:
        """Post; returns where the message now is (channel, ts). A direct message from the
        outbox carries its `row` in Slack's message metadata, so `_arrived` can find it."""
        if kind == "file":
            await self._upload(await self.dm_channel(target), payload)
            return None
        channel = await self.dm_channel(target) if kind == "direct" else target
        if row is not None and kind == "direct":
            marker = {"event_type": METADATA_TYPE, "event_payload": {"outbox": row}}
            payload = {**payload, "metadata": marker}
        response = await self._paced_post(channel, payload)
        placed = (str(response.get("channel", channel)), str(response.get("ts", "")))
        if anchor is None:
            return placed
        try:  # delivered already: failing to note the anchor must not cause a second send
            async with self.database.transaction() as session:
                await delivery.remember(
                    session,
                    platform=PLATFORM,
                    channel=str(response.get("channel", channel)),
                    ts=str(response["ts"]),
                    anchor_kind=anchor[0],
                    anchor_id=anchor[1],
                    now=self.clock.now(),
                )
        except Exception:
            log.exception("could not record what message %s is about", response.get("ts"))
        return placed

    async def _ephemeral(self, payload: dict[str, Any], origin: Origin) -> None:
        if origin.respond is not None:
            await origin.respond(**payload, response_type="ephemeral", replace_original=False)
            return
        if origin.channel:
            params = {"channel": origin.channel, "user": origin.user, **payload}
            if origin.thread_ts:
                params["thread_ts"] = origin.thread_ts
            await self._call("chat.postEphemeral", **params)
            return
        channel = await self.dm_channel(origin.user)
        await self._paced_post(channel, payload)

    async def _tell(self, origin: Origin, key: str, **params: str) -> None:
        """A short word to the person who acted, best effort (it is about another message)."""
        language = await self.language(origin.user)
        text = Translator(language or "en")(key, **params)
        try:
            await self._ephemeral({"text": text}, origin)
        except Exception:
            log.warning("could not tell %s about a delivery problem", origin.user, exc_info=True)

    async def _queue(
        self,
        kind: str,
        target: str,
        payload: dict[str, Any],
        anchor: tuple[str, int] | None,
        error: str,
    ) -> int:
        log.warning("queueing a %s message after: %s", kind, error)
        async with self.database.transaction() as session:
            row = await delivery.enqueue(
                session,
                platform=PLATFORM,
                kind=kind,
                target=target,
                payload=json.dumps(payload),
                anchor=anchor,
                error=error,
                now=self.clock.now(),
                delay=timedelta(seconds=RETRY_DELAYS[0]),
            )
        return row.id or 0

    async def enqueue(
        self, session: AsyncSession, message: Message, *, to: str | None = None
    ) -> None:
        """A message for the outbox, due now, within the caller's transaction (a scheduled
        job: claimed and queued together, or neither): to the channel, or to person `to`."""
        anchor = (message.anchor.kind, message.anchor.id) if message.anchor else None
        await delivery.enqueue(
            session,
            platform=PLATFORM,
            kind="direct" if to else "channel",
            target=to or message.channel or self.default_channel or "",
            payload=json.dumps(message_payload(message)),
            anchor=anchor,
            error=None,
            now=self.clock.now(),
            delay=timedelta(0),
        )

    async def enqueue_file(
        self, session: AsyncSession, *, to: str, filename: str, title: str, content: bytes
    ) -> None:
        """A file for person `to`, in the outbox like any message (Slack's upload v2)."""
        encoded = base64.b64encode(content).decode()
        payload = {"filename": filename, "title": title, "content": encoded}
        await delivery.enqueue(
            session,
            platform=PLATFORM,
            kind="file",
            target=to,
            payload=json.dumps(payload),
            anchor=None,
            error=None,
            now=self.clock.now(),
            delay=timedelta(0),
        )

    async def _upload(self, channel: str, payload: dict[str, Any]) -> None:
        """Slack's file upload v2: ask for an upload URL, send the bytes there, then share
        the file in the conversation."""
        content = base64.b64decode(payload["content"])
        ticket = await self._call(
            "files.getUploadURLExternal", filename=payload["filename"], length=len(content)
        )
        async with (
            aiohttp.ClientSession() as http,
            http.post(ticket["upload_url"], data=content) as response,
        ):
            response.raise_for_status()
        files = [{"id": ticket["file_id"], "title": payload["title"]}]
        await self._call("files.completeUploadExternal", files=files, channel_id=channel)

    async def retry_due(self, stop: asyncio.Event | None = None) -> int:
        """Send what the outbox holds and is due (`adapters.outbox.send_due`); returns how
        many went out."""
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
        """One outbox row: unless an earlier attempt (begun at `since`) is found to have
        reached Slack, post it."""
        if since is not None and await self._arrived(row, payload, since):
            return
        anchor = (row.anchor_kind, row.anchor_id) if row.anchor_kind and row.anchor_id else None
        await self._post(row.kind, row.target, payload, anchor, row.id)

    async def _arrived(self, row: Outbox, payload: dict[str, Any], since: datetime) -> bool:
        """Whether an earlier attempt of `row` reached Slack, so it must not go again.

        A direct message is looked for in the conversation (im:history) by the row id in
        its metadata; a file, by its name. A channel message cannot be checked, since the
        bot does not read channels: it is sent again, and the log says so.
        """
        if row.kind == "channel":
            log.warning(
                "outbox delivery %s to a channel may have gone out before; sending it again",
                row.id,
            )
            return False
        channel = await self.dm_channel(row.target)
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}"
        cursor: str | None = None
        while True:
            page = await self._call(
                "conversations.history",
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                **({"cursor": cursor} if cursor else {}),
            )
            for message in page.get("messages", []):
                if row.kind == "direct":
                    found = message.get("metadata", {}).get("event_payload", {})
                    if found.get("outbox") == row.id:
                        return True
                elif any(f.get("name") == payload["filename"] for f in message.get("files", [])):
                    return True
            cursor = page.get("response_metadata", {}).get("next_cursor") or None
            if cursor is None:
                return False

    async def publish_home(self, user: str, message: Message) -> None:
        await self._call("views.publish", user_id=user, view=home_view(message))

    async def open_modal(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call("views.open", trigger_id=trigger_id, view=view)
