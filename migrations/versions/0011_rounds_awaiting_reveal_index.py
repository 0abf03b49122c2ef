"""index the rounds whose reveal never arrived: the closing loops read them every tick

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

AWAITING = "revealed_at IS NULL AND message_ref IS NOT NULL AND closed_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_rounds_awaiting_reveal",
        "rounds",
        ["closed_at"],
        unique=False,
        sqlite_where=sa.text(AWAITING),
        postgresql_where=sa.text(AWAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_rounds_awaiting_reveal", table_name="rounds")
