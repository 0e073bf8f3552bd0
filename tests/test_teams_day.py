"""Teams over the wire: activities POSTed to the bot's real `/api/messages` (botbuilder's
CloudAdapter), everything it says sent through botbuilder's client to a local fake Bot
Connector; on both databases."""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlmodel import func, select

from adapters.cli.serve import RunningBot, start_bot
from adapters.teams.delivery import Origin
from adapters.teams.render import MAX_BYTES
from bot.clock import FixedClock
from bot.errors import ConfigurationError
from bot.messages import Audience, Message, Paragraph, Reply
from storage.database import Database
from storage.models import (
    Claim,
    ContentItem,
    Conversation,
    Draft,
    InboundSeen,
    Outbox,
    Person,
)
from tests.conftest import make_settings
from tests.fakes.adaptive_card import validate
from tests.fakes.teams import FakeConnector, Team, TeamsWorld, User, post
from tests.test_slack_run import AMBASSADOR, _env

MANAGER = User.named("Mia Manager")
ADMIN = User.named("Adam Admin")
TEAM = Team("19:team-general@thread.tacv2", "Comms")


@dataclass
class World:
    fake: FakeConnector
    bot: RunningBot
    http: ClientSession
    teams: TeamsWorld
    clock: FixedClock
    db: Database

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.bot.port}/api/messages"

    async def send(self, activity: dict[str, Any]) -> int:
        return await post(self.http, self.endpoint, activity)

    async def say(self, user: User, text: str, **where: Any) -> dict[str, Any]:
        """`user` types `text` to the bot (in their chat, or `@Ambassador …` in a channel)."""
        activity = self.teams.message(text, user=user, **where)
        assert await self.send(activity) == 201
        await self.settled()  # the worker runs requests side by side: one at a time here
        return activity

    async def settled(self) -> None:
        """Everything handed to the worker thread is done (no sleeping)."""
        assert self.bot.worker is not None
        await self.bot.worker.drain()

    def chat(self, user: User) -> list[dict[str, Any]]:
        return self.fake.posts(user.personal_conversation)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    return dict(attachment["content"])


def words(activity: dict[str, Any]) -> str:
    return json.dumps(activity, ensure_ascii=False)


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit in a card, nested ones included."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def action(activity: dict[str, Any], title_start: str) -> dict[str, Any]:
    for found in actions(card_of(activity)):
        if str(found.get("title", "")).startswith(title_start):
            return dict(found["data"])
    raise AssertionError(f"no {title_start!r} action in {words(activity)[:400]}")


async def open_world(url: str, clock: FixedClock, **settings: Any) -> AsyncIterator[World]:
    fake = FakeConnector()
    await fake.start()
    values = {
        "AMBASSADOR_TEAMS": "local",
        "AMBASSADOR_PORT": "0",
        "AMBASSADOR_HOST": "127.0.0.1",
        "AMBASSADOR_MANAGERS": MANAGER.id,
        "AMBASSADOR_ADMINS": ADMIN.id,
    } | settings
    bot = await start_bot(
        make_settings(url, **values), clock=clock, rng=random.Random(5), sweep_every=None
    )
    db = Database(url)
    async with ClientSession() as http:
        try:
            yield World(fake, bot, http, TeamsWorld(fake.url), clock, db)
        finally:
            await bot.close()
            await fake.close()
            await db.dispose()


@pytest.fixture
async def world(migrated: str, clock: FixedClock) -> AsyncIterator[World]:
    async for opened in open_world(migrated, clock):
        yield opened


async def _digest_in_channel(w: World, titles: tuple[str, ...]) -> dict[str, Any]:
    """The manager installs the bot in the team, picks the channel, adds items, sends."""
    install = w.teams.conversation_update(user=MANAGER, team=TEAM)
    assert await w.send(install) == 201
    await w.settled()
    await w.say(MANAGER, "digest here", conversation_type="channel", team=TEAM,
                channel=TEAM.general, mention_bot=True)  # fmt: skip
    for n, title in enumerate(titles, 1):
        await w.say(MANAGER, f"add https://example.com/{n} {title}")
    await w.say(MANAGER, "digest now")
    await w.settled()
    posts = w.fake.posts(TEAM.id)
    return next(p for p in posts if "Claim" in words(p))


