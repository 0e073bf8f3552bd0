"""The tables. Times are UTC and timezone-aware; nothing here knows a chat platform's payloads.

Privacy by construction: a person has a row only once they join; statistics count anonymous
`ActivityEvent`s so that erasing someone never rewrites history; the consent ledger keeps a
salted hash of who acted, so erasure can replace the name without breaking the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Person(SQLModel, table=True):
    """Someone who joined the programme (or joined and left). Erased by `forget`."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_person_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=128)
    language: str | None = Field(default=None, max_length=8)
    member: bool = False
    joined_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    charter_version: int | None = None  # the last version they acknowledged
    created_at: datetime = Field(sa_column=_utc())
    # when the scheduled charter reminders last wrote to them (never more than they need)
    ack_reminded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class RoleGrant(SQLModel, table=True):
    """A manager or admin role given in chat (roles from settings are not stored)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("platform", "user_id", "role", name="uq_role_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=128)
    role: str = Field(max_length=16)
    granted_at: datetime = Field(sa_column=_utc())


class ContentItem(SQLModel, table=True):
    """Shareable company content. `url_key` is the URL while the item is live, NULL once
    removed, so the database itself refuses two live items with one URL."""

    __tablename__ = "content_item"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    url_key: str | None = Field(default=None, max_length=2048, unique=True)
    title: str = Field(max_length=300)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(sa_column=_utc())
    removed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # what it is (bot/kinds.py) and where it stands: only `approved` items reach a digest
    kind: str = Field(default="article", max_length=16)
    status: str = Field(default="approved", max_length=16)  # pending | approved | rejected
    origin: str = Field(default="manager", max_length=16)  # manager | feed | suggestion
    # the page's own preview (Open Graph, Twitter card, <title>, <html lang>)
    image_url: str | None = Field(default=None, max_length=2048)
    site_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)
    feed_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("feed.id", ondelete="SET NULL"), nullable=True),
    )
    # a member's suggestion: who (erased with them) and why, in their words
    suggested_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="SET NULL"), nullable=True),
    )
    suggestion_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reviewed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    review_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Feed(SQLModel, table=True):
    """An RSS or Atom feed polled for new content. `url_key` is the URL while the feed is
    followed, NULL once removed. `next_poll_at` is claimed by an atomic update, so each
    feed is polled by one replica per interval; `etag` / `last_modified` make the poll a
    conditional request. A failure is told to managers once (`failure_told`), not hourly."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    url_key: str | None = Field(default=None, max_length=2048, unique=True)
    title: str | None = Field(default=None, max_length=300)
    trusted: bool = False
    created_at: datetime = Field(sa_column=_utc())
    removed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    next_poll_at: datetime = Field(sa_column=_utc())
    polled_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    failing_since: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    failure_told: bool = False
    entries_taken: int = 0


class FeedEntry(SQLModel, table=True):
    """An entry a feed showed once, by its id and by its link: never taken twice, even
    after its item was rejected or removed."""

    __tablename__ = "feed_entry"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_feed_entry_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feed.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(max_length=2100)  # "id:…" or "link:…"
    seen_at: datetime = Field(sa_column=_utc())


class AuditEvent(SQLModel, table=True):
    """Every manager action on content and feeds, append-only, for `ambassador audit
    export`. `actor` is `platform:user_id` (a pseudonym once that person is erased)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=160)
    action: str = Field(max_length=32)  # add, approve, reject, edit, remove, expire, feed_add…
    subject: str = Field(max_length=64)  # "content:12", "feed:3"
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON


class CharterVersion(SQLModel, table=True):
    __tablename__ = "charter_version"

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_utc())


class Digest(SQLModel, table=True):
    """A digest as posted; `claim N` and keycap reactions resolve against its entries."""

    __tablename__ = "digest"
    __table_args__ = (Index("ix_digest_platform_created", "platform", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    channel: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(sa_column=_utc())


class DigestEntry(SQLModel, table=True):
    __tablename__ = "digest_entry"

    digest_id: int = Field(
        sa_column=Column(Integer, ForeignKey("digest.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    item_id: int = Field(foreign_key="content_item.id")


class Claim(SQLModel, table=True):
    """One person's claim of one item: at most one, whatever the retries."""

    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("item_id", "person_id", name="uq_claim_item_person"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="content_item.id", index=True)
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = Field(sa_column=_utc())
    shared_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    self_written: bool = False


