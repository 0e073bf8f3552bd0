"""A whole day in a Slack workspace, over the wire, on both databases."""

from __future__ import annotations

from sqlmodel import func, select

from bot.services import stats
from storage.models import Claim, Draft, Person
from tests.fakes.slack import Call, button
from tests.slack_world import ADMIN, CHANNEL, MANAGER, SlackWorld
from tests.test_slack_wire import _digest_ts, _reaction, dm, text_of


async def test_a_day_in_slack(world: SlackWorld) -> None:
    w = world
    for n, title in enumerate(("Solar roofs", "Hiring data engineers", "Open day in Lyon"), 1):
        await w.slack.command(MANAGER, f"add https://example.com/{n} {title}")
        await w.fake.wait_for("respond", lambda c, n=n: f"Added item #{n}" in text_of(c))
    await w.slack.command(MANAGER, "digest now")
    await w.fake.wait_for("respond", lambda c: "Digest sent" in text_of(c))
    (digest,) = w.fake.of("chat.postMessage")
    digest_ts = await _digest_ts(w)

    members = [f"UM{n:02d}" for n in range(20)]
    for index, user in enumerate(members):
        item = index % 3 + 1
        path = index % 3
        if path == 0:  # the Claim button
            shown = len(_prompts(w))
            await w.slack.click(user, button(digest, f"Claim {item}"), message_ts=digest_ts)
            prompt = (await w.fake.wait_for("respond", _is_prompt, count=shown + 1))[-1]
        elif path == 1:  # a keycap reaction
            keycap = ("one", "two", "three")[item - 1]
            await w.slack.event(_reaction(user, keycap, digest_ts))
            prompt = await _ephemeral_prompt(w, user)
        else:  # "@Ambassador N" in the digest's thread
            await w.slack.event(
                {
                    "type": "app_mention",
                    "user": user,
                    "text": f"<@UBOT> {item}",
                    "channel": CHANNEL,
                    "ts": f"9.{index}",
                    "thread_ts": digest_ts,
                    "event_ts": f"9.{index}",
                }
            )
            prompt = await _ephemeral_prompt(w, user)
        await w.slack.click(user, button(prompt, "I agree"))
        await w.fake.wait_for(
            "chat.postMessage", lambda c, user=user: c.params["channel"] == "D" + user
        )

    reviser = members[4]
    await w.slack.event(dm(reviser, "shorter", "10.1"))
    await w.fake.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "D" + reviser, count=2
    )

    async with w.db.transaction() as session:
        claims = int((await session.exec(select(func.count()).select_from(Claim))).one())
        drafts = int((await session.exec(select(func.count()).select_from(Draft))).one())
        people = int((await session.exec(select(func.count()).select_from(Person))).one())
        (week,) = await stats.weekly(session, weeks=1, now=w.clock.now(), tz=w.bot.core.settings.tz)
    assert (claims, drafts, people) == (20, 21, 20)
    assert (week.joins, week.leaves, week.ambassadors) == (20, 0, 20)
    assert (week.claims, week.drafts, week.shares) == (20, 21, 0)

    await w.slack.command(ADMIN, "stats 1")
    (table,) = await w.fake.wait_for("respond", lambda c: "Programme figures" in text_of(c))
    code = "".join(
        block["text"]["text"] for block in table.params["blocks"] if block["type"] == "section"
    )
    row = next(line for line in code.splitlines() if line.startswith("2026-11-16"))
    assert row.replace("`", "").split() == ["2026-11-16", "20", "0", "20", "20", "21", "0", "0"]
    # every member got exactly one draft message, the reviser two
    for user in members:
        dms = [c for c in w.fake.of("chat.postMessage") if c.params["channel"] == "D" + user]
        assert len(dms) == (2 if user == reviser else 1)


def _is_prompt(call: Call) -> bool:
    return "I agree" in text_of(call)


def _prompts(w: SlackWorld) -> list[Call]:
    return [c for c in w.fake.of("respond") if _is_prompt(c)]


async def _ephemeral_prompt(w: SlackWorld, user: str) -> Call:
    """The join prompt shown to `user` in the channel (after a reaction or a mention)."""
    (prompt,) = await w.fake.wait_for(
        "chat.postEphemeral", lambda c: c.params.get("user") == user and _is_prompt(c)
    )
    return prompt