async def test_a_day_in_teams(world: World) -> None:
    w = world
    # installed in the manager's own chat: a welcome, voluntary and unpaid
    assert await w.send(w.teams.conversation_update(user=MANAGER)) == 201
    await w.settled()
    (welcome,) = w.chat(MANAGER)
    assert "voluntary and unpaid" in words(welcome)
    assert action(welcome, "Join") == {"amb": "join", "args": []}

    digest = await _digest_in_channel(w, ("Solar roofs", "Hiring data engineers"))
    card = card_of(digest)
    assert validate(card) == []
    assert len(json.dumps(digest).encode()) < MAX_BYTES
    assert "Solar roofs" in words(digest)
    assert "unpaid" in words(digest)
    # the channel's welcome came first, in the channel the bot was added to
    assert "voluntary and unpaid" in words(w.fake.posts(TEAM.id)[0])
    assert any("Digest sent" in words(p) for p in w.chat(MANAGER))
    assert any("posted in #General" in words(p) for p in w.chat(MANAGER))  # not its id

    # a colleague presses Claim on the card: the join card comes to their own chat
    ann = User.named("Ann Colleague")
    claim = action(digest, "Claim 1")
    press = w.teams.card_submit(claim, user=ann, reply_to=digest["id"],
                                conversation_type="channel", team=TEAM, channel=TEAM.general,
                                conversation=f"{TEAM.id};messageid={digest['id']}")  # fmt: skip
    assert await w.send(press) == 201
    assert await w.send(press) == 201  # Teams delivers it again: nothing twice
    await w.settled()
    assert len(w.fake.of("create")) == 1  # their chat with the bot was opened for it
    (prompt,) = w.chat(ann)
    assert "I agree" in words(prompt)
    assert w.fake.posts(TEAM.id)[-1] == digest  # nothing about Ann in the channel

    agree = w.teams.card_submit(action(prompt, "I agree"), user=ann, reply_to=prompt["id"])
    assert await w.send(agree) == 201
    await w.settled()
    draft = next(p for p in w.chat(ann) if "Share on LinkedIn" in words(p))
    assert validate(card_of(draft)) == []
    # item 1 of the digest is its newest: "Hiring data engineers"
    assert "Hiring data engineers" in words(draft)
    assert "https://example.com/2" in words(draft)

    # a plain reply in the chat revises the draft
    await w.say(ann, "shorter")
    revised = w.chat(ann)[-1]
    assert "Share on LinkedIn" in words(revised)
    assert card_of(revised) != card_of(draft)

    # another colleague claims by replying in the digest's thread: "@Ambassador 2"
    bob = User.named("Bob Colleague")
    thread = f"{TEAM.id};messageid={digest['id']}"
    await w.say(bob, "2", conversation_type="channel", team=TEAM, channel=TEAM.general,
                conversation=thread, mention_bot=True, locale="fr-FR")  # fmt: skip
    await w.settled()
    (bob_prompt,) = w.chat(bob)
    assert "J'accepte" in words(bob_prompt) or "accepte" in words(bob_prompt).lower()

    async with w.db.transaction() as session:
        claims = (await session.exec(select(func.count()).select_from(Claim))).one()
        drafts = (await session.exec(select(func.count()).select_from(Draft))).one()
        people = (await session.exec(select(func.count()).select_from(Person))).one()
        chats = (
            await session.exec(select(Conversation).where(Conversation.kind == "personal"))
        ).all()
    assert claims == 1  # Bob has not agreed yet: no claim
    assert drafts >= 1
    assert people == 1  # Ann joined; Bob was only asked
    assert {c.user_id for c in chats} >= {MANAGER.id, ann.id}
    # every message the bot sent is a valid card under the size limit, or plain text
    for conversation in w.fake.history:
        for sent in w.fake.posts(conversation):
            assert len(json.dumps(sent).encode()) < MAX_BYTES
            if sent.get("attachments"):
                assert validate(card_of(sent)) == []
    assert all(call.authorization is None for call in w.fake.calls)  # local mode: no token


async def test_roles_are_checked_on_typed_commands_and_on_cards(world: World) -> None:
    w = world
    digest = await _digest_in_channel(w, ("Solar roofs",))
    intruder = User.named("Ivan Intruder")
    await w.say(intruder, "digest here", conversation_type="channel", team=TEAM,
                channel=TEAM.general, mention_bot=True)  # fmt: skip
    await w.say(intruder, "add https://example.com/evil Evil")
    await w.settled()
    said = [words(p) for p in w.chat(intruder)]
    assert len(said) == 2
    assert all("Only the comms managers can do that" in one for one in said)
    async with w.db.transaction() as session:
        evil = (await session.exec(select(ContentItem).where(ContentItem.title == "Evil"))).all()
    assert evil == []
    assert "Evil" not in " ".join(words(p) for p in w.fake.posts(TEAM.id))
    assert digest in w.fake.posts(TEAM.id)


