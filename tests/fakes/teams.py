"""A local Microsoft Teams: a Bot Connector (REST API v3, what an activity's `serviceUrl`
points at) on 127.0.0.1 (port 0) that records every call and answers like Teams, can be told
to fail, and lets tests wait for a call instead of sleeping; plus inbound activities shaped
as Teams sends them, and a helper that POSTs one to the bot's endpoint.

What Teams really sends and answers, from Microsoft's own pages (MicrosoftDocs/msteams-docs):
  - messages: bots/how-to/conversations/conversation-messages.md (a personal message, its
    `a:` conversation id, `clientInfo` entity, `channelData.tenant`);
  - mentions: bots/how-to/conversations/channel-and-group-conversations.md (`<at>…</at>` in
    the text, a `mention` entity; a channel thread's id ends `;messageid=…`);
  - card buttons: task-modules-and-cards/cards/cards-actions.md (a button press is a message
    with `value` and `replyToId` = the card's activity id, in the card's conversation);
  - installs: bots/how-to/conversations/subscribe-to-conversation-events.md
    (`conversationUpdate` with `membersAdded`, `eventType: teamMemberAdded`,
    `settings.selectedChannel`; `installationUpdate` with `action: add|remove`);
  - errors: the "Status code responses" table of the Adaptive Card action pages under
    task-modules-and-cards/ (403 BotNotInConversationRoster, 412 PreconditionFailed,
    429 Throttled, …) and bots/how-to/rate-limit.md (7 messages a second per conversation);
  - creating a 1:1 chat: microsoft/teams.net core/docs/CreateConversation-API-Behavior.md
    (201, `{"id": "a:…"}`, the same id again for the same member, `tenantId` required).
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import ClientSession, web

TENANT = "7d1e6d3c-0b8a-4c59-9a3e-2f6a0c1b5e42"
BOT_APP_ID = "5c0a8f4e-3b1d-4e6f-8a2c-9d7b1e0f4a36"
BOT_NAME = "Ambassador"
BOT_ID = f"28:{BOT_APP_ID}"

# Teams' error codes for the bot APIs' statuses (the universal actions status code table).
ERROR_CODES = {
    400: ("BadSyntax", "Incorrect conversation creation parameters"),
    401: ("BotNotRegistered", "No registration found for this bot."),
    403: ("BotNotInConversationRoster", "The bot is not part of the conversation roster."),
    404: ("ConversationNotFound", "Conversation not found."),
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests. Also returns when to retry after."),
}
SEND_METHODS = ("send", "reply")


def error_body(status: int, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """Bot Framework's ErrorResponse: `{"error": {"code": …, "message": …}}`."""
    default_code, default_message = ERROR_CODES.get(status, ("ServiceError", "Service error."))
    return {"error": {"code": code or default_code, "message": message or default_message}}


def base_conversation(conversation: str) -> str:
    """A channel thread's conversation id without its `;messageid=…`: the channel."""
    return conversation.split(";", 1)[0]


def personal_conversation_id(user_id: str) -> str:
    """The 1:1 chat of the bot and `user_id`: one id per user, as Teams gives (`a:…`), the same
    for the chat the user opens and the one the bot creates."""
    return "a:1" + hashlib.sha256(user_id.encode()).hexdigest()[:48]


@dataclass(frozen=True)
class User:
    """A Teams user as the bot sees them: `29:` id (per bot), Entra object id, name."""

    id: str
    name: str
    aad_object_id: str
    email: str = ""
    given_name: str = ""
    surname: str = ""

    @classmethod
    def named(cls, name: str, *, email: str | None = None) -> User:
        """A user whose ids follow from `name`, so two tests naming Alice get the same Alice."""
        digest = hashlib.sha256(name.encode()).hexdigest()
        given, _, surname = name.partition(" ")
        return cls(
            id=f"29:1{digest[:40]}",
            name=name,
            aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"aad:{name}")),
            email=email or f"{given.lower()}@acme.example",
            given_name=given,
            surname=surname,
        )

    def account(self) -> dict[str, Any]:
        """`from` of an inbound activity."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self, tenant: str = TENANT) -> dict[str, Any]:
        """What the members API answers: a TeamsChannelAccount."""
        return {
            "id": self.id,
            "name": self.name,
            "objectId": self.aad_object_id,
            "aadObjectId": self.aad_object_id,
            "givenName": self.given_name,
            "surname": self.surname,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": tenant,
            "userRole": "user",
        }

    @property
    def personal_conversation(self) -> str:
        return personal_conversation_id(self.id)


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    aad_group_id: str = ""

    @property
    def general(self) -> Channel:
        """The General channel: its id is the team's id, as in Teams."""
        return Channel(self.id, "General")


