"""mock exams: when the result reached the learner, so a result lost to a crash or a
platform error is sent again

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mock_exams") as batch:
        batch.add_column(sa.Column("result_sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mock_exams") as batch:
        batch.drop_column("result_sent_at")
