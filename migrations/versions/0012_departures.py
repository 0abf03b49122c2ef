"""departures: workspaces the bot left, purged after the retention period

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departures",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("departed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace_id", name=op.f("pk_departures")),
    )


def downgrade() -> None:
    op.drop_table("departures")
