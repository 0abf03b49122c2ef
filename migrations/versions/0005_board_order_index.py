"""board order index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standings_scope_period_score"))
        batch_op.create_index(
            "ix_standings_board_order", ["scope", "period", "score", "answered", "learner_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.drop_index("ix_standings_board_order")
        batch_op.create_index(
            batch_op.f("ix_standings_scope_period_score"), ["scope", "period", "score"], unique=False
        )
