"""job runs, and when charter reminders last went to each person

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("job", "scheduled_at"),
    )
    for column in ("ack_reminded_at", "reminded_at"):
        op.add_column(
            "person",
            sa.Column(column, storage.types.UTCDateTime(timezone=True), nullable=True),
        )


def downgrade() -> None:
    for column in ("reminded_at", "ack_reminded_at"):
        op.drop_column("person", column)
    op.drop_table("job_run")
