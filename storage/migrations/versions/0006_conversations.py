"""conversation references, for messages the bot sends first (Teams)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "conversation_id"),
    )
    op.create_index("ix_conversation_user", "conversation", ["platform", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_user", table_name="conversation")
    op.drop_table("conversation")
