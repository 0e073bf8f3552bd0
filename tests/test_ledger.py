"""The consent ledger: append-only, hash-chained, tamper-evident, erasable by pseudonym."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.app import Ambassador
from bot.clock import FixedClock
from bot.services import ledger
from tests.conftest import Console


async def _entries(app: Ambassador) -> list[dict[str, object]]:
    async with app.database.transaction() as session:
        return [ledger.as_record(entry) for entry in await ledger.entries(session)]


async def _verify(app: Ambassador) -> ledger.Problem | None:
    async with app.database.transaction() as session:
        _count, problem = await ledger.verify(session)
    return problem


async def _seed(console: Console, clock: FixedClock) -> None:
    """Five entries: alice joins, bob joins, a new charter, alice acknowledges, bob leaves."""
    for line in (
        "as alice",
        "/ambassador join",
        "click I agree",
        "as bob",
        "/ambassador join",
        "click I agree",
        "as mgr",
        "/ambassador charter set Be kind. Say you work here.",
        "as alice",
        "/ambassador charter",
        "click I have read it",
        "as bob",
        "/ambassador leave",
    ):
        clock.advance(seconds=30)
        await console(line)


async def test_every_consent_is_a_chained_entry(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    await _seed(console, clock)
    entries = await _entries(app)
    assert [(e["user"], e["action"]) for e in entries] == [
        ("alice", "join"),
        ("bob", "join"),
        ("alice", "charter_ack"),
        ("bob", "leave"),
    ]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev_hash"] == ledger.GENESIS
    for before, after in itertools.pairwise(entries):
        assert after["prev_hash"] == before["hash"]
    join = entries[0]
    assert join["charter_version"] == 1
    assert "voluntary and unpaid" in str(join["statement"])
    assert entries[2]["charter_version"] == 2
    assert str(join["at"]).endswith("Z")
    assert await _verify(app) is None


async def _tamper(app: Ambassador, sql: str) -> None:
    async with app.database.transaction() as session:
        await session.exec(text(sql))  # type: ignore[call-overload]


TAMPERING = [
    ("an edited action", "UPDATE consent_entry SET action = 'join' WHERE seq = 4", 4, "edited"),
    (
        "an edited statement",
        "UPDATE consent_entry SET statement = 'You will be paid' WHERE seq = 2",
        2,
        "edited",
    ),
    ("a changed user", "UPDATE consent_entry SET \"user\" = 'mallory' WHERE seq = 1", 1, "user"),
    ("a deleted entry", "DELETE FROM consent_entry WHERE seq = 2", 2, "missing"),
    ("the newest entry deleted", "DELETE FROM consent_entry WHERE seq = 4", 4, "missing"),
    ("the head row deleted", "DELETE FROM ledger_head", 5, "missing"),
]


@pytest.mark.parametrize(
    ("sql", "seq", "reason"),
    [pytest.param(sql, seq, reason, id=name) for name, sql, seq, reason in TAMPERING],
)
async def test_tampering_names_the_first_bad_entry(
    app: Ambassador, console: Console, clock: FixedClock, sql: str, seq: int, reason: str
) -> None:
    await _seed(console, clock)
    await _tamper(app, sql)
    assert await _verify(app) == ledger.Problem(seq, f"ledger.problem_{reason}")


async def test_reordered_entries_are_named(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    await _seed(console, clock)
    # swap the contents of entries 2 and 3 (their numbers stay in place)
    await _tamper(app, "UPDATE consent_entry SET seq = 99 WHERE seq = 2")
    await _tamper(app, "UPDATE consent_entry SET seq = 2 WHERE seq = 3")
    await _tamper(app, "UPDATE consent_entry SET seq = 3 WHERE seq = 99")
    problem = await _verify(app)
    assert problem is not None
    assert problem.seq == 2


async def test_erasure_pseudonymises_and_keeps_the_chain(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    await _seed(console, clock)
    before = await _entries(app)
    clock.advance(days=1)
    out = await console("as alice\n/ambassador forget")
    assert "Erased" in out
    after = await _entries(app)
    assert await _verify(app) is None
    assert len(after) == len(before) + 1
    alice = [e for e in after if e["subject_hash"] == before[0]["subject_hash"]]
    assert [e["action"] for e in alice] == ["join", "charter_ack", "erase"]
    pseudonyms = {e["user"] for e in alice}
    assert len(pseudonyms) == 1
    (alias,) = pseudonyms
    assert str(alias).startswith("erased-")
    assert "alice" not in str(after)
    # nothing else moved: hashes of the earlier entries are unchanged
    assert [e["hash"] for e in after[:-1]] == [e["hash"] for e in before]
    # bob's entries keep his name
    assert [e["user"] for e in after if e["action"] == "leave"] == ["bob"]


async def test_rejoining_after_erasure_is_a_new_subject(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    await console("as carol\n/ambassador join\nclick I agree")
    clock.advance(hours=1)
    await console("/ambassador forget")
    clock.advance(hours=1)
    await console("/ambassador join\nclick I agree")
    entries = await _entries(app)
    assert [e["action"] for e in entries] == ["join", "erase", "join"]
    assert entries[0]["subject_hash"] != entries[2]["subject_hash"]
    assert entries[2]["user"] == "carol"
    assert await _verify(app) is None


async def test_ledger_entries_keep_utc_times(
    app: Ambassador, console: Console, clock: FixedClock
) -> None:
    clock.advance(days=3, hours=5, microseconds=123456)
    await console("as dan\n/ambassador join\nclick I agree")
    (entry,) = await _entries(app)
    expected = (clock.now()).isoformat().replace("+00:00", "Z")
    assert entry["at"] == expected
    assert clock.now() - timedelta(seconds=1) < clock.now()
