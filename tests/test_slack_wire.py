"""The Slack app over real HTTP: signed requests into `/slack/events`, a fake Web API out."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import func, select

from storage.models import (
    Claim,
    ConsentEntry,
    ContentItem,
    Draft,
    InboundSeen,
    Outbox,
    PlatformMessage,
)
from tests.fakes.slack import Call, button, signed_headers
from tests.slack_world import ADMIN, CHANNEL, MANAGER, SlackWorld


async def count(w: SlackWorld, model: type) -> int:
    async with w.db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def text_of(call: Call) -> str:
    return call.blocks_text()


async def post_digest(w: SlackWorld) -> Call:
    # what Slack sends when someone types "Our launch <!channel> & <@U123>" as plain text
    await w.slack.command(
        MANAGER, "add https://example.com/launch Our launch &lt;!channel&gt; &amp; &lt;@U123&gt;"
    )
    await w.slack.command(MANAGER, "add https://example.com/jobs We are hiring & growing")
    await w.fake.wait_for("respond", lambda c: "Added item #2" in text_of(c))
    assert await w.slack.command(MANAGER, "digest now") == 200
    await w.fake.wait_for("respond", lambda c: "Digest sent" in text_of(c))
    (digest,) = w.fake.of("chat.postMessage")
    assert digest.params["channel"] == CHANNEL
    return digest


async def test_health_and_signatures(world: SlackWorld) -> None:
    w = world
    async with w.slack.http.get(w.base + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json()) == {"status": "ok", "worker": "thread"}
    body = urlencode(
        {"command": "/ambassador", "text": "add https://x.example/a", "user_id": MANAGER}
    )
    bad = signed_headers(body, secret="wrong")
    async with w.slack.http.post(w.base + "/slack/events", data=body, headers=bad) as resp:
        assert resp.status == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    async with w.slack.http.post(w.base + "/slack/events", data=body, headers=stale) as resp:
        assert resp.status == 401
    async with w.slack.http.post(w.base + "/slack/events", data=body) as resp:
        assert resp.status == 401
    assert await count(w, ContentItem) == 0
    assert w.fake.of("respond") == []


async def test_slash_command_answers_ephemerally(world: SlackWorld) -> None:
    w = world
    assert await w.slack.command("UALICE", "help") == 200
    (answer,) = await w.fake.wait_for("respond")
    assert answer.params["response_type"] == "ephemeral"
    assert "/ambassador" not in answer.params.get("channel", "")
    assert "join" in text_of(answer)


async def test_digest_and_claim_button_journey(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    blocks = text_of(digest)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in blocks  # escaped: nobody is pinged
    assert "<!channel>" not in blocks
    assert "<@U123>" not in blocks
    assert "&amp; growing" in blocks
    assert "voluntary and unpaid" in blocks
    claim_one = button(digest, "Claim 1")
    assert (
        await w.slack.click("UALICE", claim_one, message_ts=digest.params.get("ts", "1.1")) == 200
    )
    join = await w.fake.wait_for("respond", lambda c: "I agree" in text_of(c))
    assert join[0].params["response_type"] == "ephemeral"
    assert await count(w, ConsentEntry) == 0
    await w.slack.click("UALICE", button(join[0], "I agree"), channel=CHANNEL)
    (dm,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUALICE")
    assert "I work at ACME." in text_of(dm)
    assert "https://example.com/" in text_of(dm)
    share = button(dm, "Share on LinkedIn")
    assert share["url"].startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert button(dm, "Post on X")["url"].startswith("https://x.com/intent/tweet?text=")
    assert await count(w, Claim) == 1
    assert await count(w, Draft) == 1
    assert await count(w, ConsentEntry) == 1
    assert json.dumps(dm.params).count("Charter:") == 1


async def member(w: SlackWorld, user: str, digest: Call) -> Call:
    """`user` joins through the digest's Join button; returns the welcome answer."""
    await w.slack.click(user, button(digest, "Join"))
    (prompt,) = await w.fake.wait_for(
        "respond",
        lambda c: ("I agree" in text_of(c) and user in str(c.params)) or "I agree" in text_of(c),
    )
    before = len(w.fake.of("respond"))
    await w.slack.click(user, button(prompt, "I agree"))
    answers = await w.fake.wait_for("respond", count=before + 1)
    return answers[-1]


