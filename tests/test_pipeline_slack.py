"""The content pipeline in a Slack workspace, over the wire, on both databases: a trusted
and an untrusted feed, a member's suggestion, the managers' review, and the next digest
carrying exactly the approved items; a broken feed told to managers once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FixedClock
from bot.commands import Actor, Command, Via
from bot.services import review
from tests.fakes.site import JOB_TITLE, OG_TITLE, Site
from tests.fakes.slack import Call, button
from tests.slack_world import MANAGER, SlackWorld, open_world
from tests.test_slack_wire import text_of

MEMBER = "UALICE"


@pytest.fixture
async def world(migrated: str, clock: FixedClock) -> AsyncIterator[SlackWorld]:
    async for opened in open_world(
        migrated, clock, AMBASSADOR_FETCH="on", AMBASSADOR_FETCH_ALLOW_PRIVATE="1"
    ):
        yield opened


async def said(w: SlackWorld, user: str, text: str, expect: str) -> Call:
    """A slash command, and the bot's answer that contains `expect`."""
    shown = len([c for c in w.fake.of("respond") if expect in text_of(c)])
    await w.slack.command(user, text)
    found = await w.fake.wait_for("respond", lambda c: expect in text_of(c), count=shown + 1)
    return found[-1]


async def poll_feeds(w: SlackWorld) -> None:
    assert w.bot.scheduler is not None
    await w.bot.call(w.bot.scheduler.poll_feeds())


def dms_to(w: SlackWorld, user: str) -> list[str]:
    return [text_of(c) for c in w.fake.of("chat.postMessage") if c.params["channel"] == "D" + user]


async def test_feeds_suggestions_and_review_make_the_next_digest(
    world: SlackWorld, site: Site
) -> None:
    w = world
    site.set_feed(
        "/feeds/rss",
        [
            {"id": "rss:1", "link": "/og", "title": OG_TITLE},
            {"id": "rss:2", "link": "/plain", "title": "Solar roofs for schools"},
        ],
    )
    site.set_feed(
        "/feeds/atom",
        [
            {"id": "atom:1", "link": "/event", "title": "Open day in Lyon"},
            {"id": "atom:2", "link": "/twitter", "title": "A rumour we will not share"},
            {"id": "atom:3", "link": "/training", "title": "Privacy training"},
        ],
    )
    await said(w, MANAGER, f"feed add {site.url('/feeds/rss')} trusted", "Following trusted")
    await said(w, MANAGER, f"feed add {site.url('/feeds/atom')}", "Following feed #2")
    await w.bot.call(
        w.bot.core.handle(Command(Actor("slack", MEMBER), "agree", ("1", ""), via=Via.BUTTON))
    )
    await said(w, MEMBER, f"suggest {site.url('/job')} we are hiring in Lyon", "passed")
    # the manager hears of the suggestion at once, with buttons to act on it
    (notice,) = await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "D" + MANAGER
    )
    assert JOB_TITLE in text_of(notice)
    assert "we are hiring in Lyon" in text_of(notice)

    await poll_feeds(w)
    # one word to the manager for the poll, not one per entry; its button shows the queue
    (summary,) = [t for t in dms_to(w, MANAGER) if "from your feeds" in t]
    assert "3 new items from your feeds wait for your review" in summary
    queue = await said(w, MANAGER, "queue", "Waiting for review")
    assert "Waiting for review (4 items)" in text_of(queue)
    assert "Solar roofs" not in text_of(queue)  # the trusted feed's entries skip the queue

    await w.slack.click(MANAGER, button(notice, "Approve"), channel="D" + MANAGER)
    await w.fake.wait_for("respond", lambda c: "Approved #" in text_of(c))
    ids = {item_title: item_id for item_id, item_title in await _waiting(w)}
    await said(w, MANAGER, f"approve {ids['Open day in Lyon']}", "Approved")
    await said(w, MANAGER, f"approve {ids['Privacy training']} training", "Approved")
    await said(w, MANAGER, f"reject {ids['A rumour we will not share']} off topic", "Rejected")
    told = await w.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D" + MEMBER)
    assert "approved your suggestion" in text_of(told[-1])

    await said(w, MANAGER, "digest now", "Digest sent")
    (digest,) = [c for c in w.fake.of("chat.postMessage") if c.params["channel"] == "CDIGEST"]
    shown = text_of(digest)
    for title in (OG_TITLE, "Solar roofs for schools", JOB_TITLE, "Open day in Lyon",
                  "Privacy training"):  # fmt: skip
        assert title in shown, title
    assert "A rumour" not in shown
    assert "Job offer" in shown
    assert "Event" in shown
    assert "Training" in shown


async def _waiting(w: SlackWorld) -> list[tuple[int, str]]:
    async with w.db.transaction() as session:
        return [(int(item.id or 0), item.title) for item in await review.pending(session)]


async def test_a_broken_feed_is_told_to_managers_once_and_its_recovery_too(
    world: SlackWorld, site: Site, clock: FixedClock
) -> None:
    w = world
    await said(w, MANAGER, f"feed add {site.url('/feeds/rss')}", "Following feed #1")
    entries = site.feeds.pop("/feeds/rss")  # the feed now answers 404
    for _ in range(3):
        await poll_feeds(w)
        clock.advance(minutes=61)
    broken = [t for t in dms_to(w, MANAGER) if "could not be read" in t]
    assert len(broken) == 1
    assert "404" in broken[0]
    listed = await said(w, MANAGER, "feed list", "Feeds (1)")
    assert "failing since" in text_of(listed)
    site.set_feed("/feeds/rss", entries)
    await poll_feeds(w)
    await poll_feeds(w)
    assert len([t for t in dms_to(w, MANAGER) if "can be read again" in t]) == 1
    assert len([t for t in dms_to(w, MANAGER) if "could not be read" in t]) == 1
