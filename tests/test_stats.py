"""Weekly figures (`bot.services.stats.weekly`), driven through the real core from the console
while the clock moves across weeks; on SQLite and PostgreSQL (the `app` fixture runs twice).

The programme's time zone is Europe/Paris (the default): weeks start on Monday 00:00 there.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from bot.app import Ambassador
from bot.clock import FixedClock
from bot.services import stats
from bot.services.stats import Week
from tests.conftest import Console

# START is Monday 2026-11-16 08:00 UTC (09:00 in Paris, CET = UTC+1).
WEEK_0 = date(2026, 11, 16)


async def weekly(app: Ambassador, clock: FixedClock, weeks: int) -> list[Week]:
    async with app.database.transaction() as session:
        return await stats.weekly(session, weeks=weeks, now=clock.now(), tz=app.settings.tz)


def people(week: Week) -> tuple[int, int, int]:
    return week.joins, week.leaves, week.ambassadors


def activity(week: Week) -> tuple[int, int, int]:
    return week.claims, week.drafts, week.shares


async def publish(console: Console, *urls: str) -> None:
    """The manager adds content and sends a digest, so `claim N` resolves."""
    lines = ["as mgr"]
    lines += [f"/ambassador add {url} Item {n}" for n, url in enumerate(urls, start=1)]
    lines.append("/ambassador digest now")
    out = await console("\n".join(lines))
    assert "Digest sent" in out


async def join_and_claim(console: Console, user: str, number: int = 1) -> None:
    out = await console(f"as {user}\n/ambassador claim {number}\nclick I agree")
    assert "Welcome" in out
    assert "You claimed" in out


async def join_only(console: Console, user: str) -> None:
    out = await console(f"as {user}\n/ambassador join\nclick I agree")
    assert "Welcome" in out


async def leave(console: Console, user: str) -> None:
    out = await console(f"as {user}\n/ambassador leave")
    assert "You have left" in out


async def test_weeks_are_consecutive_mondays_oldest_first(
    app: Ambassador, clock: FixedClock
) -> None:
    figures = await weekly(app, clock, 6)
    assert len(figures) == 6
    assert figures[-1].week_start == WEEK_0
    for earlier, later in itertools.pairwise(figures):
        assert later.week_start - earlier.week_start == timedelta(days=7)
    assert all(week.week_start.weekday() == 0 for week in figures)
    assert all(people(week) == (0, 0, 0) and activity(week) == (0, 0, 0) for week in figures)
    assert list(figures[0].as_record()) == [
        "week_start",
        "joins",
        "leaves",
        "ambassadors",
        "claims",
        "drafts",
        "shares",
        "model_tokens",
    ]
    assert figures[-1].as_record()["week_start"] == "2026-11-16"


async def test_week_boundary_is_monday_midnight_in_paris(
    app: Ambassador, clock: FixedClock
) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    # Sunday 2026-11-22 23:30 in Paris = 22:30 UTC: still the week of Monday 16th.
    clock.set(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    await join_and_claim(console, "alice")
    # Monday 2026-11-23 00:30 in Paris = Sunday 23:30 UTC: the next week.
    clock.set(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    await join_and_claim(console, "bob")
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))

    first, second = await weekly(app, clock, 2)
    assert first.week_start == date(2026, 11, 16)
    assert second.week_start == date(2026, 11, 23)
    assert people(first) == (1, 0, 1)
    assert activity(first) == (1, 1, 0)
    assert people(second) == (1, 0, 2)
    assert activity(second) == (1, 1, 0)

    # Seen from the Sunday evening itself (Paris), the current week is still the 16th.
    clock.set(datetime(2026, 11, 22, 22, 45, tzinfo=UTC))
    (current,) = await weekly(app, clock, 1)
    assert current.week_start == date(2026, 11, 16)


async def test_week_across_the_october_clock_change(app: Ambassador, clock: FixedClock) -> None:
    """Summer time ends on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET): the week of
    Monday 19th starts at 22:00 UTC on the 18th and ends at 23:00 UTC on the 25th."""
    console = Console(app)
    clock.set(datetime(2026, 10, 14, 9, 0, tzinfo=UTC))
    await publish(console, "https://example.com/dst")
    clock.set(datetime(2026, 10, 18, 21, 30, tzinfo=UTC))  # Sun 23:30 CEST -> week of 12th
    await join_and_claim(console, "alice")
    clock.set(datetime(2026, 10, 18, 22, 30, tzinfo=UTC))  # Mon 00:30 CEST -> week of 19th
    await join_and_claim(console, "bob")
    clock.set(datetime(2026, 10, 25, 22, 30, tzinfo=UTC))  # Sun 23:30 CET -> week of 19th
    await join_and_claim(console, "carol")
    clock.set(datetime(2026, 10, 25, 23, 30, tzinfo=UTC))  # Mon 00:30 CET -> week of 26th
    await join_and_claim(console, "dave")
    clock.set(datetime(2026, 10, 28, 12, 0, tzinfo=UTC))

    figures = await weekly(app, clock, 3)
    assert [week.week_start for week in figures] == [
        date(2026, 10, 12),
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]
    assert [people(week) for week in figures] == [(1, 0, 1), (2, 0, 3), (1, 0, 4)]
    assert [activity(week) for week in figures] == [(1, 1, 0), (2, 2, 0), (1, 1, 0)]


async def test_ambassadors_are_the_members_at_the_end_of_each_week(
    app: Ambassador, clock: FixedClock
) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    # Week of 16th: alice and bob join.
    await join_only(console, "alice")
    await join_only(console, "bob")
    # Week of 23rd: bob leaves; dave joins and leaves within the week.
    clock.advance(days=7)
    await leave(console, "bob")
    await join_only(console, "dave")
    clock.advance(hours=2)
    await leave(console, "dave")
    # Week of 30th: nothing happens.
    clock.advance(days=7)
    # Week of 7th: bob comes back.
    clock.advance(days=7)
    await join_only(console, "bob")

    figures = await weekly(app, clock, 5)
    assert [week.week_start for week in figures] == [
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    assert [people(week) for week in figures] == [
        (0, 0, 0),
        (2, 0, 2),
        (1, 2, 1),  # dave: 1 join and 1 leave, not an ambassador at the end of the week
        (0, 0, 1),
        (1, 0, 2),
    ]
    # Leaving twice, or leaving without having joined, records nothing.
    out = await console("as bob\n/ambassador leave\n/ambassador leave\nas zoe\n/ambassador leave")
    assert "not an ambassador" in out
    after = await weekly(app, clock, 5)
    assert [people(week) for week in after][:-1] == [people(week) for week in figures][:-1]
    assert people(after[-1]) == (1, 1, 1)


async def test_a_join_prompt_that_is_declined_counts_nothing(
    app: Ambassador, clock: FixedClock
) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    out = await console("as eve\n/ambassador claim 1\nclick Not now")
    assert "nothing was recorded" in out
    (week,) = await weekly(app, clock, 1)
    assert people(week) == (0, 0, 0)
    assert activity(week) == (0, 0, 0)


async def test_claims_drafts_and_shares(app: Ambassador, clock: FixedClock) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a", "https://example.com/b")
    await join_and_claim(console, "alice", 1)  # claim + first draft
    out = await console(
        """
        /ambassador claim 2
        reply shorter
        click New version
        /ambassador claim 2
        /ambassador shared 1
        /ambassador shared 1
        /ambassador shared 2
        """
    )
    assert "already" in out.lower()  # claiming again does not count twice
    clock.advance(days=7)
    await join_and_claim(console, "bob", 1)
    out = await console("react two\n/ambassador shared 2")
    assert "You claimed" in out

    first, second = await weekly(app, clock, 2)
    # alice: 2 claims; drafts: 1 + 1 + "shorter" + "New version"; shared items 1 and 2 once each
    assert activity(first) == (2, 4, 2)
    assert people(first) == (1, 0, 1)
    # bob: claims 1 (button) and 2 (reaction), one draft each, shares item 2
    assert activity(second) == (2, 2, 1)
    assert people(second) == (1, 0, 2)


async def test_forget_counts_as_a_leave_and_keeps_past_weeks(
    app: Ambassador, clock: FixedClock
) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    await join_and_claim(console, "alice")
    await join_and_claim(console, "bob")
    await join_and_claim(console, "carol")
    await console("as alice\n/ambassador shared 1")
    await leave(console, "carol")
    clock.advance(days=7)
    await console("as bob\nreply shorter")  # activity in the current week too
    before = await weekly(app, clock, 3)
    assert people(before[1]) == (3, 1, 2)
    assert activity(before[1]) == (3, 3, 1)
    assert people(before[2]) == (0, 0, 2)
    assert activity(before[2]) == (0, 1, 0)

    out = await console("as bob\n/ambassador forget")  # a member erases their data
    assert "Erased" in out
    out = await console("as carol\n/ambassador forget")  # already left: not a second leave
    assert "Erased" in out
    out = await console("as nobody\n/ambassador forget")  # unknown: nothing at all
    assert "Nothing is stored" in out

    after = await weekly(app, clock, 3)
    assert after[:2] == before[:2]  # past weeks identical, claims and drafts included
    assert people(after[2]) == (0, 1, 1)
    assert activity(after[2]) == (0, 1, 0)

    # Later weeks still count alice alone, and bob can come back as a new member.
    clock.advance(days=7)
    await join_only(console, "bob")
    later = await weekly(app, clock, 4)
    assert later[:3] == after
    assert people(later[3]) == (1, 0, 2)


def _row(out: str, week: date) -> list[str]:
    lines = [line.split() for line in out.splitlines() if line.strip().startswith(str(week))]
    assert len(lines) == 1, out
    return lines[0][1:]


async def test_chat_stats_hide_small_groups_of_people(app: Ambassador, clock: FixedClock) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    for user in ("u1", "u2", "u3", "u4", "u5", "u6"):
        await join_and_claim(console, user)
    await console("as u1\n/ambassador shared 1\nas u2\n/ambassador shared 1")
    await leave(console, "u6")
    clock.advance(days=7)
    await join_only(console, "u7")

    (previous, current) = await weekly(app, clock, 2)
    assert people(previous) == (6, 1, 5)
    assert activity(previous) == (6, 6, 2)
    assert people(current) == (1, 0, 6)

    out = await console("as boss\n/ambassador stats 2")
    assert "Week of" in out
    # joins, leaves, ambassadors, claims, drafts, shares
    assert _row(out, date(2026, 11, 16)) == ["6", "<5", "5", "6", "6", "2", "0"]
    assert _row(out, date(2026, 11, 23)) == ["<5", "0", "6", "0", "0", "0", "0"]
    assert "u1" not in out
    assert "u7" not in out

    # Default: four weeks.
    out = await console("/ambassador stats")
    assert len([line for line in out.splitlines() if line.strip().startswith("2026-")]) == 4


async def test_chat_stats_are_for_admins_only(app: Ambassador, clock: FixedClock) -> None:
    console = Console(app)
    await publish(console, "https://example.com/a")
    await join_and_claim(console, "alice")
    refusal = "Only the programme admins can do that. Nothing was changed."
    for user in ("alice", "mgr", "stranger"):
        out = await console(f"as {user}\n/ambassador stats")
        assert out == f"── Ambassador · to you ({user}) ──\n{refusal}\n\n"
