"""The consent ledger: append-only, hash-chained, exportable, verifiable, erasable by pseudonym.

Each entry's hash covers its number, time, platform, *subject hash*, action, charter version,
statement and the previous hash. The subject hash is sha256(salt ‖ platform ‖ user) with a
per-person salt kept in `ledger_subject`. Erasure deletes the salt and replaces the visible
user by `erased-<first 12 hex of the subject hash>`: the chain is untouched (the name was
never hashed into it directly), the pseudonym stays the same across that person's entries,
and nobody can recover the name by hashing a list of user ids.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConsentEntry, LedgerHead, LedgerSubject

GENESIS = "0" * 64
ACTIONS = ("join", "leave", "charter_ack", "erase")
PSEUDONYM_PREFIX = "erased-"


def subject_hash(salt: str, platform: str, user: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{platform}\x1f{user}".encode()).hexdigest()


def pseudonym(subject: str) -> str:
    return PSEUDONYM_PREFIX + subject[:12]


def entry_hash(entry: ConsentEntry) -> str:
    """The canonical hash of an entry: everything but the visible user and the hash itself."""
    body = [
        entry.seq,
        entry.at.isoformat(timespec="microseconds"),
        entry.platform,
        entry.subject_hash,
        entry.action,
        entry.charter_version,
        entry.statement,
        entry.prev_hash,
    ]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


async def _subject(session: AsyncSession, platform: str, user: str) -> str:
    row = await session.get(LedgerSubject, (platform, user))
    if row is None:
        row = LedgerSubject(platform=platform, user_id=user, salt=secrets.token_hex(16))
        session.add(row)
        await session.flush()
    return subject_hash(row.salt, platform, user)


async def lock(session: AsyncSession) -> LedgerHead:
    """The head row, locked until this transaction ends (PostgreSQL; SQLite already
    serialises writers with BEGIN IMMEDIATE). Consent changes take it *before* reading
    membership, so two concurrent "I agree" clicks write one entry, not two."""
    result = await session.exec(
        select(LedgerHead)
        .where(LedgerHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = result.first()
    if head is None:  # the initial migration creates it; a missing row is tampering
        raise RuntimeError("the consent ledger's head row is missing")
    return head


async def append(
    session: AsyncSession,
    *,
    at: datetime,
    platform: str,
    user: str,
    action: str,
    charter_version: int | None,
    statement: str | None = None,
) -> ConsentEntry:
    """Write one entry at the end of the chain, in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown ledger action {action!r}")
    head = await lock(session)
    entry = ConsentEntry(
        seq=head.seq + 1,
        at=at,
        platform=platform,
        user=user,
        subject_hash=await _subject(session, platform, user),
        action=action,
        charter_version=charter_version,
        statement=statement,
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(head)
    await session.flush()
    return entry


async def erase(session: AsyncSession, *, at: datetime, platform: str, user: str) -> int:
    """Pseudonymise every entry of one person and append an `erase` entry; returns how many
    earlier entries were pseudonymised (0 and no entry when the ledger never knew them)."""
    subject_row = await session.get(LedgerSubject, (platform, user))
    if subject_row is None:
        return 0
    subject = subject_hash(subject_row.salt, platform, user)
    alias = pseudonym(subject)
    result = await session.exec(
        select(ConsentEntry).where(
            ConsentEntry.platform == platform, ConsentEntry.subject_hash == subject
        )
    )
    entries = list(result.all())
    for entry in entries:
        entry.user = alias
        session.add(entry)
    head = await lock(session)
    erase_entry = ConsentEntry(
        seq=head.seq + 1,
        at=at,
        platform=platform,
        user=alias,
        subject_hash=subject,
        action="erase",
        charter_version=None,
        statement=None,
        prev_hash=head.hash,
        hash="",
    )
    erase_entry.hash = entry_hash(erase_entry)
    session.add(erase_entry)
    head.seq, head.hash = erase_entry.seq, erase_entry.hash
    session.add(head)
    await session.delete(subject_row)
    await session.flush()
    return len(entries)


async def entries(session: AsyncSession) -> list[ConsentEntry]:
    result = await session.exec(select(ConsentEntry).order_by(col(ConsentEntry.seq)))
    return list(result.all())


async def entries_of(session: AsyncSession, *, platform: str, user: str) -> list[ConsentEntry]:
    """One person's own entries (for their data export)."""
    subject_row = await session.get(LedgerSubject, (platform, user))
    if subject_row is None:
        return []
    subject = subject_hash(subject_row.salt, platform, user)
    result = await session.exec(
        select(ConsentEntry)
        .where(ConsentEntry.platform == platform, ConsentEntry.subject_hash == subject)
        .order_by(col(ConsentEntry.seq))
    )
    return list(result.all())


def as_record(entry: ConsentEntry) -> dict[str, object]:
    """The export form of an entry (JSON and CSV share it)."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat().replace("+00:00", "Z"),
        "platform": entry.platform,
        "user": entry.user,
        "subject_hash": entry.subject_hash,
        "action": entry.action,
        "charter_version": entry.charter_version,
        "statement": entry.statement,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


@dataclass(frozen=True)
class Problem:
    """The first place the chain breaks: `seq` of the entry, and why (a catalog key)."""

    seq: int
    reason: str


async def verify(session: AsyncSession) -> tuple[int, Problem | None]:
    """Walk the chain; return the number of entries and the first problem, if any."""
    rows = await entries(session)
    salts = {
        (row.platform, row.user_id): row.salt
        for row in (await session.exec(select(LedgerSubject))).all()
    }
    expected_prev, expected_seq = GENESIS, 1
    for entry in rows:
        if entry.seq != expected_seq:
            return len(rows), Problem(expected_seq, "ledger.problem_missing")
        if entry.prev_hash != expected_prev:
            return len(rows), Problem(entry.seq, "ledger.problem_order")
        if entry_hash(entry) != entry.hash:
            return len(rows), Problem(entry.seq, "ledger.problem_edited")
        salt = salts.get((entry.platform, entry.user))
        owner_ok = (
            subject_hash(salt, entry.platform, entry.user) == entry.subject_hash
            if salt is not None
            else entry.user == pseudonym(entry.subject_hash)
        )
        if not owner_ok:
            return len(rows), Problem(entry.seq, "ledger.problem_user")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = await session.get(LedgerHead, 1)
    last_seq = rows[-1].seq if rows else 0
    if head is None or head.seq != last_seq or head.hash != expected_prev:
        return len(rows), Problem(last_seq + 1, "ledger.problem_missing")
    return len(rows), None