class Draft(SQLModel, table=True):
    """Every version of a claim's drafts is kept; the newest is the one shown."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("claim_id", "version", name="uq_draft_version"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False)
    )
    version: int
    language: str = Field(max_length=8)
    linkedin: str = Field(sa_column=Column(Text, nullable=False))
    x: str = Field(sa_column=Column(Text, nullable=False))
    variant: str = Field(max_length=64)
    instruction: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_utc())


class ConsentEntry(SQLModel, table=True):
    """The append-only, hash-chained consent ledger (join, leave, charter_ack, erase)."""

    __tablename__ = "consent_entry"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=_utc())
    platform: str = Field(max_length=16)
    user: str = Field(max_length=128)
    subject_hash: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)
    charter_version: int | None = None
    statement: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class LedgerSubject(SQLModel, table=True):
    """The salt behind a person's `subject_hash`; deleted on erasure, so the pseudonym
    cannot be turned back into a name by hashing a list of user ids."""

    __tablename__ = "ledger_subject"

    platform: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=128)
    salt: str = Field(max_length=64)


class LedgerHead(SQLModel, table=True):
    """The last entry's number and hash: makes deleting the newest entries evident, and
    serialises appends (its row is locked while one is written)."""

    __tablename__ = "ledger_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class ActivityEvent(SQLModel, table=True):
    """An anonymous count for the weekly figures: a claim, a draft or a self-reported share."""

    __tablename__ = "activity_event"
    __table_args__ = (Index("ix_activity_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    at: datetime = Field(sa_column=_utc())


class ProgrammeState(SQLModel, table=True):
    """Small programme-wide settings changed from chat (paused, digest channel…)."""

    __tablename__ = "programme_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class InboundSeen(SQLModel, table=True):
    """Deliveries already handled: a platform event id (kept), or a button press identity
    (seen again within a few seconds = a double click). Persisted so retries that reach
    another replica, or arrive after a restart, are still recognised."""

    __tablename__ = "inbound_seen"

    key: str = Field(primary_key=True, max_length=255)
    seen_at: datetime = Field(sa_column=_utc())


class PlatformMessage(SQLModel, table=True):
    """A message the bot posted and what it is about (a digest, a claim's drafts), so that
    reactions to it and replies in its thread find their way back to the core."""

    __tablename__ = "platform_message"
    __table_args__ = (Index("ix_platform_message_anchor", "anchor_kind", "anchor_id"),)

    platform: str = Field(primary_key=True, max_length=16)
    channel: str = Field(primary_key=True, max_length=128)
    ts: str = Field(primary_key=True, max_length=64)
    anchor_kind: str = Field(max_length=16)
    anchor_id: int
    created_at: datetime = Field(sa_column=_utc())


class Outbox(SQLModel, table=True):
    """A delivery the platform did not accept yet: retried with backoff, then marked failed
    (and visible to admins) — never silently dropped."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # "channel" | "direct"
    target: str = Field(max_length=128)  # channel id, or user id for a direct message
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    anchor_kind: str | None = Field(default=None, max_length=16)
    anchor_id: int | None = None
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc())
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_utc())
    owner: str | None = Field(default=None, max_length=32)  # the process that leased it
    # Set when a send starts, cleared when it is settled: a row that has it may have reached
    # the platform already (a crash, a timeout after Slack accepted), so it is checked first.
    sending_since: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Conversation(SQLModel, table=True):
    """Where the bot may speak without being spoken to first (Teams' proactive messages):
    a conversation reference, kept from the last activity the bot received there. A
    person's own chat with the bot names them (`user_id`), so `forget` erases it."""

    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_user", "platform", "user_id"),)

    platform: str = Field(primary_key=True, max_length=16)
    conversation_id: str = Field(primary_key=True, max_length=256)
    kind: str = Field(max_length=16)  # personal | channel | groupChat
    user_id: str | None = Field(default=None, max_length=128)  # a personal chat's person
    tenant_id: str | None = Field(default=None, max_length=64)
    service_url: str = Field(max_length=512)
    reference: str = Field(sa_column=Column(Text, nullable=False))  # JSON, as the SDK has it
    updated_at: datetime = Field(sa_column=_utc())


class ModelCall(SQLModel, table=True):
    """One call to the drafting model, for the cost figures: when, which model, how it
    ended and the tokens it cost. Anonymous: no person, claim or text."""

    __tablename__ = "model_call"
    __table_args__ = (Index("ix_model_call_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    model: str = Field(max_length=128)
    outcome: str = Field(max_length=16)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class JobRun(SQLModel, table=True):
    """One occurrence of a scheduled job, claimed before it does anything: the primary key
    is the job and its scheduled instant, so a second replica, or the same one after a
    restart, finds it taken and does nothing. `outcome` says what it did (sent, empty,
    paused, missed)."""

    __tablename__ = "job_run"

    job: str = Field(primary_key=True, max_length=32)
    scheduled_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    claimed_at: datetime = Field(sa_column=_utc())
    outcome: str = Field(default="running", max_length=16)
    detail: str | None = Field(default=None, max_length=200)
