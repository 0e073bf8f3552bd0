"""Suggestions and the review queue in Teams, over the wire: a member suggests in their chat,
the manager gets a card with Approve / Reject, decides, and the member hears the outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from tests.fakes.adaptive_card import validate
from tests.fakes.site import JOB_TITLE, OG_TITLE, Site
from tests.fakes.teams import User
from tests.test_teams_day import MANAGER, World, action, card_of, open_world, words


@pytest.fixture
async def world(migrated: str, clock: FixedClock) -> AsyncIterator[World]:
    async for opened in open_world(
        migrated, clock, AMBASSADOR_FETCH="on", AMBASSADOR_FETCH_ALLOW_PRIVATE="1"
    ):
        yield opened


async def press(w: World, user: User, activity: dict[str, object], title: str) -> None:
    submit = w.teams.card_submit(action(activity, title), user=user, reply_to=str(activity["id"]))
    assert await w.send(submit) == 201
    await w.settled()


async def test_a_suggestion_reviewed_in_teams(world: World, site: Site) -> None:
    w = world
    ann = User.named("Ann Colleague")
    await w.say(MANAGER, "help")  # the manager's chat with the bot exists
    await w.say(ann, "join")
    await press(w, ann, w.chat(ann)[-1], "I agree")

    await w.say(ann, f"suggest {site.url('/job')} the data team is hiring")
    assert "passed" in words(w.chat(ann)[-1])
    notice = next(p for p in w.chat(MANAGER) if "A member suggests" in words(p))
    assert validate(card_of(notice)) == []
    assert JOB_TITLE in words(notice)
    assert "the data team is hiring" in words(notice)
    assert "Ann" not in words(notice)  # managers are told why, not who

    await press(w, MANAGER, notice, "Approve")
    assert "Approved #1" in words(w.chat(MANAGER)[-1])
    told = w.chat(ann)[-1]
    assert "approved your suggestion" in words(told)

    await w.say(ann, f"suggest {site.url('/og')}")
    await w.say(MANAGER, "home")
    home = w.chat(MANAGER)[-1]
    assert validate(card_of(home)) == []
    assert "Waiting for review (1 item)" in words(home)
    assert OG_TITLE in words(home)
    await w.say(MANAGER, "reject 2 we shared it last month")
    told = w.chat(ann)[-1]
    assert "decided not to share" in words(told)
    assert "we shared it last month" in words(told)
    await w.say(MANAGER, "queue")
    assert "Nothing waits for review" in words(w.chat(MANAGER)[-1])
