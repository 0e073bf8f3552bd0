"""the content pipeline: previews, kinds, the review queue, feeds and the audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("url_key", sa.String(length=2048), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_poll_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("polled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=128), nullable=True),
        sa.Column("failing_since", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failure_told", sa.Boolean(), nullable=False),
        sa.Column("entries_taken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url_key"),
    )
    op.create_table(
        "feed_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=2100), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feed.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "key", name="uq_feed_entry_key"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    with op.batch_alter_table("content_item") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="article")
        )
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="approved")
        )
        batch.add_column(
            sa.Column("origin", sa.String(length=16), nullable=False, server_default="manager")
        )
        batch.add_column(sa.Column("image_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("site_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("feed_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("suggested_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("suggestion_note", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("reviewed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_content_item_feed", "feed", ["feed_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(
            "fk_content_item_suggested_by", "person", ["suggested_by"], ["id"], ondelete="SET NULL"
        )
    # the defaults only filled the rows already there; new rows get theirs from the models
    with op.batch_alter_table("content_item") as batch:
        batch.alter_column("kind", server_default=None)
        batch.alter_column("status", server_default=None)
        batch.alter_column("origin", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("content_item") as batch:
        batch.drop_constraint("fk_content_item_suggested_by", type_="foreignkey")
        batch.drop_constraint("fk_content_item_feed", type_="foreignkey")
        for column in (
            "review_note",
            "reviewed_at",
            "suggestion_note",
            "suggested_by",
            "feed_id",
            "language",
            "site_name",
            "image_url",
            "origin",
            "status",
            "kind",
        ):
            batch.drop_column(column)
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_table("feed_entry")
    op.drop_table("feed")
