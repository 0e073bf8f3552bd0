"""The content pipeline through the real core, on SQLite and PostgreSQL, against a local
web site: previews, suggestions and the review queue, feeds, and the audit log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from sqlmodel import col, func, select

from bot.app import Ambassador
from bot.clock import FixedClock
from bot.commands import Actor, Command, Via
from bot.feeds import Polled, poll
from bot.services import audit
from storage.models import AuditEvent, ContentItem, Feed, FeedEntry
from tests.conftest import Console
from tests.fakes.site import JOB_TITLE, OG_DESCRIPTION, OG_SITE_NAME, OG_TITLE, Site

FETCHING = {"AMBASSADOR_FETCH": "on", "AMBASSADOR_FETCH_ALLOW_PRIVATE": "1"}


@pytest.fixture
def app(make_app: Callable[..., Ambassador]) -> Ambassador:
    return make_app(**FETCHING)


async def items(app: Ambassador) -> list[ContentItem]:
    async with app.database.transaction() as session:
        return list((await session.exec(select(ContentItem).order_by(col(ContentItem.id)))).all())


async def count(app: Ambassador, model: type) -> int:
    async with app.database.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def join(app: Ambassador, user: str) -> None:
    await app.handle(Command(Actor("console", user), "agree", ("1", ""), via=Via.BUTTON))


async def polled(app: Ambassador, *, everything: bool = False) -> list[Polled]:
    assert app.fetcher is not None
    return list(
        await poll(
            database=app.database,
            settings=app.settings,
            clock=app.clock,
            fetcher=app.fetcher,
            platforms=[],
            everything=everything,
        )
    )


# -- previews ----------------------------------------------------------------------------


async def test_add_fills_what_the_manager_left_out_from_the_page(
    app: Ambassador, console: Console, site: Site
) -> None:
    out = await console(f"as mgr\n/ambassador add {site.url('/og')}")
    assert f"Added item #1: {OG_TITLE}" in out
    assert f"Article · {OG_SITE_NAME}" in out
    (item,) = await items(app)
    assert (item.title, item.summary, item.site_name, item.language, item.kind) == (
        OG_TITLE,
        OG_DESCRIPTION,
        OG_SITE_NAME,
        "fr",
        "article",
    )
    assert item.image_url == site.url("/img/cover.png")  # resolved against the page


async def test_an_explicit_title_wins_and_the_page_gives_the_kind(
    app: Ambassador, console: Console, site: Site
) -> None:
    await console(f"as mgr\n/ambassador add {site.url('/og')} Our own words")
    out = await console(f"/ambassador add {site.url('/job')}")
    assert f"Added item #2: {JOB_TITLE}" in out
    assert "Job offer" in out
    first, job = await items(app)
    assert first.title == "Our own words"
    assert first.summary == OG_DESCRIPTION
    assert job.kind == "job"
    out = await console(f"/ambassador add training {site.url('/event')}")
    assert "Training" in out  # the manager's kind wins over the page's (an event)
    assert (await items(app))[-1].kind == "training"


async def test_a_failed_fetch_still_adds_with_the_given_title(
    app: Ambassador, console: Console, site: Site
) -> None:
    out = await console(f"as mgr\n/ambassador add {site.url('/status/404')} Careers fair")
    assert "Added item #1: Careers fair" in out
    assert "No preview from the page" in out
    out = await console(f"/ambassador add {site.url('/binary')}")
    assert "Added item #2" in out
    assert "No preview from the page" in out
    assert "edit 2 title" in out  # the address stood in for the title: how to change it
    titles = [item.title for item in await items(app)]
    assert titles == ["Careers fair", f"127.0.0.1{'/binary'}"]


async def test_private_addresses_are_refused_unless_the_test_setting_is_on(
    make_app: Callable[..., Ambassador], site: Site
) -> None:
    app = make_app(AMBASSADOR_FETCH="on")  # production: public addresses only
    console = Console(app)
    out = await console(f"as mgr\n/ambassador add {site.url('/og')} Our open day")
    assert "Added item #1: Our open day" in out
    assert "No preview from the page" in out
    assert "127.0.0.1" in out.split("No preview from the page", 1)[1]  # says which address
    assert site.requests == []  # refused before any connection


async def test_no_fetch_at_all_when_fetching_is_off(
    make_app: Callable[..., Ambassador], site: Site
) -> None:
    app = make_app(AMBASSADOR_FETCH="off", AMBASSADOR_FETCH_ALLOW_PRIVATE="1")
    out = await Console(app)(f"as mgr\n/ambassador add {site.url('/og')}")
    assert "previews are switched off here" in out
    assert site.requests == []


async def test_nothing_is_fetched_for_someone_not_allowed(
    app: Ambassador, console: Console, site: Site
) -> None:
    out = await console(f"as alice\n/ambassador add {site.url('/og')}")
    assert "managers" in out.lower()
    out = await console(f"/ambassador suggest {site.url('/og')}")  # not a member
    assert "join" in out
    assert site.requests == []
    assert await count(app, ContentItem) == 0


# -- suggestions and the review queue ------------------------------------------------------


async def test_a_suggestion_waits_for_review_and_only_approved_items_reach_a_digest(
    app: Ambassador, console: Console, site: Site
) -> None:
    await join(app, "alice")
    await console(f"as mgr\n/ambassador add {site.url('/plain')} Already live")
    out = await console(f"as alice\n/ambassador suggest {site.url('/job')} our team is hiring")
    assert "passed" in out
    assert JOB_TITLE in out
    out = await console(f"/ambassador suggest {site.url('/job')}")
    assert "already waiting for review" in out
    out = await console("as mgr\n/ambassador list")
    assert JOB_TITLE not in out
    out = await console("/ambassador digest preview")
    assert "Already live" in out
    assert JOB_TITLE not in out
    out = await console("/ambassador queue")
    assert "Waiting for review (1 item)" in out
    assert "suggested by a member" in out
    assert "Why: our team is hiring" in out
    assert "alice" not in out  # managers see the suggestion, not who made it
    out = await console("/ambassador approve 2")
    assert f"Approved #2: {JOB_TITLE}" in out
    out = await console("/ambassador digest preview")
    assert JOB_TITLE in out
    assert "Job offer" in out
    out = await console("/ambassador approve 2")
    assert "not waiting for review" in out


async def test_reject_edit_and_their_refusals_change_nothing(
    app: Ambassador, console: Console, site: Site
) -> None:
    await join(app, "alice")
    await console(
        f"as alice\n/ambassador suggest {site.url('/og')}\n/ambassador suggest {site.url('/event')}"
    )
    before = [(i.title, i.status, i.kind) for i in await items(app)]
    for bad, said in (
        ("/ambassador edit 1 colour red", "not “colour”"),
        ("/ambassador edit 1 kind podcast", "not a kind of content"),
        ("/ambassador edit 1 expires yesterday", "not a date"),
        ("/ambassador edit 9 title X", "no item #9"),
        ("/ambassador approve 1 podcast", "not a kind of content"),
        ("/ambassador reject abc", "number"),
        ("/ambassador edit 1 title " + "x" * 301, "at most 300"),
    ):
        out = await console(f"as mgr\n{bad}")
        assert said in out, bad
    assert [(i.title, i.status, i.kind) for i in await items(app)] == before
    out = await console("as alice\n/ambassador approve 1")
    assert "managers" in out.lower()
    out = await console("as mgr\n/ambassador edit 1 title Our teams give back")
    assert "the title is now “Our teams give back”" in out
    await console("/ambassador edit 2 kind formation\n/ambassador reject 1 Too old, sorry")
    first, second = await items(app)
    assert (first.status, first.review_note, first.url_key) == ("rejected", "Too old, sorry", None)
    assert second.kind == "training"
    out = await console("/ambassador queue")
    assert "Waiting for review (1 item)" in out
    # a rejected link may be suggested again later
    out = await console(f"as alice\n/ambassador suggest {site.url('/og')}")
    assert "passed" in out


async def test_every_manager_action_on_content_is_audited(
    app: Ambassador, console: Console, site: Site
) -> None:
    await join(app, "alice")
    await console(f"as alice\n/ambassador suggest {site.url('/og')}")
    await console(
        f"as mgr\n/ambassador add {site.url('/job')}\n/ambassador approve 1\n"
        "/ambassador expire 2 2030-01-31\n/ambassador edit 2 title Data engineers\n"
        f"/ambassador remove 2\n/ambassador feed add {site.url('/feeds/rss')}\n"
        "/ambassador feed remove 1"
    )
    await console("/ambassador approve 1")  # refused: not audited
    async with app.database.transaction() as session:
        events = [(e.actor, e.action, e.subject) for e in await audit.events(session)]
    assert events == [
        ("console:mgr", "add", "content:2"),
        ("console:mgr", "approve", "content:1"),
        ("console:mgr", "expire", "content:2"),
        ("console:mgr", "edit", "content:2"),
        ("console:mgr", "remove", "content:2"),
        ("console:mgr", "feed_add", "feed:1"),
        ("console:mgr", "feed_remove", "feed:1"),
    ]
    # erasing the manager keeps what was done, under a name that is not theirs
    await console("as mgr\n/ambassador forget\nclick Erase my data")
    async with app.database.transaction() as session:
        actors = {e.actor for e in await audit.events(session)}
    assert len(actors) == 1
    (alias,) = actors
    assert alias.startswith("erased:")
    assert "mgr" not in alias


async def test_a_suggesters_erasure_unlinks_their_suggestions(
    app: Ambassador, console: Console, site: Site
) -> None:
    await join(app, "alice")
    await console(f"as alice\n/ambassador suggest {site.url('/og')} my favourite")
    out = await console("/ambassador mydata")
    assert "my favourite" in out
    await console("/ambassador forget\nclick Erase my data")
    (item,) = await items(app)
    assert (item.suggested_by, item.suggestion_note, item.status) == (None, None, "pending")


# -- feeds -----------------------------------------------------------------------------


async def test_a_feed_is_checked_before_it_is_followed(
    app: Ambassador, console: Console, site: Site
) -> None:
    for path, said in (
        ("/feeds/html", "Nothing was added"),
        ("/feeds/broken", "Nothing was added"),
        ("/status/500", "Nothing was added"),
    ):
        out = await console(f"as mgr\n/ambassador feed add {site.url(path)}")
        assert "could not read that feed" in out, path
        assert said in out
    assert await count(app, Feed) == 0
    out = await console(f"/ambassador feed add {site.url('/feeds/rss')} trusted")
    assert "Following trusted feed #1" in out
    out = await console(f"/ambassador feed add {site.url('/feeds/rss')}")
    assert "already followed" in out
    out = await console(f"/ambassador feed add {site.url('/feeds/atom')} maybe")
    assert "feed add URL [trusted]" in out
    out = await console("/ambassador feed list")
    assert "trusted: straight to digests" in out
    assert "not read yet" in out


async def test_polls_are_conditional_and_take_each_entry_once(
    app: Ambassador, console: Console, site: Site, clock: FixedClock
) -> None:
    await console(f"as mgr\n/ambassador feed add {site.url('/feeds/rss')}")
    (first,) = await polled(app)
    assert (first.outcome, first.taken) == ("new", 2)
    assert [i.status for i in await items(app)] == ["pending", "pending"]
    assert await polled(app) == []  # not due again before the interval
    clock.advance(minutes=60)
    (again,) = await polled(app)
    assert again.outcome == "unchanged"
    feed_gets = [r for r in site.requests if r.path == "/feeds/rss"]
    assert "If-None-Match" not in feed_gets[1].headers  # `feed add` read it; the first poll
    assert feed_gets[-1].headers.get("If-None-Match")  # asks: anything new?
    # a new entry, an old one under a new link (same id) and one under a new id (same link)
    entries = site.feeds["/feeds/rss"]
    site.set_feed(
        "/feeds/rss",
        [
            {"id": "tag:new", "link": "/event", "title": "Open day"},
            {**entries[0], "link": "/og?utm=feed"},
            {**entries[1], "id": "tag:renamed"},
            *entries,
        ],
    )
    clock.advance(minutes=60)
    (third,) = await polled(app)
    assert third.taken == 1
    assert [i.title for i in await items(app)][-1] == "Open day"
    assert (await items(app))[-1].kind == "event"  # from the page's JSON-LD


async def test_a_feeds_first_poll_takes_only_its_newest_entries(
    app: Ambassador, console: Console, site: Site
) -> None:
    site.set_feed(
        "/feeds/atom",
        [{"id": f"tag:{n}", "link": f"/plain?n={n}", "title": f"Story {n}"} for n in range(12)],
    )
    await console(f"as mgr\n/ambassador feed add {site.url('/feeds/atom')} trusted")
    (first,) = await polled(app)
    assert first.taken == 5
    # the five first in the feed, stored oldest first: a digest shows the newest on top
    assert [i.title for i in await items(app)] == [f"Story {n}" for n in (4, 3, 2, 1, 0)]
    assert all(i.status == "approved" for i in await items(app))
    assert await count(app, FeedEntry) >= 12  # the rest remembered, never taken later


async def test_replicas_polling_together_take_every_entry_once(
    make_app: Callable[..., Ambassador], site: Site
) -> None:
    one, two = make_app(**FETCHING), make_app(**FETCHING)
    await Console(one)(
        f"as mgr\n/ambassador feed add {site.url('/feeds/rss')}\n"
        f"/ambassador feed add {site.url('/feeds/atom')}"
    )
    site.set_feed("/feeds/atom", [{"id": "tag:a", "link": "/twitter", "title": "Atom story"}])
    before = len(site.requests)
    results = await asyncio.gather(polled(one), polled(two), polled(one), polled(two))
    read = sorted(p.feed_id for r in results for p in r if p.outcome != "elsewhere")
    assert read == [1, 2]  # each feed read by one of them
    assert len([r for r in site.requests[before:] if r.path.startswith("/feeds/")]) == 2
    assert await count(one, ContentItem) == 3


async def test_audit_export_lists_actions_as_json(
    app: Ambassador, console: Console, site: Site
) -> None:
    await console(f"as mgr\n/ambassador add {site.url('/og')}")
    async with app.database.transaction() as session:
        (event,) = [audit.as_record(e) for e in await audit.events(session)]
    assert event["actor"] == "console:mgr"
    assert json.loads(str(event["detail"]))["title"] == OG_TITLE
    assert await count(app, AuditEvent) == 1
