"""Model drafting in Slack, over the wire: the claim is acknowledged, a "drafting…" message
appears in the member's DM at once, and `chat.update` puts the model's draft in its place
(same ts, so thread replies reach the claim). The fake OpenAI holds its answer until the
test lets it go, which proves the order without any sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from storage.models import Draft, PlatformMessage
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import button
from tests.slack_world import SlackWorld, open_world
from tests.test_slack_wire import _draft_ts, dm, member, post_digest, text_of


@pytest.fixture
async def model_world(
    migrated: str, clock: FixedClock, fake_model: FakeOpenAI
) -> AsyncIterator[SlackWorld]:
    async for opened in open_world(
        migrated, clock, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake_model.url
    ):
        yield opened


async def test_claim_shows_drafting_then_the_draft_replaces_it(
    model_world: SlackWorld, fake_model: FakeOpenAI
) -> None:
    w = model_world
    digest = await post_digest(w)
    await member(w, "UALICE", digest)
    fake_model.hold()
    await w.slack.click("UALICE", button(digest, "Claim 1"))
    (placeholder,) = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUALICE"
    )
    assert "Writing your draft posts" in text_of(placeholder)
    await w.fake.wait_for("respond", lambda c: "You claimed" in text_of(c))
    await fake_model.wait_in_flight(1)
    assert w.fake.of("chat.update") == []  # the model has not answered yet
    fake_model.open_gate()
    (update,) = await w.fake.wait_for("chat.update")
    assert update.params["channel"] == "DUALICE"
    ts = await _draft_ts(w, "DUALICE")
    assert update.params["ts"] == ts  # the same message, now the draft
    assert "quietly remarkable" in text_of(update)
    assert "I work at ACME." in text_of(update)
    assert "https://example.com/" in text_of(update)
    assert button(update, "New version")["action_id"].startswith("amb:")
    assert len([c for c in w.fake.of("chat.postMessage") if c.params["channel"] == "DUALICE"]) == 1

    # a reply in that message's thread revises the same claim, again in place
    await w.slack.event(dm("UALICE", "shorter", "5.1", thread_ts=ts))
    updates = await w.fake.wait_for("chat.update", count=2)
    assert "(version 2)" in text_of(updates[1])
    async with w.db.transaction() as session:
        versions = (await session.exec(select(Draft.version))).all()
        anchors = (await session.exec(select(PlatformMessage.anchor_kind))).all()
    assert sorted(versions) == [1, 2]
    assert sorted(anchors).count("claim") == 2  # the draft message, then the revision's


async def test_if_the_update_is_refused_the_draft_is_posted_anew(
    model_world: SlackWorld, fake_model: FakeOpenAI
) -> None:
    w = model_world
    digest = await post_digest(w)
    await member(w, "UBOB", digest)
    w.fake.fail("chat.update", 400, error="message_not_found")
    await w.slack.click("UBOB", button(digest, "Claim 1"))
    posted = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DUBOB", count=2
    )
    assert "Writing your draft posts" in text_of(posted[0])
    assert "quietly remarkable" in text_of(posted[1])
    assert len(w.fake.of("chat.update:failed")) == 1