async def test_the_scheduled_digest_is_posted_proactively(world: World) -> None:
    w = world
    install = w.teams.conversation_update(user=MANAGER, team=TEAM)
    assert await w.send(install) == 201
    await w.settled()
    await w.say(MANAGER, "digest here", conversation_type="channel", team=TEAM,
                channel=TEAM.general, mention_bot=True)  # fmt: skip
    await w.say(MANAGER, "add https://example.com/1 Solar roofs")
    await w.settled()
    before = len(w.fake.posts(TEAM.id))
    w.clock.set(w.clock.now().replace(hour=8, minute=0, second=30))  # 09:00:30 in Paris
    assert w.bot.scheduler is not None
    outcome = await w.bot.call(w.bot.scheduler.tick())
    assert outcome == "sent"
    posts = w.fake.posts(TEAM.id)
    assert len(posts) == before + 1
    assert "Solar roofs" in words(posts[-1])
    assert validate(card_of(posts[-1])) == []


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_teams_refusals_are_retried(world: World, status: int) -> None:
    w = world
    w.fake.fail("reply", status, retry_after=1 if status == 429 else None)
    w.fake.fail("send", status, retry_after=1 if status == 429 else None)
    assert await w.send(w.teams.conversation_update(user=MANAGER)) == 201
    await w.settled()
    assert len(w.chat(MANAGER)) == 1  # delivered after the retry, once
    assert any(c.method.endswith(":failed") for c in w.fake.calls)


async def test_what_teams_keeps_refusing_waits_in_the_outbox(world: World) -> None:
    w = world
    await w.say(MANAGER, "help")
    await w.settled()
    w.fake.fail("reply", 502, times=8)
    w.fake.fail("send", 502, times=8)
    await w.say(MANAGER, "help")
    await w.settled()
    async with w.db.transaction() as session:
        (row,) = (await session.exec(select(Outbox))).all()
    assert (row.platform, row.status, row.last_error) == ("teams", "pending", "http_502")
    w.clock.advance(seconds=60)
    assert await w.bot.call(w.bot.teams.retry_due()) == 1
    assert len(w.chat(MANAGER)) >= 2


async def test_at_most_seven_messages_a_second_into_one_conversation(world: World) -> None:
    w = world
    await w.say(MANAGER, "help")
    await w.settled()
    replies = Reply(
        tuple(Message(f"n{n}", (Paragraph(f"note {n}"),), Audience.DIRECT) for n in range(16))
    )
    await w.bot.call(w.bot.teams.deliver(replies, Origin(MANAGER.id)))
    assert len(w.chat(MANAGER)) == 17
    assert w.fake.max_per_second(MANAGER.personal_conversation) <= 7


async def test_without_a_valid_token_nothing_happens(migrated: str, clock: FixedClock) -> None:
    """With MICROSOFT_APP_ID set, authentication is on: a request without a token is refused
    with 401 before the bot does anything."""
    async for w in open_world(
        migrated,
        clock,
        AMBASSADOR_TEAMS="",
        MICROSOFT_APP_ID="00000000-0000-4000-8000-00000000b07",
        MICROSOFT_APP_PASSWORD="secret",
    ):
        activity = w.teams.message("add https://example.com/1 Sneaky", user=MANAGER)
        assert await w.send(activity) == 401
        assert await post(w.http, w.endpoint, {"type": ""}) in (400, 401)
        await w.settled()
        assert w.fake.calls == []
        async with w.db.transaction() as session:
            seen = (await session.exec(select(func.count()).select_from(InboundSeen))).one()
        assert seen == 0