def dms_to(w: SlackWorld, user: str) -> list[Call]:
    return [c for c in w.fake.of("chat.postMessage") if c.params["channel"] == "D" + user]


async def test_reaction_claims_and_other_reactions_are_ignored(world: SlackWorld) -> None:
    w = world
    await post_digest(w)
    digest_ts = await _digest_ts(w)
    await w.slack.event(_reaction("UBOB", "thumbsup", digest_ts))
    await w.slack.event(_reaction("UBOB", "two", "999.999"))  # not a digest message
    await w.slack.event(_reaction("UBOB", "two", digest_ts))
    (prompt,) = await w.fake.wait_for("chat.postEphemeral", lambda c: "I agree" in text_of(c))
    assert prompt.params["user"] == "UBOB"
    assert prompt.params["channel"] == CHANNEL
    await w.slack.click("UBOB", button(prompt, "I agree"))
    (dm,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUBOB")
    assert "We are hiring" in text_of(dm) or "Our launch" in text_of(dm)
    assert await count(w, Claim) == 1


async def _digest_ts(w: SlackWorld) -> str:
    """The ts the fake gave the digest (what reactions and threads point at)."""
    async with w.db.transaction() as session:
        rows = (
            await session.exec(
                select(PlatformMessage).where(PlatformMessage.anchor_kind == "digest")
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].channel == CHANNEL
    return rows[0].ts


def _reaction(user: str, name: str, ts: str) -> dict[str, object]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": CHANNEL, "ts": ts},
        "event_ts": "1.2",
    }


async def test_mention_in_the_digest_thread_claims_with_instructions(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UCAROL", digest)
    digest_ts = await _digest_ts(w)
    event = {
        "type": "app_mention",
        "user": "UCAROL",
        "text": "<@UBOT> 2 en français, mention my team Data",
        "channel": CHANNEL,
        "ts": "2.1",
        "thread_ts": digest_ts,
        "event_ts": "2.1",
    }
    await w.slack.event(event)
    (dm,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUCAROL")
    assert "Je travaille chez ACME." in text_of(dm)
    assert "Data" in text_of(dm)
    (ack,) = await w.fake.wait_for("chat.postEphemeral", lambda c: "You claimed" in text_of(c))
    assert ack.params["thread_ts"] == digest_ts


async def test_dm_replies_revise_and_commands_still_work(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UDAN", digest)
    await w.slack.click("UDAN", button(digest, "Claim 1"))
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    first_ts = await _draft_ts(w, "DUDAN")
    await w.slack.event(dm("UDAN", "shorter", "3.1", thread_ts=first_ts))
    drafts = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUDAN", count=2
    )
    assert "(version 2)" in text_of(drafts[1])
    await w.slack.event(dm("UDAN", "in French", "3.2"))  # outside the thread: latest draft
    drafts = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUDAN", count=3
    )
    assert "Je travaille chez ACME." in text_of(drafts[2])
    await w.slack.event(dm("UDAN", "help", "3.3"))
    helped = await w.fake.wait_for("chat.postEphemeral", lambda c: "leave" in text_of(c))
    assert helped[0].params["channel"] == "DUDAN"
    # the bot's own messages and edits are ignored
    await w.slack.event(dm("UDAN", "shorter", "3.4") | {"bot_id": "BBOT", "user": None})
    await w.slack.event(dm("UDAN", "", "3.5") | {"subtype": "message_changed", "user": None})
    await w.slack.event(dm("UDAN", "longer", "3.6"))
    drafts = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUDAN", count=4
    )
    assert len(dms_to(w, "UDAN")) == 4
    assert await count(w, Draft) == 4


def dm(user: str, text: str, ts: str, *, thread_ts: str | None = None) -> dict[str, object]:
    """A message from `user` in their direct conversation with the bot."""
    event: dict[str, object] = {
        "type": "message", "channel_type": "im", "channel": "D" + user, "user": user,
        "text": text, "ts": ts, "event_ts": ts,
    }  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def _draft_ts(w: SlackWorld, channel: str) -> str:
    async with w.db.transaction() as session:
        rows = (
            await session.exec(select(PlatformMessage).where(PlatformMessage.channel == channel))
        ).all()
    assert rows
    return rows[0].ts


async def test_retries_and_double_clicks_act_once(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UEVE", digest)
    claim = button(digest, "Claim 2")
    await w.slack.click("UEVE", claim)
    await w.slack.click("UEVE", claim)  # a double click
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    digest_ts = await _digest_ts(w)
    reaction = _reaction("UEVE", "one", digest_ts)
    await w.slack.event(reaction, event_id="EvSame")
    await w.slack.event(reaction, event_id="EvSame", retry=1)  # Slack's retry
    await w.slack.event(reaction, event_id="EvSame", retry=2)
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    await w.fake.wait_for("chat.postEphemeral", lambda c: "You claimed" in text_of(c))
    # one more, distinct, event proves the earlier ones were all processed before we count
    await w.slack.event(_reaction("UEVE", "one", digest_ts), event_id="EvLater")
    await w.fake.wait_for("chat.postEphemeral", lambda c: "already claimed" in text_of(c))
    assert await count(w, Claim) == 2
    assert await count(w, Draft) == 2
    assert len(dms_to(w, "UEVE")) == 3  # item 2, item 1, item 1 again on the later press


async def test_home_tab_by_role(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UFAY", digest)
    await w.slack.click("UFAY", button(digest, "Claim 1"))
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    for user in ("UFAY", MANAGER, ADMIN, "UGUEST"):
        await w.slack.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": "D" + user,
                "tab": "home",
                "event_ts": "5.1",
            }
        )
    homes = await w.fake.wait_for("views.publish", count=4)
    by_user = {c.params["user_id"]: text_of(c) for c in homes}
    assert "You are an ambassador since" in by_user["UFAY"]
    assert "Your claims" in by_user["UFAY"]
    assert "I work at ACME." in by_user["UFAY"]
    assert "Programme" not in by_user["UFAY"]
    assert "Live content: 2" in by_user[MANAGER]
    assert "Weekly figures" not in by_user[MANAGER]
    assert "Weekly figures" in by_user[ADMIN]
    assert "You are not an ambassador" in by_user["UGUEST"]
    assert all(c.params["view"]["type"] == "home" for c in homes)


async def test_add_content_modal(world: SlackWorld) -> None:
    w = world
    await w.slack.event(
        {"type": "app_home_opened", "user": MANAGER, "tab": "home", "event_ts": "6.1"}
    )
    (home,) = await w.fake.wait_for("views.publish")
    await w.slack.click(MANAGER, button(home, "Add content"), channel="DUMGR")
    (modal,) = await w.fake.wait_for("views.open")
    assert modal.params["view"]["callback_id"] == "amb:add_form"

    (kind_block,) = [b for b in modal.params["view"]["blocks"] if b["block_id"] == "kind"]
    assert kind_block["optional"] is True  # left empty, the page says what it is
    assert [o["value"] for o in kind_block["element"]["options"]] == [
        "article", "job", "event", "training"
    ]  # fmt: skip

    def submission(user: str, url: str, title: str) -> dict[str, object]:
        values = {
            "url": {"url": {"type": "plain_text_input", "value": url}},
            "title": {"title": {"type": "plain_text_input", "value": title}},
            "summary": {"summary": {"type": "plain_text_input", "value": "A summary"}},
            "expires": {"expires": {"type": "datepicker", "selected_date": None}},
            "kind": {"kind": {"type": "static_select", "selected_option": {"value": "event"}}},
        }
        return {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T1"},
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": "amb:add_form",
                "state": {"values": values},
            },
        }

    body = urlencode({"payload": json.dumps(submission(MANAGER, "ftp://nope", "Bad"))})
    async with w.slack.http.post(w.slack.endpoint, data=body, headers=signed_headers(body)) as resp:
        answer = await resp.json()
    assert answer["response_action"] == "errors"
    assert "url" in answer["errors"]
    assert await count(w, ContentItem) == 0
    await w.slack.interaction(submission("UMALLORY", "https://example.com/m", "Sneaky"))
    await w.slack.interaction(submission(MANAGER, "https://example.com/new", "From the modal"))
    await w.fake.wait_for("chat.postMessage", lambda c: "Added item #1" in text_of(c))
    await w.fake.wait_for("chat.postMessage", lambda c: "Only the comms managers" in text_of(c))
    assert await count(w, ContentItem) == 1
    async with w.db.transaction() as session:
        (item,) = (await session.exec(select(ContentItem))).all()
    assert item.kind == "event"  # as chosen in the modal


