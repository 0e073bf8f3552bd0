"""Double clicks and retries arrive at the same time: each effect still happens once."""

from __future__ import annotations

import asyncio

from sqlmodel import func, select

from bot.app import Ambassador
from bot.commands import Actor, Command, Via, parse
from storage.models import Claim, ConsentEntry, Draft, Person

ALICE = Actor("console", "alice")


async def _count(app: Ambassador, model: type) -> int:
    async with app.database.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def _setup(app: Ambassador) -> None:
    manager = Actor("console", "mgr")
    await app.handle(parse(manager, "add https://example.com/a Alpha"))
    await app.handle(parse(manager, "digest now"))


async def test_simultaneous_agree_clicks_join_once(app: Ambassador) -> None:
    await _setup(app)
    agree = Command(ALICE, "agree", ("1", ""), via=Via.BUTTON)
    replies = await asyncio.gather(*(app.handle(agree) for _ in range(8)))
    texts = [m.text for r in replies for m in r.messages]
    assert sum("Welcome" in t for t in texts) == 1
    assert await _count(app, ConsentEntry) == 1
    assert await _count(app, Person) == 1


async def test_simultaneous_claims_store_one_claim_and_one_draft(app: Ambassador) -> None:
    await _setup(app)
    await app.handle(Command(ALICE, "agree", ("1", ""), via=Via.BUTTON))
    replies = await asyncio.gather(*(app.handle(parse(ALICE, "claim 1")) for _ in range(8)))
    texts = [m.text for r in replies for m in r.messages]
    assert sum(t.startswith("You claimed") for t in texts) == 1
    assert sum(t.startswith("You had already claimed") for t in texts) == 7
    assert await _count(app, Claim) == 1
    assert await _count(app, Draft) == 1


async def test_simultaneous_leave_writes_one_entry(app: Ambassador) -> None:
    await _setup(app)
    await app.handle(Command(ALICE, "agree", ("1", ""), via=Via.BUTTON))
    await asyncio.gather(*(app.handle(parse(ALICE, "leave")) for _ in range(6)))
    async with app.database.transaction() as session:
        actions = (await session.exec(select(ConsentEntry.action))).all()
    assert sorted(actions) == ["join", "leave"]
