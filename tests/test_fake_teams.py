"""The fake Bot Connector speaks the real protocol: botbuilder's own client (CloudAdapter,
ConnectorClient, TeamsInfo), unauthenticated as a bot in local mode is, reaches it, and gets
back what Teams answers; the inbound builders are activities botbuilder reads as Teams'."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientSession, web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.teams import (
    TeamsInfo,
    teams_get_channel_id,
    teams_get_selected_channel_id,
    teams_get_team_info,
)
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest.exceptions import ClientRequestError

from tests.fakes.teams import (
    BOT_ID,
    BOT_NAME,
    TENANT,
    Call,
    Channel,
    FakeConnector,
    Team,
    TeamsWorld,
    User,
    card_submit,
    conversation_update,
    installation_update,
    message,
    personal_conversation_id,
    post,
)

ALICE = User.named("Alice Martin")
BOB = User.named("Bob Durand")
TEAM = Team(
    "19:Xy7fGq2Lr0aBcD3eFgHiJkLmNoPqRsTu@thread.tacv2", "ACME", "a1b2c3d4-0000-4000-8000-acme"
)
NEWS = Channel("19:5f1c0e7a9b2d4c6e8f0a1b3c5d7e9f10@thread.tacv2", "News")
THREAD = f"{NEWS.id};messageid=1700000000000"

Logic = Callable[[TurnContext], Awaitable[Any]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    connector = FakeConnector()
    await connector.start()
    yield connector
    await connector.close()


def local_adapter() -> CloudAdapter:
    """The bot's adapter with authentication off: no app id, no password, so every outbound
    call goes without a token (MicrosoftAppCredentials.empty())."""
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def reference(
    fake: FakeConnector, conversation: str, kind: str = "channel"
) -> ConversationReference:
    return ConversationReference(
        channel_id="msteams",
        service_url=fake.url,
        conversation=ConversationAccount(
            id=conversation, conversation_type=kind, tenant_id=TENANT, is_group=kind != "personal"
        ),
        bot=ChannelAccount(id=BOT_ID, name=BOT_NAME),
    )


async def proactive(
    fake: FakeConnector, conversation: str, logic: Logic, kind: str = "channel"
) -> None:
    await local_adapter().continue_conversation(reference(fake, conversation, kind), logic, "")


def connector(turn: TurnContext) -> ConnectorClient:
    client: ConnectorClient = turn.turn_state[turn.adapter.BOT_CONNECTOR_CLIENT_KEY]
    return client


async def test_a_proactive_message_reaches_the_thread_its_id_names(fake: FakeConnector) -> None:
    sent: list[str] = []

    async def logic(turn: TurnContext) -> None:
        response = await turn.send_activity(MessageFactory.text("Hello, News"))
        sent.append(response.id)

    await proactive(fake, THREAD, logic)

    # TurnContext addresses every activity as a reply to the turn's own (for a proactive turn,
    # a random id of the continuation): botbuilder posts to /activities/{that id}.
    [call] = fake.of("reply")
    assert call.conversation == THREAD  # `:` `@` `;` `=` came percent-encoded, and decoded
    assert call.activity_id is not None
    assert call.body["text"] == "Hello, News"
    assert call.body["conversation"]["id"] == THREAD
    assert call.authorization is None  # no token in local mode
    assert fake.history[THREAD] == [call.body | {"id": sent[0]}]
    assert sent[0].isdigit()


async def test_send_update_and_delete_through_the_connector(fake: FakeConnector) -> None:
    ids: dict[str, str] = {}

    async def logic(turn: TurnContext) -> None:
        client = connector(turn)
        first = await client.conversations.send_to_conversation(
            THREAD, MessageFactory.text("draft 1")
        )
        second = await client.conversations.send_to_conversation(
            THREAD, MessageFactory.text("other")
        )
        edited = MessageFactory.text("draft 2")
        edited.id = first.id
        edited.conversation = turn.activity.conversation
        updated = await turn.update_activity(edited)
        await turn.delete_activity(second.id)
        ids.update(first=first.id, second=second.id, updated=updated.id)

    await proactive(fake, THREAD, logic)

    assert [c.method for c in fake.calls] == ["send", "send", "update", "delete"]
    send, _, update, delete = fake.calls
    assert send.conversation == update.conversation == delete.conversation == THREAD
    assert send.activity_id is None
    assert update.activity_id == ids["first"] == ids["updated"]
    assert update.body["text"] == "draft 2"
    assert delete.activity_id == ids["second"]
    assert fake.posts(THREAD) == [update.body | {"id": ids["first"]}]  # replaced; other gone
    assert all(c.authorization is None for c in fake.calls)


async def test_an_update_of_an_unknown_activity_is_a_404(fake: FakeConnector) -> None:
    async def logic(turn: TurnContext) -> None:
        ghost = MessageFactory.text("never sent")
        ghost.id = "1699999999999"
        with pytest.raises(ErrorResponseException) as caught:
            await turn.update_activity(ghost)
        assert caught.value.response.status_code == 404

    await proactive(fake, THREAD, logic)
    assert [c.method for c in fake.calls] == ["update"]


async def test_a_reply_to_a_card_names_the_card(fake: FakeConnector) -> None:
    conversation = ALICE.personal_conversation

    async def logic(turn: TurnContext) -> None:
        card = await connector(turn).conversations.send_to_conversation(
            conversation, MessageFactory.text("a card")
        )
        answer = MessageFactory.text("thanks")
        await connector(turn).conversations.reply_to_activity(conversation, card.id, answer)

    await proactive(fake, conversation, logic, "personal")

    _, reply = fake.calls
    assert reply.method == "reply"
    assert reply.activity_id == fake.history[conversation][0]["id"]
    assert [p["text"] for p in fake.history[conversation]] == ["a card", "thanks"]
    assert reply.activity_id != fake.history[conversation][1]["id"]


async def test_a_one_to_one_chat_is_created_once_per_user(fake: FakeConnector) -> None:
    adapter = local_adapter()
    seen: list[tuple[str, str | None]] = []

    async def logic(turn: TurnContext) -> None:
        seen.append((turn.activity.conversation.id, turn.activity.name))
        await turn.send_activity("Welcome")

    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=BOT_ID, name=BOT_NAME),
        members=[ChannelAccount(id=ALICE.id)],
        tenant_id=TENANT,
    )
    for _ in range(2):
        await adapter.create_conversation("", logic, parameters, "msteams", fake.url)

    creates = fake.of("create")
    assert len(creates) == 2
    assert creates[0].body["members"] == [{"id": ALICE.id}]
    assert creates[0].body["isGroup"] is False
    assert creates[0].body["tenantID"] == TENANT  # botbuilder-python's spelling
    chat = personal_conversation_id(ALICE.id)
    assert seen == [(chat, "CreateConversation")] * 2  # the same id both times, as Teams
    assert chat.startswith("a:")
    assert [c.conversation for c in fake.of("reply")] == [chat, chat]
    assert [p["text"] for p in fake.history[chat]] == ["Welcome", "Welcome"]


async def test_creating_a_chat_without_a_tenant_is_refused(fake: FakeConnector) -> None:
    client = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url)
    parameters = ConversationParameters(is_group=False, members=[ChannelAccount(id=BOB.id)])
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.create_conversation(parameters)
    assert caught.value.response.status_code == 400
    assert caught.value.error.error.code == "BadSyntax"


async def test_a_new_channel_post_starts_a_thread(fake: FakeConnector) -> None:
    created: list[Activity] = []

    async def logic(turn: TurnContext) -> None:
        created.append(turn.activity)

    parameters = ConversationParameters(
        is_group=True,
        channel_data={"channel": {"id": NEWS.id}},
        activity=MessageFactory.text("This week's posts"),
        tenant_id=TENANT,
    )
    await local_adapter().create_conversation("", logic, parameters, "msteams", fake.url)

    [call] = fake.of("create")
    assert call.body["channelData"] == {"channel": {"id": NEWS.id}}
    [activity] = created
    thread = activity.conversation.id
    assert thread == f"{NEWS.id};messageid={activity.id}"
    assert fake.history[thread] == [call.body["activity"] | {"id": activity.id}]
    assert call.authorization is None


async def test_members_are_looked_up_as_teams_does(fake: FakeConnector) -> None:
    fake.add_member(TEAM.id, ALICE)
    fake.add_member(NEWS.id, ALICE)
    fake.add_member(NEWS.id, BOB)
    fake.add_user(User.named("Carol Petit"))
    found: dict[str, Any] = {}

    async def in_thread(turn: TurnContext) -> None:
        # TeamsInfo reads the turn's channelData, which a continuation has not (TypeError).
        turn.activity.channel_data = {"tenant": {"id": TENANT}}
        found["alice"] = await TeamsInfo.get_member(turn, ALICE.id)
        found["all"] = await TeamsInfo.get_members(turn)
        found["page"] = await TeamsInfo.get_paged_members(turn, page_size=1)
        with pytest.raises(ErrorResponseException) as caught:
            await TeamsInfo.get_member(turn, User.named("Carol Petit").id)
        found["missing"] = caught.value

    await proactive(fake, THREAD, in_thread)

    alice = found["alice"]
    assert (alice.id, alice.name, alice.aad_object_id) == (
        ALICE.id,
        ALICE.name,
        ALICE.aad_object_id,
    )
    assert alice.email == ALICE.email
    assert alice.tenant_id == TENANT
    assert [m.id for m in found["all"]] == [ALICE.id, BOB.id]
    assert [m.id for m in found["page"].members] == [ALICE.id]
    assert found["page"].continuation_token == "1"
    assert found["missing"].response.status_code == 404
    assert found["missing"].error.error.code == "MemberNotFoundInConversation"
    assert [c.method for c in fake.calls] == ["members"] * 4
    assert fake.calls[0].body == {"userId": ALICE.id}
    assert {c.conversation for c in fake.calls} == {THREAD}

    async def in_chat(turn: TurnContext) -> None:
        turn.activity.channel_data = {}
        found["chat"] = await TeamsInfo.get_member(turn, ALICE.id)

    await proactive(fake, ALICE.personal_conversation, in_chat, "personal")
    assert found["chat"].name == ALICE.name


async def test_a_429_surfaces_with_its_status_and_retry_after(fake: FakeConnector) -> None:
    fake.fail("reply", 429, retry_after=3)
    outcome: dict[str, Any] = {}

    async def logic(turn: TurnContext) -> None:
        with pytest.raises(ErrorResponseException) as caught:
            await turn.send_activity("too fast")
        outcome["error"] = caught.value
        outcome["then"] = await turn.send_activity("later")

    await proactive(fake, THREAD, logic)

    error: ErrorResponseException = outcome["error"]
    assert error.response.status_code == 429  # a requests.Response
    assert error.response.headers["Retry-After"] == "3"
    assert error.error.error.code == "Throttled"  # the ErrorResponse body, deserialized
    assert "Throttled" in str(error)
    assert [c.method for c in fake.calls] == ["reply:failed", "reply"]
    assert outcome["then"].id == fake.history[THREAD][0]["id"]


async def test_a_failed_post_is_not_retried_by_the_client(fake: FakeConnector) -> None:
    fake.fail("reply", 502)

    async def logic(turn: TurnContext) -> None:
        with pytest.raises(ErrorResponseException) as caught:
            await turn.send_activity("x")
        assert caught.value.response.status_code == 502

    await proactive(fake, THREAD, logic)
    assert [c.method for c in fake.calls] == ["reply:failed"]


async def test_a_failed_put_is_retried_by_the_client_unseen(fake: FakeConnector) -> None:
    """urllib3 under msrest retries idempotent verbs (PUT, DELETE, GET) on 408 and 5xx but
    501/505, three times: the bot sees success, Teams saw two calls."""
    ids: list[str] = []

    async def logic(turn: TurnContext) -> None:
        sent = await turn.send_activity("v1")
        fake.fail("update", 502)
        edited = MessageFactory.text("v2")
        edited.id = sent.id
        ids.append((await turn.update_activity(edited)).id)

    await proactive(fake, THREAD, logic)
    assert [c.method for c in fake.calls] == ["reply", "update:failed", "update"]
    assert fake.history[THREAD][0]["text"] == "v2"


async def test_a_put_failing_past_the_retries_loses_its_status(fake: FakeConnector) -> None:
    """Past the client's three retries (Retry-After obeyed for 503), the error is msrest's
    ClientRequestError around requests' RetryError: no response, no status to read."""
    fake.fail("delete", 503, times=4, retry_after=1)

    async def logic(turn: TurnContext) -> None:
        with pytest.raises(ClientRequestError) as caught:
            await turn.delete_activity("1700000000001")
        assert "503" in str(caught.value.inner_exception)

    started = time.monotonic()
    await proactive(fake, THREAD, logic)
    assert [c.method for c in fake.calls] == ["delete:failed"] * 4
    assert time.monotonic() - started >= 2.9


