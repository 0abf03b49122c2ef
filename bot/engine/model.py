"""Domain values shared by the engine, the store and the adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property

from bot.engine.spacing import ReviewCard

# the engine's rule for one answer's review: (the card so far, the learner's exam date) → the new card
Reschedule = Callable[[ReviewCard | None, date | None], ReviewCard]
# a change to one card after the fact ("I guessed"): None leaves it as it is
CardChange = Callable[[ReviewCard, date | None], ReviewCard | None]


class FeedbackMode(StrEnum):
    IMMEDIATE = "immediate"  # default: the bot exists to teach
    AT_CLOSE = "at-close"  # competitive groups: nothing revealed until the round closes


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class Scope(StrEnum):
    WORKSPACE = "workspace"  # a Discord guild, a Slack workspace, the terminal
    CHANNEL = "channel"


class FlagReason(StrEnum):
    WRONG = "wrong"
    UNCLEAR = "unclear"


class RoundKind(StrEnum):
    CHANNEL = "channel"  # posted for everyone in a channel
    SESSION = "session"  # one learner's private practice or terminal play


@dataclass(frozen=True)
class PlaceRef:
    """Where a round is played. ``workspace`` is a guild or Slack team id."""

    platform: str
    workspace: str
    channel: str

    @cached_property
    def workspace_scope(self) -> str:
        """Board key of the workspace; ':' inside ids is escaped so keys never collide."""
        return f"{_escape(self.platform)}:{_escape(self.workspace)}"

    @cached_property
    def channel_scope(self) -> str:
        return f"{self.workspace_scope}:{_escape(self.channel)}"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


# The platform of the learner row a forgotten person's attempts are moved to: it has no
# platform id (a random one), no name and no locale, so tallies stay and nobody is named.
FORGOTTEN_PLATFORM = "forgotten"


@dataclass(frozen=True)
class LearnerRef:
    """A person on a platform. ``locale`` is their client's language, when known."""

    platform: str
    user_id: str
    display_name: str
    locale: str | None = None


@dataclass(frozen=True)
class PlaceSettings:
    """Settings of a workspace (guild, Slack team or the terminal)."""

    locale: str | None = None
    timezone: str = "UTC"
    feedback: FeedbackMode = FeedbackMode.IMMEDIATE
    round_minutes: int = 10
    season: int = 1
    season_started_at: datetime | None = None
    organiser_role: str | None = None


@dataclass(frozen=True)
class RoundRecord:
    """A round as stored: enough to finish it after a restart."""

    id: int
    place: PlaceRef
    question_id: str
    kind: RoundKind
    scored: bool
    option_order: tuple[str, ...]  # authored keys in the order shown: index 0 is letter A
    opened_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    message_ref: str | None
    session_id: int | None


@dataclass(frozen=True)
class AnswerWrite:
    """One answer for the store to record, with the standings it moves."""

    round_id: int
    question_id: str
    learner: LearnerRef
    chosen_keys: tuple[str, ...]
    chosen_letters: str
    correct: bool
    answered_at: datetime
    scored: bool  # credits leaderboards (the store reads the season and time zone it commits under)
    review: Reschedule | None = None  # moves the learner's card, in the answer's own transaction


@dataclass(frozen=True)
class AttemptRecord:
    round_id: int
    question_id: str
    learner_id: int
    display_name: str
    chosen_keys: tuple[str, ...]
    correct: bool
    answered_at: datetime
    anonymous: bool = False  # the learner asked to be forgotten: counted, never named


@dataclass(frozen=True)
class StandingRow:
    learner_id: int
    display_name: str
    score: int
    answered: int


@dataclass(frozen=True)
class SessionRecord:
    id: int
    learner_id: int
    place: PlaceRef
    task: str | None
    size: int
    scored: bool
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ScoredAttempt:
    """An attempt that credited leaderboards, with what is needed to recompute its boards."""

    learner_id: int
    correct: bool
    answered_at: datetime
    season: int
    place: PlaceRef
    timezone: str


@dataclass(frozen=True)
class FlagSummary:
    question_id: str
    flags: int
    wrong: int
    unclear: int
    comments: tuple[str, ...]
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class BoardSnapshot:
    """Everything a leaderboard card shows, read in one consistent transaction."""

    settings: PlaceSettings
    scope_key: str
    period_key: str
    top: tuple[StandingRow, ...]
    viewer: StandingRow | None
    above_viewer: int  # learners with more points than the viewer
    at_least_last: int  # learners with at least the last shown score (ties at the cut)
    total: int  # learners on the board


@dataclass(frozen=True)
class ForgetReport:
    """What forgetting one person changed; ``found`` is False when nothing was held."""

    found: bool
    attempts: int = 0  # kept, anonymous, off every leaderboard
    sessions: int = 0
    flags: int = 0
    standings: int = 0  # leaderboard rows removed (the boards are recounted)
    organiser_grants: int = 0
    schedules: int = 0  # daily schedules they had set, which no longer name them
    learning: int = 0  # their own study records deleted: review cards, profile, mock exams


@dataclass(frozen=True)
class PurgeReport:
    """What purging a departed workspace removed."""

    platform: str
    workspace: str
    rounds: int
    attempts: int
    learners: int


@dataclass(frozen=True)
class LearnerProfile:
    """What a learner set for themselves: an exam date and a daily reminder."""

    exam_date: date | None = None
    remind_at: str | None = None  # "HH:MM" in ``timezone``
    timezone: str | None = None
    remind_workspace: str | None = None
    reminded_on: date | None = None


@dataclass(frozen=True)
class ExamRecord:
    """A mock exam as stored; ``place`` is where it runs (the learner's DM with the bot)."""

    id: int
    learner_id: int
    user_id: str  # the learner's platform id, to reach them when the exam expires
    learner_locale: str | None
    place: PlaceRef
    size: int
    started_at: datetime
    deadline: datetime
    finished_at: datetime | None
    correct: int | None
    scaled_score: int | None


@dataclass(frozen=True)
class ExamItem:
    """One question of a mock exam; ``chosen_keys`` is None while unanswered."""

    position: int  # 1-based
    question_id: str
    option_order: tuple[str, ...]  # authored keys in the order shown: index 0 is letter A
    chosen_keys: tuple[str, ...] | None
    correct: bool | None
    answered_at: datetime | None
