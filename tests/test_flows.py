"""Whole journeys through the console, on SQLite and PostgreSQL: what a person sees, and
what is (and is not) stored afterwards."""

from __future__ import annotations

import json
import re

from sqlmodel import func, select

from bot.app import Ambassador
from bot.clock import FixedClock
from bot.drafting import x_length
from storage.models import ActivityEvent, Claim, ConsentEntry, ContentItem, Draft, Person
from tests.conftest import Console

SETUP = """
as mgr
/ambassador add https://example.com/launch Our product launch
/ambassador add https://example.com/jobs/42 We are hiring data engineers
/ambassador digest now
"""


async def count(app: Ambassador, model: type) -> int:
    async with app.database.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def _unquote(block: re.Match[str]) -> str:
    return " ".join(line[4:].strip() for line in block.group(1).splitlines()).strip()


def drafts_in(out: str) -> list[tuple[str, str]]:
    """(LinkedIn, X) texts of each draft message printed."""
    found = []
    for message in out.split("── Ambassador")[1:]:
        if "▸ LinkedIn" not in message:
            continue
        linkedin = re.search(r"▸ LinkedIn\n((?:  │.*\n?)+)", message)
        x = re.search(r"▸ X\n((?:  │.*\n?)+)", message)
        assert linkedin
        assert x
        found.append((_unquote(linkedin), _unquote(x)))
    return found


async def test_a_member_joins_claims_and_gets_disclosed_drafts(
    app: Ambassador, console: Console
) -> None:
    await console(SETUP)
    out = await console("as alice\n/ambassador claim 2")
    # not a member yet: the join prompt, not a draft
    assert "Taking part is voluntary and unpaid" in out
    assert "refusing or leaving has no consequence" in out
    assert "[1] I agree" in out
    assert await count(app, Claim) == 0
    assert await count(app, ConsentEntry) == 0

    out = await console("click I agree")
    assert "Welcome" in out
    assert "You claimed “Our product launch”" in out
    (linkedin, x), *_ = drafts_in(out)
    assert "https://example.com/launch" in linkedin
    assert "I work at ACME." in linkedin
    assert "https://example.com/launch" in x
    assert "I work at ACME." in x
    assert x_length(x) <= 280
    assert "Share on LinkedIn" in out
    assert "Post on X" in out
    assert "Write it myself" in out
    # the draft message ends with the charter reminder
    (draft_message,) = [m for m in out.split("── Ambassador") if "▸ LinkedIn" in m]
    assert draft_message.rstrip().splitlines()[-1].lstrip(" ·").startswith("Charter:")
    assert await count(app, Claim) == 1
    assert await count(app, Draft) == 1
    assert await count(app, ConsentEntry) == 1