async def test_max_per_second_counts_a_sliding_window() -> None:
    fake = FakeConnector()

    def at(moment: float, method: str = "send", conversation: str = THREAD) -> None:
        fake.calls.append(Call(method, conversation, None, {}, at=moment))

    for i in range(8):
        at(100 + i * 0.13)  # 8 sends in 0.91 s
    at(100.5, "reply:failed")  # a refused send reached Teams all the same
    at(100.5, "update")  # not a send
    at(100.5, conversation="a:other")
    assert fake.max_per_second(THREAD) == 9
    assert fake.max_per_second("a:other") == 1
    assert fake.max_per_second("a:none") == 0

    paced = FakeConnector()
    for i in range(20):
        paced.calls.append(Call("send", THREAD, None, {}, at=200 + i / 7))  # 7 a second
    assert paced.max_per_second(THREAD) == 7


async def test_real_sends_are_timed_on_arrival(fake: FakeConnector) -> None:
    async def logic(turn: TurnContext) -> None:
        for i in range(3):
            await turn.send_activity(f"m{i}")

    await proactive(fake, THREAD, logic)
    assert fake.max_per_second(THREAD) == 3
    assert [c.at for c in fake.calls] == sorted(c.at for c in fake.calls)


async def test_wait_for_wakes_on_the_call_without_sleeping(fake: FakeConnector) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)

        async def logic(turn: TurnContext) -> None:
            await turn.send_activity("one")
            await turn.send_activity("two")

        await proactive(fake, THREAD, logic)

    task = asyncio.create_task(later())
    [call] = await fake.wait_for("reply", lambda c: c.body.get("text") == "two", within=10)
    assert call.conversation == THREAD
    await fake.wait_until(lambda: len(fake.history.get(THREAD, [])) == 2, within=10)
    await task
    with pytest.raises(TimeoutError):
        await fake.wait_for("delete", within=0.05)