async def test_not_an_activity_is_a_short_400(world: World) -> None:
    w = world
    async with w.http.post(
        w.endpoint, data="[1, 2", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        assert "Traceback" not in await r.text()
    async with w.http.post(w.endpoint, data="hello", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415


async def test_local_mode_and_an_app_id_together_are_refused(migrated: str) -> None:
    settings = make_settings(
        migrated, AMBASSADOR_TEAMS="local", MICROSOFT_APP_ID="x", AMBASSADOR_PORT="0"
    )
    with pytest.raises(ConfigurationError):
        await start_bot(settings, sweep_every=None)


async def test_forget_erases_the_chat_reference(world: World) -> None:
    w = world
    await w.say(MANAGER, "mydata")
    await w.settled()
    assert any("chats_with_the_bot" in words(p) for p in w.chat(MANAGER))
    await w.say(MANAGER, "forget")
    await w.settled()
    async with w.db.transaction() as session:
        left = (
            await session.exec(select(Conversation).where(Conversation.user_id == MANAGER.id))
        ).all()
    assert left == []


async def test_ambassador_run_serves_teams(tmp_path: Path) -> None:
    """`ambassador run` as in production (a worker process) with Teams only, authentication
    off: installed in a chat it says hello, a typed command is answered, SIGTERM stops it."""
    fake = FakeConnector()
    await fake.start()
    env = _env(
        tmp_path,
        AMBASSADOR_TEAMS="local",
        AMBASSADOR_PORT="0",
        AMBASSADOR_HOST="127.0.0.1",
        AMBASSADOR_MANAGERS=MANAGER.id,
    )
    process = await asyncio.create_subprocess_exec(
        AMBASSADOR, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        match = None
        for _ in range(20):  # the ready line, after any library warnings
            line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            if match := re.search(r"Teams: (http://\S+/api/messages)", line):
                break
        assert match
        endpoint = match[1]
        teams = TeamsWorld(fake.url)
        async with ClientSession() as http:
            assert await post(http, endpoint, teams.conversation_update(user=MANAGER)) == 201
            await fake.wait_for("reply", lambda c: "unpaid" in c.text(), within=60)
            add = teams.message("add https://example.com/a Alpha", user=MANAGER)
            assert await post(http, endpoint, add) == 201
            await fake.wait_for("reply", lambda c: "Added item #1" in c.text(), within=60)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        rest = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
        assert "Traceback" not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_the_weekly_report_reaches_a_teams_admin_with_its_chart(world: World) -> None:
    """Monday morning (the fixed clock: 09:00 in Paris, the 08:00 report within its grace):
    the admin's chat gets the figures as a card and the chart as an inline PNG."""
    w = world
    assert await w.send(w.teams.conversation_update(user=ADMIN)) == 201
    await w.settled()
    assert w.bot.scheduler is not None
    await w.bot.call(w.bot.scheduler.tick())
    sent = w.chat(ADMIN)[1:]  # after the welcome
    assert len(sent) == 2
    table, chart = sent
    assert validate(card_of(table)) == []
    (image,) = chart["attachments"]
    assert image["contentType"] == "image/png"
    assert image["contentUrl"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert len(json.dumps(chart).encode()) < MAX_BYTES  # a small chart: well within


async def test_add_content_from_the_overview_card(world: World) -> None:
    """`home` shows the overview; its "Add content" opens the form as a card (managers
    only); the filled-in card adds the item, and a bad URL is a short error."""
    w = world
    await w.say(MANAGER, "home")
    home = w.chat(MANAGER)[-1]
    press = w.teams.card_submit(action(home, "Add content"), user=MANAGER, reply_to=home["id"])
    assert await w.send(press) == 201
    await w.settled()
    form = w.chat(MANAGER)[-1]
    assert validate(card_of(form)) == []
    inputs = [e["id"] for e in card_of(form)["body"] if str(e["type"]).startswith("Input.")]
    assert inputs == ["url", "title", "summary", "expires", "kind"]
    submit = action(form, "Add") | {
        "url": "https://example.com/new", "title": "Open day", "kind": "event"
    }  # fmt: skip
    filled = w.teams.card_submit(submit, user=MANAGER, reply_to=form["id"])
    assert await w.send(filled) == 201
    await w.settled()
    assert "Added item #1: Open day" in words(w.chat(MANAGER)[-1])
    bad = action(form, "Add") | {"url": "javascript:alert(1)", "title": "x"}
    assert await w.send(w.teams.card_submit(bad, user=MANAGER, reply_to=form["id"])) == 201
    await w.settled()
    assert "Added item" not in words(w.chat(MANAGER)[-1])
    async with w.db.transaction() as session:
        (item,) = (await session.exec(select(ContentItem))).all()
    assert item.kind == "event"  # as chosen in the card
    # a member who is not a manager gets no form
    ann = User.named("Ann Colleague")
    form_press = w.teams.card_submit({"amb": "add_form", "args": []}, user=ann, reply_to="1")
    assert await w.send(form_press) == 201
    await w.settled()
    assert "Only the comms managers" in words(w.chat(ann)[-1])
