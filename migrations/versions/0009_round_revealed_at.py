"""rounds.revealed_at: a reveal that failed to post is posted again

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True))
    # rounds closed before this column existed count as revealed: never post them again
    op.execute("UPDATE rounds SET revealed_at = closed_at WHERE closed_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("revealed_at")
