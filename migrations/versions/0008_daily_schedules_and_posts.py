"""daily schedules and posts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("days", sa.String(length=7), nullable=False),
        sa.Column("task", sa.String(length=8), nullable=True),
        sa.Column("close_after_minutes", sa.Integer(), nullable=True),
        sa.Column("mention", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_daily_schedules_place_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_schedules")),
        sa.UniqueConstraint("place_id", name=op.f("uq_daily_schedules_place_id")),
    )
    op.create_table(
        "daily_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_daily_posts_round_id_rounds")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["daily_schedules.id"], name=op.f("fk_daily_posts_schedule_id_daily_schedules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_posts")),
        sa.UniqueConstraint("schedule_id", "local_date", name=op.f("uq_daily_posts_schedule_id_local_date")),
    )


def downgrade() -> None:
    op.drop_table("daily_posts")
    op.drop_table("daily_schedules")
