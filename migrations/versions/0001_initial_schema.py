"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learners")),
        sa.UniqueConstraint("platform", "user_id", name=op.f("uq_learners_platform_user_id")),
    )
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("feedback_mode", sa.String(length=16), server_default="immediate", nullable=False),
        sa.Column("round_minutes", sa.Integer(), server_default="10", nullable=False),
        sa.Column("season", sa.Integer(), server_default="1", nullable=False),
        sa.Column("season_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint(
            "platform",
            "workspace_id",
            "channel_id",
            name=op.f("uq_places_platform_workspace_id_channel_id"),
        ),
    )
    op.create_table(
        "question_stats",
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("question_id", name=op.f("pk_question_stats")),
    )
    op.create_table(
        "score_histogram",
        sa.Column("scope", sa.String(length=160), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "period", "score", name=op.f("pk_score_histogram")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=8), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_sessions_learner_id_learners")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_sessions_place_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_learner_id"), ["learner_id"], unique=False)

    op.create_table(
        "standings",
        sa.Column("scope", sa.String(length=160), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_standings_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("scope", "period", "learner_id", name=op.f("pk_standings")),
    )
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.create_index("ix_standings_scope_period_score", ["scope", "period", "score"], unique=False)

    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("option_order", sa.String(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ref", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_rounds_place_id_places")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_rounds_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
    )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rounds_deadline_open",
            ["deadline"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index("ix_rounds_place_id_question_id", ["place_id", "question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rounds_session_id"), ["session_id"], unique=False)
        batch_op.create_index(
            "uq_rounds_one_open_per_channel",
            ["place_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'channel' AND closed_at IS NULL"),
            postgresql_where=sa.text("kind = 'channel' AND closed_at IS NULL"),
        )

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("chosen_keys", sa.String(length=16), nullable=False),
        sa.Column("chosen_letters", sa.String(length=8), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_attempts_learner_id_learners")
        ),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_attempts_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("round_id", "learner_id", name=op.f("uq_attempts_round_id_learner_id")),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attempts_learner_id_answered_at", ["learner_id", "answered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attempts_question_id"), ["question_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_question_id"))
        batch_op.drop_index("ix_attempts_learner_id_answered_at")

    op.drop_table("attempts")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rounds_one_open_per_channel",
            sqlite_where=sa.text("kind = 'channel' AND closed_at IS NULL"),
            postgresql_where=sa.text("kind = 'channel' AND closed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_rounds_session_id"))
        batch_op.drop_index("ix_rounds_place_id_question_id")
        batch_op.drop_index(
            "ix_rounds_deadline_open",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.drop_table("rounds")
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.drop_index("ix_standings_scope_period_score")

    op.drop_table("standings")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_learner_id"))

    op.drop_table("sessions")
    op.drop_table("score_histogram")
    op.drop_table("question_stats")
    op.drop_table("places")
    op.drop_table("learners")