async def test_an_unknown_route_is_recorded_and_refused(fake: FakeConnector) -> None:
    async with ClientSession() as http, http.get(fake.url + "v3/teams/x") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "NotFound"
    assert fake.of("unknown")[0].body["path"] == "/teams/v3/teams/x"


def test_a_personal_message_is_shaped_as_teams_sends_it() -> None:
    first = message("hello", user=ALICE, service_url="http://x/teams/")
    second = message("again", user=ALICE, service_url="http://x/teams/", locale="fr-FR")
    assert first["id"] != second["id"]
    assert first["type"] == "message"
    assert first["channelId"] == "msteams"
    assert first["from"] == {"id": ALICE.id, "name": ALICE.name, "aadObjectId": ALICE.aad_object_id}
    assert first["recipient"] == {"id": BOT_ID, "name": BOT_NAME}
    assert first["conversation"] == {
        "id": ALICE.personal_conversation,
        "conversationType": "personal",
        "tenantId": TENANT,
    }
    assert first["channelData"] == {"tenant": {"id": TENANT}}
    assert (first["text"], first["textFormat"], second["locale"]) == ("hello", "plain", "fr-FR")
    assert first["timestamp"].endswith("Z")

    activity = Activity().deserialize(second)
    assert activity.from_property.aad_object_id == ALICE.aad_object_id
    # Teams says tenantId, botbuilder-python reads tenantID: the tenant is in channelData.
    assert activity.conversation.tenant_id is None
    assert teams_get_channel_data(activity).tenant.id == TENANT
    assert activity.locale == "fr-FR"