@dataclass(frozen=True)
class Channel:
    id: str
    name: str = ""


@dataclass
class Call:
    method: str
    conversation: str | None
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None = None  # the Authorization header as received
    at: float = field(default_factory=time.monotonic)  # arrival

    def text(self) -> str:
        """Every text in the call's body (cards included), for assertions."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=dict
    )
    url: str = ""
    tenant: str = TENANT
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # conversation -> posts
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> TeamsChannelAccount
    members: dict[str, list[str]] = field(default_factory=dict)  # base conversation -> user ids
    _last_id: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        # A path under the host, as Teams' own (https://smba.trafficmanager.net/teams/): a
        # client that drops it, or joins it badly, misses.
        self.url = f"http://127.0.0.1:{port}/teams/"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` calls of `method` ("send", "reply", "update", …) fail with `status`
        and Teams' error body (429 with Retry-After when given)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = error_body(status, code, message)
        self.failures.setdefault(method, []).extend([(status, headers, body)] * times)

    def add_user(self, user: User) -> None:
        self.users[user.id] = user.member(self.tenant)

    def add_member(self, conversation: str, user: User) -> None:
        """`user` is in `conversation` (a team, a channel or a group chat) for the members API."""
        self.add_user(user)
        known = self.members.setdefault(base_conversation(conversation), [])
        if user.id not in known:
            known.append(user.id)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, conversation: str) -> list[dict[str, Any]]:
        """The activities the bot has in `conversation` now (updates applied, deletes gone)."""
        return list(self.history.get(conversation, []))

    def max_per_second(self, conversation: str, methods: tuple[str, ...] = SEND_METHODS) -> int:
        """The most calls of `methods` (failed ones too: they reached Teams) that arrived for
        `conversation` within any sliding one-second window; Teams allows 7."""
        wanted = set(methods) | {m + ":failed" for m in methods}
        times = sorted(
            c.at for c in self.calls if c.conversation == conversation and c.method in wanted
        )
        return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)

    def _activity_id(self) -> str:
        """Teams' message ids: epoch milliseconds, unique and increasing."""
        self._last_id = max(int(time.time() * 1000), self._last_id + 1)
        return str(self._last_id)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _dispatch(self, request: web.Request) -> web.Response:
        """Routes on the raw path, each segment decoded: conversation ids hold `:` `@` `;` `=`,
        which the client sends percent-encoded."""
        raw = request.raw_path.split("?", 1)[0]
        prefix = "/teams/"
        parts = (
            [unquote(p) for p in raw[len(prefix) :].split("/")] if raw.startswith(prefix) else []
        )
        auth = request.headers.get("Authorization")
        text = await request.text()
        try:
            body: dict[str, Any] = dict(json.loads(text)) if text.strip() else {}
        except (ValueError, TypeError):
            body = {"raw": text}
        route = _route(request.method, parts)
        if route is None:
            await self._record(Call("unknown", None, None, {"path": raw, **body}, auth))
            return web.json_response(error_body(404, "NotFound", f"No route {raw}"), status=404)
        method, conversation, target = route
        if method == "members":  # target: the member asked for, if one
            query = dict(request.query) | ({"userId": target} if target else {})
            call = Call(method, conversation, None, query, auth)
        else:
            call = Call(method, conversation, target, body, auth)
        queued = self.failures.get(method)
        if queued:
            status, headers, failure = queued.pop(0)
            call.method = method + ":failed"
            await self._record(call)
            return web.json_response(failure, status=status, headers=headers)
        if method == "members":
            status, answer = self._members(
                str(conversation), target, raw.endswith("/pagedmembers"), call.body
            )
        else:
            status, answer = self._answer(call)  # in the history before waiters look
        await self._record(call)
        if method == "delete" and status == 200:
            return web.Response(status=200)
        return web.json_response(answer, status=status)

    def _answer(self, call: Call) -> tuple[int, dict[str, Any]]:
        body, conversation = call.body, str(call.conversation)
        if call.method == "create":
            return self._create(body)
        if call.method in ("send", "reply"):
            new_id = self._activity_id()
            self.history.setdefault(conversation, []).append({**body, "id": new_id})
            return 201, {"id": new_id}
        found = self._find(conversation, str(call.activity_id))
        if found is None:
            return 404, error_body(404, "ActivityNotFoundInConversation", "Activity not found.")
        posts, index = found
        if call.method == "update":
            posts[index] = {**body, "id": call.activity_id}
            return 200, {"id": str(call.activity_id)}
        del posts[index]  # delete
        return 200, {}

    def _find(self, conversation: str, activity_id: str) -> tuple[list[dict[str, Any]], int] | None:
        """The posted activity, looked for in the conversation and then in the other threads of
        its channel (Teams takes a channel's id with a thread's message id)."""
        candidates = [conversation] + [
            c
            for c in self.history
            if c != conversation and base_conversation(c) == base_conversation(conversation)
        ]
        for name in candidates:
            posts = self.history.get(name, [])
            for index, post in enumerate(posts):
                if post.get("id") == activity_id:
                    return posts, index
        return None

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A new channel thread (`channelData.channel.id` and an `activity`), or the 1:1 chat
        with one member (`isGroup` false, `tenantId`): the same id for the same user."""
        channel_data = body.get("channelData") or {}
        channel = (channel_data.get("channel") or {}).get("id")
        activity = body.get("activity")
        if channel:
            if not activity:
                return 400, error_body(400, message="A new thread needs its first activity")
            new_id = self._activity_id()
            conversation = f"{channel};messageid={new_id}"
            self.history.setdefault(conversation, []).append({**activity, "id": new_id})
            return 201, {"id": conversation, "activityId": new_id}
        members = body.get("members") or []
        # botbuilder-python spells it tenantID; Teams (.NET) reads JSON names in any case.
        tenant = next((v for k, v in body.items() if k.lower() == "tenantid" and v), None)
        tenant = tenant or (channel_data.get("tenant") or {}).get("id")
        if body.get("isGroup") or len(members) != 1 or not members[0].get("id"):
            return 400, error_body(400)
        if not tenant:
            return 400, error_body(400, message="Tenant ID is required")
        user_id = str(members[0]["id"])
        self.users.setdefault(user_id, {"id": user_id, "tenantId": tenant, "userRole": "user"})
        conversation = personal_conversation_id(user_id)
        answer: dict[str, Any] = {"id": conversation}
        if activity:
            new_id = self._activity_id()
            self.history.setdefault(conversation, []).append({**activity, "id": new_id})
            answer["activityId"] = new_id
        return 201, answer

    def _roster(self, conversation: str) -> list[str]:
        if conversation.startswith("a:"):
            return [u for u in self.users if personal_conversation_id(u) == conversation]
        return list(self.members.get(base_conversation(conversation), []))

    def _members(
        self, conversation: str, member_id: str | None, paged: bool, query: dict[str, Any]
    ) -> tuple[int, Any]:
        """One member (404 when not in the conversation), all of them, or a page of them."""
        roster = self._roster(conversation)
        if member_id is not None:
            if member_id not in roster:
                return 404, error_body(
                    404, "MemberNotFoundInConversation", "The member is not in the conversation."
                )
            return 200, self.users[member_id]
        accounts = [self.users[u] for u in roster]
        if not paged:
            return 200, accounts
        size = int(query.get("pageSize") or 200)
        start = int(query.get("continuationToken") or 0)
        more = start + size < len(accounts)
        page = {"members": accounts[start : start + size]}
        return 200, page | ({"continuationToken": str(start + size)} if more else {})

    async def wait_until(self, condition: Callable[[], bool], *, within: float = 15.0) -> None:
        """Wait until `condition` (on the calls or the history) holds, without sleeping."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda _c: True,
        *,
        count: int = 1,
        within: float = 15.0,
    ) -> list[Call]:
        """Wait until `count` calls of `method` match; no sleeping, a condition variable."""

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and predicate(c)]

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()


