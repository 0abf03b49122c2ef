"""learning: spaced-repetition cards, learner profiles (exam date, reminders), mock exams

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_cards",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_review", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("last_round_id", sa.Integer(), nullable=True),
        sa.Column("last_grade", sa.SmallInteger(), nullable=True),
        sa.Column("prev_state", sa.SmallInteger(), nullable=True),
        sa.Column("prev_step", sa.Integer(), nullable=True),
        sa.Column("prev_stability", sa.Float(), nullable=True),
        sa.Column("prev_difficulty", sa.Float(), nullable=True),
        sa.Column("prev_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prev_last_review", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_review_cards_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("learner_id", "question_id", name=op.f("pk_review_cards")),
    )
    op.create_index("ix_review_cards_learner_id_due", "review_cards", ["learner_id", "due"], unique=False)
    op.create_table(
        "learner_profiles",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("exam_date", sa.Date(), nullable=True),
        sa.Column("remind_at", sa.String(length=5), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("remind_workspace", sa.String(length=64), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_learner_profiles_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_learner_profiles")),
    )
    op.create_table(
        "mock_exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correct", sa.Integer(), nullable=True),
        sa.Column("scaled_score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_mock_exams_learner_id_learners")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_mock_exams_place_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_exams")),
    )
    op.create_index(op.f("ix_mock_exams_learner_id"), "mock_exams", ["learner_id"], unique=False)
    op.create_table(
        "mock_exam_items",
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("option_order", sa.String(length=16), nullable=False),
        sa.Column("chosen_keys", sa.String(length=16), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["mock_exams.id"], name=op.f("fk_mock_exam_items_exam_id_mock_exams")
        ),
        sa.PrimaryKeyConstraint("exam_id", "position", name=op.f("pk_mock_exam_items")),
    )


def downgrade() -> None:
    op.drop_table("mock_exam_items")
    op.drop_index(op.f("ix_mock_exams_learner_id"), table_name="mock_exams")
    op.drop_table("mock_exams")
    op.drop_table("learner_profiles")
    op.drop_index("ix_review_cards_learner_id_due", table_name="review_cards")
    op.drop_table("review_cards")