async def test_buttons_check_roles_too(world: SlackWorld) -> None:
    w = world
    await w.slack.command(MANAGER, "add https://example.com/a Alpha")
    await w.fake.wait_for("respond", lambda c: "Added" in text_of(c))
    forged = {"action_id": "amb:digest:0", "value": json.dumps({"c": "digest", "a": ["now"]})}
    await w.slack.click("UMALLORY", forged)
    await w.fake.wait_for("respond", lambda c: "Only the comms managers" in text_of(c))
    pause = {"action_id": "amb:pause:0", "value": json.dumps({"c": "pause", "a": []})}
    await w.slack.click("UMALLORY", pause)
    await w.fake.wait_for("respond", lambda c: "Only the comms managers" in text_of(c), count=2)
    assert [c for c in w.fake.of("chat.postMessage") if c.params["channel"] == CHANNEL] == []


async def test_member_language_comes_from_slack(world: SlackWorld) -> None:
    w = world
    w.fake.locales["UGIL"] = "fr-FR"
    digest = await post_digest(w)
    await w.slack.click("UGIL", button(digest, "Claim 1"))
    (prompt,) = await w.fake.wait_for("respond", lambda c: "J'accepte" in text_of(c))
    await w.slack.click("UGIL", button(prompt, "J'accepte"))
    (dm,) = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DUGIL")
    assert "Je travaille chez ACME." in text_of(dm)
    await w.slack.command("UGIL", "charter")
    await w.fake.wait_for("respond", lambda c: "Charte des réseaux sociaux" in text_of(c))
    assert len(w.fake.of("users.info")) >= 1
    infos = [c for c in w.fake.of("users.info") if c.params.get("user") == "UGIL"]
    assert len(infos) == 1  # cached


