"""heartbeats: one row per running process, for `quizbot health`

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_heartbeats")),
    )
    op.create_index(op.f("ix_heartbeats_host"), "heartbeats", ["host"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_heartbeats_host"), table_name="heartbeats")
    op.drop_table("heartbeats")
