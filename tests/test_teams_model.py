"""Model drafting in Teams, over the wire: after "I agree", a "drafting…" message appears
in the member's chat at once, and the model's draft replaces it (the Bot Connector's
update, same activity id). The fake OpenAI holds its answer until the test lets it go."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from tests.fakes.openai import FakeOpenAI
from tests.fakes.teams import User
from tests.test_teams_day import TEAM, World, _digest_in_channel, action, open_world, words


@pytest.fixture
async def model_world(
    migrated: str, clock: FixedClock, fake_model: FakeOpenAI
) -> AsyncIterator[World]:
    async for opened in open_world(
        migrated, clock, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake_model.url
    ):
        yield opened


async def test_the_draft_replaces_the_drafting_message(
    model_world: World, fake_model: FakeOpenAI
) -> None:
    w = model_world
    digest = await _digest_in_channel(w, ("Solar roofs",))
    ann = User.named("Ann Colleague")
    claim = action(digest, "Claim 1")
    where = {"conversation_type": "channel", "team": TEAM, "channel": TEAM.general}
    press = w.teams.card_submit(claim, user=ann, reply_to=digest["id"], **where)
    assert await w.send(press) == 201
    await w.settled()
    (prompt,) = w.chat(ann)
    fake_model.hold()
    agree = w.teams.card_submit(action(prompt, "I agree"), user=ann, reply_to=prompt["id"])
    assert await w.send(agree) == 201

    def drafting() -> bool:
        return any("Writing your draft posts" in words(p) for p in w.chat(ann))

    await w.fake.wait_until(drafting)
    (placeholder,) = [p for p in w.chat(ann) if "Writing your draft posts" in words(p)]
    await fake_model.wait_in_flight(1)
    assert w.fake.of("update") == []  # the model has not answered yet
    fake_model.open_gate()
    await w.settled()
    (update,) = w.fake.of("update")
    assert update.activity_id == placeholder["id"]
    now = next(p for p in w.chat(ann) if p["id"] == placeholder["id"])
    assert "quietly remarkable" in words(now)
    assert "I work at ACME." in words(now)
    assert not drafting()  # replaced, not added to