async def test_slack_failures_are_retried_and_nothing_is_lost(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UHAL", digest)
    w.fake.fail("chat.postMessage", 429, retry_after=0)
    w.fake.fail("chat.postMessage", 500)
    await w.slack.click("UHAL", button(digest, "Claim 1"))
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    assert len(dms_to(w, "UHAL")) == 1  # delivered after a 429 and a 500
    assert len(w.fake.of("chat.postMessage:failed")) == 2
    # Slack down for longer than the client's own retries: the message waits in the outbox
    w.fake.fail("chat.postMessage", 500, times=3)
    await w.slack.click("UHAL", button(digest, "Claim 2"))
    await w.fake.wait_for("respond", lambda c: "try again shortly" in text_of(c))
    assert len(dms_to(w, "UHAL")) == 1
    assert await count(w, Outbox) == 1
    w.clock.advance(seconds=10)
    assert await w.bot.call(w.bot.slack.retry_due()) == 1
    assert len(dms_to(w, "UHAL")) == 2
    assert await w.bot.call(w.bot.slack.retry_due()) == 0


async def test_home_actions_refresh_home_and_forget_erases_slack_traces(world: SlackWorld) -> None:
    w = world
    digest = await post_digest(w)
    await member(w, "UIDA", digest)
    await w.slack.click("UIDA", button(digest, "Claim 1"))
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    await w.slack.event(
        {"type": "app_home_opened", "user": "UIDA", "tab": "home", "event_ts": "7.1"}
    )
    (home,) = await w.fake.wait_for("views.publish")
    home_click = {
        "type": "block_actions",
        "user": {"id": "UIDA"},
        "team": {"id": "T1"},
        "trigger_id": "t",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [
            {
                "type": "button",
                "action_id": button(home, "Leave")["action_id"],
                "value": button(home, "Leave")["value"],
                "block_id": "b",
                "action_ts": "1",
            }
        ],
    }
    await w.slack.interaction(home_click)
    homes = await w.fake.wait_for("views.publish", count=2)
    assert "You are not an ambassador" in text_of(homes[1])
    async with w.db.transaction() as session:
        anchors = (
            await session.exec(
                select(PlatformMessage).where(PlatformMessage.anchor_kind == "claim")
            )
        ).all()
    assert len(anchors) == 1
    await w.slack.command("UIDA", "forget")
    await w.fake.wait_for("respond", lambda c: "Erased" in text_of(c))
    async with w.db.transaction() as session:
        anchors = (
            await session.exec(
                select(PlatformMessage).where(PlatformMessage.anchor_kind == "claim")
            )
        ).all()
        keys = (await session.exec(select(InboundSeen.key))).all()
    assert anchors == []
    assert keys  # presses were recorded…
    assert not any("UIDA" in key for key in keys)  # …without the person's id
