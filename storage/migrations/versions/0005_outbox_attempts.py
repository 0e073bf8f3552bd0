"""outbox rows know which process holds them and since when a send may have gone out

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("owner", sa.String(length=32), nullable=True))
    op.add_column(
        "outbox",
        sa.Column("sending_since", storage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("outbox", "sending_since")
    op.drop_column("outbox", "owner")