def test_a_channel_mention_is_shaped_as_teams_sends_it() -> None:
    raw = message(
        "share this",
        user=BOB,
        service_url="http://x/teams/",
        conversation_type="channel",
        team=TEAM,
        channel=NEWS,
        mention_bot=True,
        mentions=[(ALICE.id, ALICE.name)],
    )
    assert raw["text"] == f"<at>{BOT_NAME}</at> share this <at>{ALICE.name}</at>"
    mentions = [e for e in raw["entities"] if e["type"] == "mention"]
    assert mentions == [
        {
            "type": "mention",
            "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            "text": "<at>Ambassador</at>",
        },
        {
            "type": "mention",
            "mentioned": {"id": ALICE.id, "name": ALICE.name},
            "text": f"<at>{ALICE.name}</at>",
        },
    ]
    assert raw["conversation"]["id"] == f"{NEWS.id};messageid={raw['id']}"  # a new thread
    assert raw["conversation"]["isGroup"] is True

    activity = Activity().deserialize(raw)
    assert TurnContext.remove_recipient_mention(activity).strip().startswith("share this")
    assert teams_get_channel_id(activity) == NEWS.id
    assert teams_get_team_info(activity).id == TEAM.id
    assert teams_get_team_info(activity).name == TEAM.name

    in_thread = message(
        "more",
        user=BOB,
        service_url="u",
        conversation=THREAD,
        conversation_type="channel",
        team=TEAM,
        mention_bot=True,
    )
    assert in_thread["conversation"]["id"] == THREAD
    assert in_thread["channelData"]["channel"] == {"id": NEWS.id}