def _route(verb: str, parts: list[str]) -> tuple[str, str | None, str | None] | None:
    """(short method, conversation, activity or member id) of a Connector path after the
    service URL, or None for one this fake does not serve."""
    if len(parts) < 2 or parts[0] != "v3" or parts[1] != "conversations":
        return None
    rest = parts[2:]
    if verb == "POST" and not rest:
        return "create", None, None
    if not rest or not rest[0]:
        return None
    conversation, tail = rest[0], rest[1:]
    if tail == ["activities"] and verb == "POST":
        return "send", conversation, None
    if len(tail) == 2 and tail[0] == "activities":
        methods = {"POST": "reply", "PUT": "update", "DELETE": "delete"}
        return (methods[verb], conversation, tail[1]) if verb in methods else None
    if verb == "GET" and tail in (["members"], ["pagedmembers"]):
        return "members", conversation, None
    if verb == "GET" and len(tail) == 2 and tail[0] == "members":
        return "members", conversation, tail[1]
    return None


# Inbound activities, as Teams posts them to the bot's messaging endpoint.

_last_message_id = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message_id() -> str:
    """A user message's id in Teams: epoch milliseconds, here unique and increasing."""
    global _last_message_id  # noqa: PLW0603 - one clock for every builder
    _last_message_id = max(int(time.time() * 1000), _last_message_id + 1)
    return str(_last_message_id)