async def test_a_second_claim_is_harmless(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    again = await console("/ambassador claim 1")
    assert "You had already claimed" in again
    await console("react one")
    assert await count(app, Claim) == 1
    assert await count(app, Draft) == 1
    async with app.database.transaction() as session:
        kinds = (await session.exec(select(ActivityEvent.kind))).all()
    assert sorted(kinds) == ["claim", "draft"]


async def test_claim_paths_button_number_and_reaction(app: Ambassador, console: Console) -> None:
    await console(SETUP)
    for name in ("ann", "ben", "cat"):
        await console(f"as {name}\n/ambassador join\nclick I agree")
    await console("as ann\n/ambassador claim 1")
    await console("as ben\nreact two")
    await console("as cat\nclick Claim 1")
    async with app.database.transaction() as session:
        claims = (await session.exec(select(Claim.item_id, Person.user_id).join(Person))).all()
    item_of = {user: item for item, user in claims}
    assert item_of["ann"] == item_of["cat"]
    assert item_of["ben"] != item_of["ann"]


async def test_different_people_get_different_drafts(app: Ambassador, console: Console) -> None:
    await console(SETUP)
    texts: list[tuple[str, str]] = []
    for n in range(12):
        out = await console(f"as m{n}\n/ambassador join\nclick I agree\n/ambassador claim 1")
        texts.extend(drafts_in(out))
    assert len(texts) == 12
    assert len({linkedin for linkedin, _ in texts}) == 12
    assert len({x for _, x in texts}) == 12


async def test_revisions_keep_every_version(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    shorter = await console("reply shorter")
    french = await console("reply en français")
    team = await console("reply mention my team Data Platform")
    assert "(version 2)" in shorter
    ((linkedin_fr, x_fr),) = drafts_in(french)
    assert "Je travaille chez ACME." in linkedin_fr
    assert "Je travaille chez ACME." in x_fr
    ((linkedin_team, _),) = drafts_in(team)
    assert "Data Platform" in linkedin_team
    assert "Je travaille chez ACME." in linkedin_team  # French stays: instructions build up
    async with app.database.transaction() as session:
        versions = (await session.exec(select(Draft.version, Draft.instruction))).all()
    assert sorted(versions) == [
        (1, None),
        (2, "shorter"),
        (3, "en français"),
        (4, "mention my team Data Platform"),
    ]
    new = await console("click New version")
    assert "(version 5)" in new


async def test_claim_with_an_instruction_shapes_the_first_draft(
    app: Ambassador, console: Console
) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree")
    out = await console("/ambassador claim 1 en français, mention my team Data")
    ((linkedin, _),) = drafts_in(out)
    assert "Je travaille chez ACME." in linkedin
    assert "Data" in linkedin
    out = await console("reply shorter")
    ((shorter, _),) = drafts_in(out)
    assert "Je travaille chez ACME." in shorter  # earlier instructions still hold
    async with app.database.transaction() as session:
        versions = (await session.exec(select(Draft.version, Draft.instruction))).all()
    assert sorted(versions) == [(1, "en français, mention my team Data"), (2, "shorter")]
    out = await console("/ambassador claim 1 longer")  # claimed already: the wish still counts
    assert "(version 3)" in out
    out = await console("/ambassador claim 2 answer the journalists who criticised us")
    assert "comms team" in out
    assert await count(app, Claim) == 1


async def test_no_drafts_for_critics_or_unions(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    out = await console("reply make it a reply to the union about the strike")
    assert "comms team" in out
    assert await count(app, Draft) == 1


async def test_write_it_myself_and_i_shared_it(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    out = await console("click Write it myself")
    assert "keep the disclosure" in out
    assert "I work at ACME." in out
    out = await console("click I shared it")
    assert "no reward" in out
    out = await console("/ambassador shared 1")
    assert "Already noted" in out
    async with app.database.transaction() as session:
        claim = (await session.exec(select(Claim))).one()
        shares = (
            await session.exec(select(func.count()).where(ActivityEvent.kind == "share"))
        ).one()
    assert claim.self_written
    assert claim.shared_at is not None
    assert shares == 1


async def test_a_new_charter_is_acknowledged_before_the_next_claim(
    app: Ambassador, console: Console
) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree")
    out = await console("as alice\n/ambassador claim 1")
    assert "You claimed" in out
    await console("as mgr\n/ambassador charter set Version two: be kind, say you work here.")
    out = await console("as alice\n/ambassador claim 2")
    assert "The charter has changed (version 2)" in out
    assert "be kind" in out
    assert await count(app, Claim) == 1
    out = await console("click I have read it")
    assert "charter version 2 acknowledged" in out
    assert "You claimed" in out  # the claim completes without asking again
    assert await count(app, Claim) == 2
    async with app.database.transaction() as session:
        actions = (await session.exec(select(ConsentEntry.action))).all()
    assert actions == ["join", "charter_ack"]


async def test_leave_is_immediate_and_recorded(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree")
    out = await console("/ambassador leave")
    assert "You have left the programme" in out
    out = await console("/ambassador claim 1")
    assert "Join the ambassador programme" in out
    assert await count(app, Claim) == 0
    out = await console("/ambassador leave")
    assert "not an ambassador" in out
    async with app.database.transaction() as session:
        actions = (await session.exec(select(ConsentEntry.action))).all()
    assert actions == ["join", "leave"]


async def test_declining_records_nothing(app: Ambassador, console: Console) -> None:
    out = await console("as alice\n/ambassador join\nclick Not now")
    assert "nothing was recorded" in out
    assert await count(app, Person) == 0
    assert await count(app, ConsentEntry) == 0


async def test_digest_shows_live_items_only(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    await console(
        """
        as mgr
        /ambassador add https://example.com/a Alpha
        /ambassador add https://example.com/b Bravo
        /ambassador add https://example.com/c Charlie
        /ambassador expire 2 2026-11-20
        /ambassador remove 3
        """
    )
    out = await console("/ambassador digest now")
    assert "Alpha" in out
    assert "Bravo" in out
    assert "Charlie" not in out
    assert "voluntary and unpaid" in out
    assert "Join" in out
    assert "Charter" in out
    clock.advance(days=5)  # Bravo expires on the 20th, end of day in Paris
    out = await console("/ambassador digest now")
    assert "Bravo" not in out
    assert "Claim 1" in out
    assert "Claim 2" not in out


async def test_digest_size_is_respected(make_app: object, clock: FixedClock) -> None:
    app = make_app(AMBASSADOR_DIGEST_SIZE="3")  # type: ignore[operator]
    console = Console(app)
    for n in range(6):
        await console(f"as mgr\n/ambassador add https://example.com/{n} Item {n}")
        clock.advance(minutes=1)
    out = await console("/ambassador digest now")
    assert out.count("Claim ") == 3
    assert "Item 5" in out  # newest first
    assert "Item 2" not in out


async def test_preview_sends_nothing(app: Ambassador, console: Console) -> None:
    await console("as mgr\n/ambassador add https://example.com/a Alpha")
    out = await console("/ambassador digest preview")
    assert "Preview" in out
    assert "in the digest channel" not in out
    out = await console("as alice\n/ambassador claim 1")
    assert "no digest yet" in out


async def test_pause_stops_digest_and_drafting(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    out = await console("as mgr\n/ambassador pause")
    assert "paused" in out
    out = await console("/ambassador digest now")
    assert "paused" in out
    out = await console("as alice\n/ambassador claim 2\nreply shorter")
    assert out.count("paused") == 2
    out = await console("/ambassador leave")  # leaving always works
    assert "You have left" in out
    assert await count(app, Claim) == 1
    assert await count(app, Draft) == 1
    await console("as mgr\n/ambassador resume")
    out = await console("/ambassador digest now")
    assert "Digest sent" in out


async def test_roles_are_checked_and_nothing_changes(app: Ambassador, console: Console) -> None:
    out = await console(
        """
        as alice
        /ambassador add https://example.com/x Sneaky
        /ambassador pause
        /ambassador stats
        /ambassador role add alice admin
        /ambassador charter set Do as I say
        """
    )
    assert out.count("Only the comms managers") == 3
    assert out.count("Only the programme admins") == 2
    assert await count(app, ContentItem) == 0
    out = await console("as boss\n/ambassador role add alice manager")
    assert "alice is now a manager" in out
    out = await console("as alice\n/ambassador add https://example.com/x Allowed now")
    assert "Added item #1" in out
    out = await console("as boss\n/ambassador role remove alice manager\n/ambassador roles")
    assert "alice is no longer a manager" in out
    assert "Managers: mgr" in out
    out = await console("/ambassador role remove boss admin")
    assert "through the bot's settings" in out


async def test_bad_input_is_refused_and_nothing_is_stored(
    app: Ambassador, console: Console
) -> None:
    long_title = "T" * 301
    out = await console(
        f"""
        as mgr
        /ambassador frobnicate
        /ambassador add
        /ambassador add ftp://example.com/file
        /ambassador add not-a-url
        /ambassador add https://example.com/{"x" * 2100}
        /ambassador add https://example.com/ok {long_title}
        /ambassador remove 99
        /ambassador remove abc
        /ambassador expire 1 yesterday
        /ambassador claim 1
        """
    )
    assert "I don't know the command “frobnicate”" in out
    assert "`join`" in out  # the short help follows
    assert "Give the URL" in out
    assert "Only http and https" in out
    assert "is not a web address" in out
    assert "That URL is too long" in out
    assert "The title is 301 characters long" in out
    assert "There is no item #99" in out
    assert "“abc” is not a valid number" in out
    assert "Traceback" not in out
    assert await count(app, ContentItem) == 0
    await console("/ambassador add https://Example.com/ok#top First")
    out = await console("/ambassador add https://example.com/ok Again")
    assert "already item #1 (First)" in out
    assert await count(app, ContentItem) == 1


async def test_mydata_and_forget(app: Ambassador, console: Console) -> None:
    await console(SETUP + "as alice\n/ambassador join\nclick I agree\n/ambassador claim 1")
    await console("reply shorter")
    await console("as bob\n/ambassador join\nclick I agree\n/ambassador claim 1")
    out = await console("as alice\n/ambassador mydata")
    document = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert document["user"] == "alice"
    assert document["profile"]["member"] is True
    assert len(document["claims"]) == 1
    assert [d["version"] for d in document["claims"][0]["drafts"]] == [1, 2]
    assert [e["action"] for e in document["consent_ledger"]] == ["join"]
    assert "bob" not in out

    out = await console("/ambassador forget")
    assert "your claims (1) and drafts (2)" in out
    out = await console("/ambassador mydata")
    document = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert document["profile"] is None
    assert document["claims"] == []
    assert document["consent_ledger"] == []
    async with app.database.transaction() as session:
        users = (await session.exec(select(Person.user_id))).all()
    assert users == ["bob"]
    assert await count(app, Claim) == 1  # bob's
    out = await console("/ambassador forget")
    assert "Nothing is stored about you" in out


async def test_french_member_gets_french_everything(app: Ambassador, console: Console) -> None:
    await console(SETUP)
    out = await console("as marie fr\n/ambassador claim 1\nclick J'accepte")
    assert "Participer est volontaire et non rémunéré" in out  # the prompt, in French
    assert "Vous avez choisi" in out
    ((linkedin, x),) = drafts_in(out)
    assert "Je travaille chez ACME." in linkedin
    assert "Je travaille chez ACME." in x
    out = await console("/ambassador frobnicate")
    assert "Je ne connais pas la commande" in out


async def test_stats_in_chat_are_aggregates(app: Ambassador, console: Console) -> None:
    await console(SETUP)
    for n in range(6):
        await console(f"as p{n}\n/ambassador join\nclick I agree\n/ambassador claim 1")
    await console("as p0\n/ambassador leave")
    out = await console("as boss\n/ambassador stats 2")
    assert "Ambassadors" in out
    this_week = [line for line in out.splitlines() if line.strip().startswith("2026-11-16")]
    assert len(this_week) == 1
    cells = this_week[0].split()
    # joins 6, leaves 1 (<5), ambassadors 5, claims 6, drafts 6, shares 0, model tokens 0
    assert cells[1:] == ["6", "<5", "5", "6", "6", "0", "0"]
    assert "p1" not in out


async def test_charter_check_of_pasted_text(app: Ambassador, console: Console) -> None:
    await console("as mgr\n/ambassador add https://example.com/solar Our roofs power 2,000 homes")
    out = await console(
        "as alice\n/ambassador check So proud: 2 000 homes! "
        "Confidential: 3,000 next year, and a bonus for me"
    )
    assert "Charter check" in out
    assert "Looks confidential" in out
    assert "“3,000”" in out  # a figure the article does not give
    assert "2 000" not in out.split("Charter check")[1]  # the article's own figure is fine
    assert "Sounds like pay or a reward" in out
    out = await console("/ambassador check Proud of my team's work on this, happy to share it.")
    assert "Nothing in it goes against the charter." in out
    out = await console("as marie fr\n/ambassador check Je suis rémunéré pour ce post")
    assert "rémunér" in out
    assert "Vérification de la charte" in out


async def test_bot_drafts_pass_their_own_charter_check(app: Ambassador, console: Console) -> None:
    await console(SETUP)
    for n in range(6):
        out = await console(f"as m{n}\n/ambassador join\nclick I agree\n/ambassador claim 1")
        assert "⚠️" not in out