def test_a_card_button_press_is_a_message_with_a_value() -> None:
    world = TeamsWorld("http://x/teams/")
    press = world.card_submit({"action": "join", "week": 47}, user=ALICE, reply_to="1700000000123")
    assert press["type"] == "message"
    assert press["value"] == {"action": "join", "week": 47}
    assert press["replyToId"] == "1700000000123"
    assert "text" not in press  # Action.Submit carries no text: a bot reads None
    assert press["conversation"]["id"] == ALICE.personal_conversation
    assert Activity().deserialize(press).text is None
    assert card_submit({}, user=ALICE, reply_to="1", service_url="u")["serviceUrl"] == "u"


def test_installs_are_shaped_as_teams_sends_them() -> None:
    personal = conversation_update(user=ALICE, service_url="u")
    assert personal["type"] == "conversationUpdate"
    assert personal["membersAdded"] == [
        {"id": BOT_ID},
        {"id": ALICE.id, "aadObjectId": ALICE.aad_object_id},
    ]
    assert personal["conversation"]["conversationType"] == "personal"
    assert personal["id"].startswith("f:")

    team = conversation_update(user=ALICE, service_url="u", team=TEAM)
    assert team["membersAdded"] == [{"id": BOT_ID}]
    assert team["conversation"]["id"] == TEAM.id
    assert team["channelData"]["eventType"] == "teamMemberAdded"
    assert team["channelData"]["team"]["aadGroupId"] == TEAM.aad_group_id
    activity = Activity().deserialize(team)
    assert teams_get_selected_channel_id(activity) == TEAM.id
    assert teams_get_team_info(activity).id == TEAM.id

    left = conversation_update(user=ALICE, service_url="u", team=TEAM, members_removed=[BOT_ID])
    assert left["membersRemoved"] == [{"id": BOT_ID}]
    assert "membersAdded" not in left
    assert left["channelData"]["eventType"] == "teamMemberRemoved"

    installed = installation_update(user=ALICE, service_url="u", team=TEAM, channel=NEWS)
    assert (installed["type"], installed["action"]) == ("installationUpdate", "add")
    assert installed["conversation"]["id"] == NEWS.id
    assert installed["channelData"]["settings"] == {"selectedChannel": {"id": NEWS.id}}
    removed = installation_update(user=ALICE, service_url="u", action="remove")
    assert removed["conversation"]["id"] == ALICE.personal_conversation
    assert "team" not in removed["channelData"]


class Echo(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = TurnContext.remove_recipient_mention(turn_context.activity) or ""
        value = turn_context.activity.value
        await turn_context.send_activity(f"echo: {text.strip()}" if not value else f"got {value}")


async def test_inbound_activities_run_through_a_real_bot_to_the_fake(fake: FakeConnector) -> None:
    """The builders posted over HTTP to a CloudAdapter endpoint with authentication off: the
    bot reads them and answers, in the same conversation, through the fake."""
    adapter, bot = local_adapter(), Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    world = TeamsWorld(fake.url)
    try:
        async with ClientSession() as http:
            hello = world.message("hello", user=ALICE)
            assert await post(http, endpoint, hello) in (200, 201)
            mention = world.message(
                "hi all",
                user=BOB,
                conversation=THREAD,
                conversation_type="channel",
                team=TEAM,
                mention_bot=True,
            )
            assert await post(http, endpoint, mention) in (200, 201)
            press = world.card_submit({"ok": 1}, user=ALICE, reply_to="1700000000001")
            assert await post(http, endpoint, press) in (200, 201)
            assert await post(http, endpoint, world.conversation_update(user=ALICE)) in (200, 201)
    finally:
        await runner.cleanup()

    first, second, third = await fake.wait_for("reply", count=3)
    assert (first.conversation, first.activity_id) == (ALICE.personal_conversation, hello["id"])
    assert first.body["text"] == "echo: hello"
    assert first.body["recipient"]["id"] == ALICE.id
    assert (second.conversation, second.activity_id) == (THREAD, mention["id"])
    assert second.body["text"] == "echo: hi all"
    assert third.activity_id == press["id"]
    assert third.body["text"] == "got {'ok': 1}"
    assert all(c.authorization is None for c in fake.calls)


async def test_post_sends_json_and_a_token_only_when_given() -> None:
    seen: list[tuple[str | None, str, dict[str, Any]]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            (request.headers.get("Authorization"), request.content_type, await request.json())
        )
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/api/messages", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    activity = message("hi", user=ALICE, service_url="u")
    try:
        async with ClientSession() as http:
            assert await post(http, endpoint, activity) == 202
            assert await post(http, endpoint, activity, token="abc") == 202
    finally:
        await runner.cleanup()
    assert seen == [
        (None, "application/json", activity),
        ("Bearer abc", "application/json", activity),
    ]