def _bot(bot_app_id: str) -> dict[str, Any]:
    return {"id": f"28:{bot_app_id}", "name": BOT_NAME}


def _at(name: str) -> str:
    return f"<at>{name}</at>"


def _mention(account_id: str, name: str) -> dict[str, Any]:
    return {"type": "mention", "mentioned": {"id": account_id, "name": name}, "text": _at(name)}


def _conversation(
    conversation: str, conversation_type: str, tenant: str, name: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"id": conversation, "conversationType": conversation_type}
    found["tenantId"] = tenant
    if conversation_type != "personal":
        found["isGroup"] = True
    if name:
        found["name"] = name
    return found


def _channel_data(
    tenant: str, team: Team | None, channel: Channel | None, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"tenant": {"id": tenant}}
    if team is not None:
        data["team"] = {"id": team.id, "name": team.name} | (
            {"aadGroupId": team.aad_group_id} if team.aad_group_id else {}
        )
        data["teamsTeamId"] = team.id
    if channel is not None:
        data["channel"] = {"id": channel.id} | ({"name": channel.name} if channel.name else {})
        data["teamsChannelId"] = channel.id
    return data | extra


def message(
    text: str,
    *,
    user: User,
    service_url: str,
    conversation: str | None = None,
    locale: str = "en-US",
    timezone: str = "Europe/Paris",
    conversation_type: str = "personal",
    mention_bot: bool = False,
    mentions: list[tuple[str, str]] | None = None,
    reply_to: str | None = None,
    value: dict[str, Any] | None = None,
    team: Team | None = None,
    channel: Channel | None = None,
    tenant: str = TENANT,
    bot_app_id: str = BOT_APP_ID,
) -> dict[str, Any]:
    """A message from `user`: in their 1:1 chat with the bot by default; in a channel
    (`conversation_type="channel"`, `team`, and `conversation` = the channel or one of its
    threads, `…;messageid=…`) Teams only sends it when the bot is @mentioned. `mentions` are
    other people's (`(id, name)`), added to the text when not already in it. With `value` and
    no text it is a card's Action.Submit: the action's data, no `text` at all, `reply_to` =
    the card's activity id."""
    if conversation_type == "channel" and team is None:
        raise ValueError("a channel message needs its team")
    message_id = _message_id()
    if conversation_type == "channel":
        assert team is not None
        if channel is None:
            channel = Channel(base_conversation(conversation)) if conversation else team.general
        # A new post starts a thread named after itself.
        conversation = conversation or f"{channel.id};messageid={message_id}"
    elif conversation is None:
        conversation = personal_conversation_id(user.id)
    entities: list[dict[str, Any]] = []
    if mention_bot:
        text = f"{_at(BOT_NAME)} {text}"
        entities.append(_mention(f"28:{bot_app_id}", BOT_NAME))
    for account_id, name in mentions or []:
        if _at(name) not in text:
            text = f"{text} {_at(name)}".strip()
        entities.append(_mention(account_id, name))
    entities.append(
        {"type": "clientInfo", "locale": locale, "country": locale[-2:], "platform": "Web"}
        | {"timezone": timezone}
    )
    activity: dict[str, Any] = {
        "type": "message",
        "id": message_id,
        "timestamp": _now(),
        "localTimestamp": _now(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user.account(),
        "recipient": _bot(bot_app_id),
        "conversation": _conversation(conversation, conversation_type, tenant),
        "channelData": _channel_data(tenant, team, channel),
        "locale": locale,
        "textFormat": "plain",
        "entities": entities,
    }
    if text:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    if reply_to is not None:
        activity["replyToId"] = reply_to
    return activity


def card_submit(
    value: dict[str, Any], *, user: User, reply_to: str, service_url: str, **where: Any
) -> dict[str, Any]:
    """A press of an Adaptive Card's Action.Submit: a message carrying the action's `data`
    as `value`, no text, in reply to the card (`reply_to` = its activity id); `where` as for
    `message` (conversation, conversation_type, team, channel, locale…)."""
    return message("", user=user, service_url=service_url, value=value, reply_to=reply_to, **where)


def _account(member: User | str) -> dict[str, Any]:
    if isinstance(member, User):
        return {"id": member.id, "aadObjectId": member.aad_object_id}
    return {"id": member}


def conversation_update(
    *,
    user: User,
    service_url: str,
    members_added: list[User | str] | None = None,
    members_removed: list[User | str] | None = None,
    team: Team | None = None,
    channel: Channel | None = None,
    tenant: str = TENANT,
    bot_app_id: str = BOT_APP_ID,
) -> dict[str, Any]:
    """Members joined or left (the bot's own id, `28:…`, for an install or uninstall): in
    `user`'s 1:1 chat with the bot, or with `team` in the team (its General channel, or the
    `channel` chosen at install), with `eventType` teamMemberAdded / teamMemberRemoved."""
    bot = f"28:{bot_app_id}"
    added = [_account(m) for m in members_added or []]
    removed = [_account(m) for m in members_removed or []]
    if members_added is None and members_removed is None:
        added = [{"id": bot}] + ([_account(user)] if team is None else [])
    activity: dict[str, Any] = {
        "type": "conversationUpdate",
        "id": f"f:{uuid.uuid4()}",
        "timestamp": _now(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user.id, "aadObjectId": user.aad_object_id},
        "recipient": _bot(bot_app_id),
    }
    if added:
        activity["membersAdded"] = added
    if removed:
        activity["membersRemoved"] = removed
    if team is None:
        activity["conversation"] = _conversation(
            personal_conversation_id(user.id), "personal", tenant
        )
        activity["channelData"] = _channel_data(tenant, None, None)
        return activity
    where = channel or team.general
    activity["conversation"] = _conversation(where.id, "channel", tenant, where.name or None)
    event = "teamMemberRemoved" if removed and not added else "teamMemberAdded"
    activity["channelData"] = _channel_data(
        tenant, team, None, eventType=event, settings={"selectedChannel": {"id": where.id}}
    )
    return activity


def installation_update(
    *,
    user: User,
    service_url: str,
    action: str = "add",
    team: Team | None = None,
    channel: Channel | None = None,
    locale: str = "en-US",
    tenant: str = TENANT,
    bot_app_id: str = BOT_APP_ID,
) -> dict[str, Any]:
    """The app installed (`action` "add", "add-upgrade") or removed ("remove", …) by `user`,
    in their personal scope or with `team` in a team (the General channel or `channel`)."""
    activity: dict[str, Any] = {
        "type": "installationUpdate",
        "id": f"f:{uuid.uuid4()}",
        "timestamp": _now(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user.id, "aadObjectId": user.aad_object_id},
        "recipient": _bot(bot_app_id),
        "locale": locale,
        "entities": [{"type": "clientInfo", "locale": locale}],
        "action": action,
    }
    if team is None:
        activity["conversation"] = _conversation(
            personal_conversation_id(user.id), "personal", tenant
        )
        activity["channelData"] = _channel_data(tenant, None, None, source={"name": "message"})
        return activity
    where = channel or team.general
    activity["conversation"] = _conversation(where.id, "channel", tenant, where.name or None)
    activity["channelData"] = _channel_data(
        tenant,
        team,
        where,
        settings={"selectedChannel": {"id": where.id}},
        source={"name": "message"},
    )
    return activity


@dataclass
class TeamsWorld:
    """The inbound builders with the service URL, tenant and bot id filled in."""

    service_url: str
    tenant: str = TENANT
    bot_app_id: str = BOT_APP_ID

    def _where(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "service_url": self.service_url,
            "tenant": self.tenant,
            "bot_app_id": self.bot_app_id,
        } | extra

    def message(self, text: str, *, user: User, **extra: Any) -> dict[str, Any]:
        return message(text, user=user, **self._where(extra))

    def card_submit(
        self, value: dict[str, Any], *, user: User, reply_to: str, **extra: Any
    ) -> dict[str, Any]:
        return card_submit(value, user=user, reply_to=reply_to, **self._where(extra))

    def conversation_update(self, *, user: User, **extra: Any) -> dict[str, Any]:
        return conversation_update(user=user, **self._where(extra))

    def installation_update(self, *, user: User, **extra: Any) -> dict[str, Any]:
        return installation_update(user=user, **self._where(extra))


async def post(
    http: ClientSession, endpoint: str, activity: dict[str, Any], *, token: str | None = None
) -> int:
    """POSTs `activity` to the bot's messaging endpoint as Teams does (JSON; a Bearer token
    only when given) and returns the status."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(endpoint, data=json.dumps(activity), headers=headers) as resp:
        await resp.read()
        return resp.status
