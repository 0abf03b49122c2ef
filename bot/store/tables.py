"""Table declarations. Alembic migrations must match these exactly (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


learners = Table(
    "learners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("locale", String(16)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "user_id"),
)

places = Table(
    "places",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    # '' is the workspace itself (guild, Slack team, terminal): settings live on that row
    Column("channel_id", String(64), nullable=False, server_default=""),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("locale", String(16)),
    Column("feedback_mode", String(16), nullable=False, server_default="immediate"),
    Column("round_minutes", Integer, nullable=False, server_default="10"),
    Column("season", Integer, nullable=False, server_default="1"),
    Column("season_started_at", UTCDateTime),
    Column("organiser_role", String(64)),  # a role (Discord) whose members may run organiser commands
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "workspace_id", "channel_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id"), nullable=False, index=True),
    Column("place_id", Integer, ForeignKey("places.id"), nullable=False),
    Column("task", String(8)),
    Column("size", Integer, nullable=False),
    Column("scored", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
)

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("place_id", Integer, ForeignKey("places.id"), nullable=False),
    Column("question_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("scored", Boolean, nullable=False),
    Column("option_order", String(8), nullable=False),  # authored keys as shown, e.g. "cadb"
    Column("opened_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("revealed_at", UTCDateTime),  # the reveal reached the platform (retried until then)
    Column("message_ref", Text),  # platform's reference: Discord message id, Slack channel+ts
    Column("session_id", Integer, ForeignKey("sessions.id"), index=True),
    Column("position", Integer),  # 1-based place of a session round; NULL for channel rounds
    # a double click on Next opens one round (an index, so SQLite adds it without a table copy)
    Index("uq_rounds_session_id_position", "session_id", "position", unique=True),
    Index("ix_rounds_place_id_question_id", "place_id", "question_id"),
    Index(
        "ix_rounds_deadline_open",
        "deadline",
        sqlite_where=text("closed_at IS NULL"),
        postgresql_where=text("closed_at IS NULL"),
    ),
    # one open channel round per channel, enforced by the database (race-safe)
    Index(
        "uq_rounds_one_open_per_channel",
        "place_id",
        unique=True,
        sqlite_where=text("kind = 'channel' AND closed_at IS NULL"),
        postgresql_where=text("kind = 'channel' AND closed_at IS NULL"),
    ),
    # the closing loops look every few seconds for reveals that never arrived: only those rows
    Index(
        "ix_rounds_awaiting_reveal",
        "closed_at",
        sqlite_where=text("revealed_at IS NULL AND message_ref IS NOT NULL AND closed_at IS NOT NULL"),
        postgresql_where=text("revealed_at IS NULL AND message_ref IS NOT NULL AND closed_at IS NOT NULL"),
    ),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer, ForeignKey("rounds.id"), nullable=False),
    Column("learner_id", Integer, ForeignKey("learners.id"), nullable=False),
    Column("question_id", String(64), nullable=False, index=True),
    Column("chosen_keys", String(16), nullable=False),  # authored keys, e.g. "a,c"
    Column("chosen_letters", String(8), nullable=False),  # letters the learner saw, e.g. "BD"
    Column("correct", Boolean, nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("season", Integer),  # season whose boards it credited; NULL when not scored
    Column("timezone", String(64)),  # time zone its weeks and months were cut in
    UniqueConstraint("round_id", "learner_id"),  # one attempt per learner per round
    Index("ix_attempts_learner_id_answered_at", "learner_id", "answered_at"),
)

# Maintained incrementally in the answer's own transaction: a leaderboard is one
# indexed read instead of a GROUP BY over every attempt.
standings = Table(
    "standings",
    metadata,
    Column("scope", String(160), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id"), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # read backwards it gives the board order (score, then answered) even when thousands tie
    Index("ix_standings_board_order", "scope", "period", "score", "answered", "learner_id"),
)

# How many learners of a board hold each score: a viewer's rank is a sum over a few
# dozen rows instead of a count over every learner of the board.
score_histogram = Table(
    "score_histogram",
    metadata,
    Column("scope", String(160), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("score", Integer, primary_key=True),
    Column("learners", Integer, nullable=False),
)

question_stats = Table(
    "question_stats",
    metadata,
    Column("question_id", String(64), primary_key=True),
    Column("answered", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
)

# Learners' reports of a wrong or unclear question; one open flag per learner and question.
question_flags = Table(
    "question_flags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", String(64), nullable=False, index=True),
    Column("learner_id", Integer, ForeignKey("learners.id"), nullable=False),
    Column("round_id", Integer, ForeignKey("rounds.id")),
    Column("reason", String(16), nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Index(
        "uq_question_flags_open",
        "question_id",
        "learner_id",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
)

# People a workspace's admins let run organiser commands (Slack: besides admins and owners).
organisers = Table(
    "organisers",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("workspace_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("added_by", String(64)),
    Column("added_at", UTCDateTime, nullable=False),
)

# A platform's installation in a workspace (Slack OAuth): tokens and ids as the platform
# returned them, kept as JSON so the adapter owns their shape. Removed on uninstall.
installations = Table(
    "installations",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("workspace_id", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One-time OAuth states (the install flow's CSRF protection), consumed on the redirect.
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A channel's daily question; one schedule per channel.
daily_schedules = Table(
    "daily_schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("place_id", Integer, ForeignKey("places.id"), nullable=False, unique=True),
    Column("at", String(5), nullable=False),  # local "HH:MM"
    Column("timezone", String(64), nullable=False),
    Column("days", String(7), nullable=False),  # weekday digits, Monday = 0: "0123456"
    Column("task", String(8)),
    Column("close_after_minutes", Integer),  # NULL: until the next post, 24 h at most
    Column("mention", String(64)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
)

# Each (schedule, local date) is claimed by exactly one process: the unique key, not memory.
daily_posts = Table(
    "daily_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", Integer, ForeignKey("daily_schedules.id"), nullable=False),
    Column("local_date", String(10), nullable=False),  # "YYYY-MM-DD" in the schedule's time zone
    Column("status", String(16), nullable=False),  # claimed | posted | skipped
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("round_id", Integer, ForeignKey("rounds.id")),
    UniqueConstraint("schedule_id", "local_date"),
)

# One row per running process (not one shared row): `quizbot health` reads this host's.
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("instance", String(64), primary_key=True),
    Column("host", String(255), nullable=False, index=True),
    Column("pid", Integer, nullable=False),
    Column("parts", Text, nullable=False),  # JSON: {"discord": true, "slack": false}
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

# A workspace the bot left (Discord server removed it, Slack app uninstalled): its data is
# purged once the retention period has passed since ``departed_at``; rejoining deletes the row.
departures = Table(
    "departures",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("workspace_id", String(64), primary_key=True),
    Column("departed_at", UTCDateTime, nullable=False),
)

# Spaced repetition: one FSRS card per learner and question, moved by every answer (rounds,
# practice, mock exams). ``prev_*`` is the card before its latest review, so "I guessed"
# can turn that review's Good into Hard; ``last_round_id`` names the review it may change.
review_cards = Table(
    "review_cards",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id"), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("state", SmallInteger, nullable=False),  # FSRS: 1 learning, 2 review, 3 relearning
    Column("step", Integer),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due", UTCDateTime, nullable=False),
    Column("last_review", UTCDateTime),
    Column("reviews", Integer, nullable=False),
    Column("lapses", Integer, nullable=False),
    Column("last_round_id", Integer),
    Column("last_grade", SmallInteger),  # FSRS rating of the latest review: 1 again, 2 hard, 3 good
    Column("prev_state", SmallInteger),
    Column("prev_step", Integer),
    Column("prev_stability", Float),
    Column("prev_difficulty", Float),
    Column("prev_due", UTCDateTime),
    Column("prev_last_review", UTCDateTime),
    Index("ix_review_cards_learner_id_due", "learner_id", "due"),
)

# What a learner chose for themselves: an exam date (reviews are capped to land before it)
# and an opt-in daily reminder at a local time, sent in their DM on ``remind_platform``'s
# workspace ``remind_workspace`` (Slack needs the workspace's token to open the DM).
learner_profiles = Table(
    "learner_profiles",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id"), primary_key=True),
    Column("exam_date", Date),
    Column("remind_at", String(5)),  # "HH:MM" in ``timezone``; NULL: no reminders
    Column("timezone", String(64)),
    Column("remind_workspace", String(64)),
    Column("reminded_on", Date),  # the learner's local date of the last reminder: once a day
    Column("updated_at", UTCDateTime, nullable=False),
)

# A private timed mock exam and its questions, in order; answers are kept per item and
# graded at the end (no feedback during the run).
mock_exams = Table(
    "mock_exams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id"), nullable=False, index=True),
    Column("place_id", Integer, ForeignKey("places.id"), nullable=False),
    Column("size", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("correct", Integer),  # set when finished
    Column("scaled_score", Integer),  # round(100 + 900 * correct / size), an estimate
    Column("result_sent_at", UTCDateTime),  # the result reached the learner, or never can (0014)
)

mock_exam_items = Table(
    "mock_exam_items",
    metadata,
    Column("exam_id", Integer, ForeignKey("mock_exams.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("question_id", String(64), nullable=False),
    Column("option_order", String(16), nullable=False),
    Column("chosen_keys", String(16)),  # NULL: not answered
    Column("correct", Boolean),
    Column("answered_at", UTCDateTime),
)
