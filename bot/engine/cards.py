"""Cards: what the engine hands back to adapters, as plain frozen data.

A card carries the locale its text should be rendered in and every figure an adapter
needs; it never carries platform markup. Letters (A, B, …) are the ones shown to
learners in this round, already mapped from the authored option keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.engine.model import Period, PlaceRef, Scope
from bot.engine.reminders import StudyPlan


@dataclass(frozen=True)
class ShownOption:
    letter: str
    text: str
    correct: bool
    why_wrong: str | None  # None for a correct option


@dataclass(frozen=True)
class QuestionCard:
    """A question to show: posted to a channel, or one step of a private session."""

    round_id: int
    question_id: str
    task: str
    objective: str
    stem: str
    options: tuple[ShownOption, ...]
    select_count: int
    deadline: datetime | None
    locale: str
    session_id: int | None = None
    position: int | None = None  # 1-based place in a session
    session_size: int | None = None
    previous_reveal: RevealCard | None = None  # an overdue round closed to make room
    daily_date: str | None = None  # "Question of the day" for this local date
    mention: str | None = None  # who the daily post mentions (a role or user group id)

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(option.letter for option in self.options)


@dataclass(frozen=True)
class RoundBusy:
    """A round is already open in this channel: point to it instead of opening another."""

    open_round_id: int
    message_ref: str | None
    locale: str


@dataclass(frozen=True)
class FeedbackCard:
    """Private feedback right after an answer (immediate feedback mode)."""

    round_id: int
    question_id: str
    correct: bool
    chosen_letters: tuple[str, ...]
    correct_letters: tuple[str, ...]
    options: tuple[ShownOption, ...]
    why: str
    references: tuple[str, ...]
    locale: str
    session_id: int | None = None  # set for practice: the adapter offers "Next"


@dataclass(frozen=True)
class RecordedCard:
    """The answer is stored; the result waits for the close (at-close mode)."""

    round_id: int
    chosen_letters: tuple[str, ...]
    deadline: datetime | None
    locale: str


class GuessOutcome(StrEnum):
    """What an "I guessed" click may tell the learner (``t(locale, "guessed." + value)``)."""

    NOTED = "noted"  # the right answer is now Hard: the question comes back sooner
    NOTHING = "nothing"  # a wrong answer, said twice, someone else's or an unknown round
    # the round keeps results until it closes: Hard if the answer was right, a wrong one
    # stays Again, and the reply is the same either way, so it gives nothing away
    PENDING = "pending"


class RefusalReason(StrEnum):
    TRY_AGAIN = "try_again"  # the answer could not be saved; nothing was recorded
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    UNKNOWN_ROUND = "unknown_round"
    INVALID_CHOICE = "invalid_choice"
    WRONG_COUNT = "wrong_count"
    RESTARTING = "restarting"  # the bot is stopping; nothing was recorded


@dataclass(frozen=True)
class AnswerRefused:
    """An answer that changed nothing, with the reason to tell the learner privately."""

    reason: RefusalReason
    locale: str
    round_id: int | None = None
    expected_count: int | None = None
    letters: tuple[str, ...] = ()


AnswerResult = FeedbackCard | RecordedCard | AnswerRefused


@dataclass(frozen=True)
class OptionTally:
    letter: str
    text: str
    correct: bool
    picks: int


@dataclass(frozen=True)
class RevealCard:
    """Posted when a channel round closes."""

    round_id: int
    question_id: str
    stem: str
    options: tuple[OptionTally, ...]
    correct_letters: tuple[str, ...]
    total_answers: int
    right_names: tuple[str, ...]
    more_right: int  # "…and N more" beyond the names listed
    why: str
    why_wrong: tuple[tuple[str, str], ...]  # (letter, reason) for each wrong option
    references: tuple[str, ...]
    message_ref: str | None
    locale: str
    place: PlaceRef | None = None  # where to post it when the question's message is unknown
    streaks: tuple[tuple[str, int], ...] = ()  # daily rounds: the longest streaks among those who answered


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    display_name: str
    score: int
    is_viewer: bool


@dataclass(frozen=True)
class LeaderboardCard:
    scope: Scope
    period: Period
    period_label: str  # e.g. "2026-W48", "2026-11", "season 2"
    entries: tuple[LeaderboardEntry, ...]
    tied_beyond: int  # learners sharing the last shown rank who did not fit
    viewer_rank: int | None
    viewer_score: int | None
    total_learners: int
    locale: str


@dataclass(frozen=True)
class Accuracy:
    key: str  # task statement ("3.1") or objective ("3.1.b")
    attempts: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.attempts) if self.attempts else 0


@dataclass(frozen=True)
class StatsCard:
    display_name: str
    attempts: int
    correct: int
    by_task: tuple[Accuracy, ...]
    by_objective: tuple[Accuracy, ...]
    current_run: int
    best_run: int
    first_answer: date | None
    locale: str
    daily_streak: int | None = None  # in the place's workspace, when it has daily questions
    best_daily_streak: int | None = None
    exams: ExamStats | None = None  # finished mock exams, when there are any
    plan: StudyPlan | None = None  # exam countdown, bank coverage, reviews due today


@dataclass(frozen=True)
class ReviewItem:
    question_id: str
    objective: str
    stem: str
    reference: str


@dataclass(frozen=True)
class WeakSpot:
    """One of the learner's weakest objectives (``bot.engine.weak``): their recent record
    in it and a documentation link to study it."""

    objective: str
    answered: int
    correct: int
    reference: str | None


@dataclass(frozen=True)
class SessionSummaryCard:
    session_id: int
    answered: int
    correct: int
    size: int
    by_task: tuple[Accuracy, ...]
    to_review: tuple[ReviewItem, ...] = field(default_factory=tuple)
    locale: str = "en"
    focus: str | None = None  # "weak" for a weak-topic drill
    weak_spots: tuple[WeakSpot, ...] = ()  # weak-topic drills: the two weakest objectives now


@dataclass(frozen=True)
class StreakEntry:
    rank: int
    display_name: str
    streak: int
    correct_days: int
    is_viewer: bool


@dataclass(frozen=True)
class StreaksCard:
    """Daily streaks of a workspace: consecutive days with a posted daily question that a
    learner answered (days without a post never break a streak)."""

    entries: tuple[StreakEntry, ...]
    viewer_streak: int | None
    viewer_best: int | None
    viewer_correct_days: int | None
    locale: str


@dataclass(frozen=True)
class DayCount:
    day: date  # a local date in the card's time zone
    answered: int
    correct: int


@dataclass(frozen=True)
class ProgressCard:
    """What the progress chart draws (and the terminal prints as a table): accuracy per
    task statement over every answer, and answers per local day over the last ``len(days)``
    days, today last. Every task statement and every day is present, zeros included."""

    display_name: str
    by_task: tuple[Accuracy, ...]  # 3.1, 3.2, 3.3, 3.4 in order
    days: tuple[DayCount, ...]  # oldest first, today last
    timezone: str  # the days are cut in it
    locale: str

    @property
    def answered(self) -> int:
        return sum(task.attempts for task in self.by_task)


@dataclass(frozen=True)
class ExamQuestionCard:
    """One question of a running mock exam: no feedback until the exam is submitted."""

    exam_id: int
    position: int  # 1-based
    size: int
    question_id: str
    task: str
    objective: str
    stem: str
    options: tuple[ShownOption, ...]  # do not show ``correct``/``why_wrong`` before the result
    select_count: int
    chosen_letters: tuple[str, ...]  # this question's current answer (it may change until submit)
    answered: int  # questions answered so far
    deadline: datetime
    locale: str
    place: PlaceRef | None = None

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(option.letter for option in self.options)


@dataclass(frozen=True)
class ExamMissedItem:
    """A question the learner got wrong or left unanswered, with its explanation."""

    position: int
    question_id: str
    task: str
    objective: str
    stem: str
    options: tuple[ShownOption, ...]
    chosen_letters: tuple[str, ...]  # empty: unanswered
    correct_letters: tuple[str, ...]
    why: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ExamResultCard:
    """A finished mock exam. ``scaled_score`` is an estimate from this bank on the exam's
    100–1000 scale (AWS publishes no mapping from raw to scaled scores)."""

    exam_id: int
    correct: int
    total: int
    answered: int
    scaled_score: int
    pass_mark: int
    by_task: tuple[Accuracy, ...]
    missed: tuple[ExamMissedItem, ...]
    expired: bool  # the time ran out: what was answered was submitted
    locale: str
    place: PlaceRef | None = None  # where the exam ran: where to send the result
    user_id: str | None = None

    @property
    def passed(self) -> bool:
        return self.scaled_score >= self.pass_mark


class ExamRefusal(StrEnum):
    UNKNOWN = "unknown"  # not this learner's exam, or no such exam
    FINISHED = "finished"  # submitted or timed out already
    INVALID_CHOICE = "invalid_choice"
    WRONG_COUNT = "wrong_count"


@dataclass(frozen=True)
class ExamRefused:
    """A request on an exam that changed nothing; render ``t(locale, "exam.refused." + reason)``."""

    reason: ExamRefusal
    locale: str
    exam_id: int | None = None
    expected_count: int | None = None
    letters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExamStats:
    """Finished mock exams of a learner, for their stats."""

    count: int
    last_score: int
    best_score: int
    passed: int  # how many reached the pass mark
