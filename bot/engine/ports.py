"""What the engine needs from the outside world: storage, time and randomness.

The store implements :class:`QuizStore`; tests and benchmarks pass a real store on a
real database. Time and randomness are injected so rules are testable without sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.engine.daily import DailyClaim, DailySchedule
from bot.engine.model import (
    AnswerWrite,
    AttemptRecord,
    BoardSnapshot,
    ExamItem,
    ExamRecord,
    FlagReason,
    FlagSummary,
    ForgetReport,
    LearnerProfile,
    LearnerRef,
    PlaceRef,
    PlaceSettings,
    PurgeReport,
    Reschedule,
    RoundKind,
    RoundRecord,
    Scope,
    ScoredAttempt,
    SessionRecord,
)
from bot.engine.reminders import ReminderProfile
from bot.engine.spacing import ReviewCard

Clock = Callable[[], datetime]
# a finished exam's graded items → (question id, answered at, rule) reviews of its learner
ExamReviews = Callable[[Sequence[ExamItem]], Sequence[tuple[str, datetime, Reschedule]]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # this learner already answered this round
    CLOSED = "closed"  # the round was closed before the answer could be written


class OpenOutcome(StrEnum):
    OPENED = "opened"
    BUSY = "busy"


class QuizStore(Protocol):
    async def place_settings(self, place: PlaceRef) -> PlaceSettings: ...

    async def update_settings(self, place: PlaceRef, **changes: object) -> PlaceSettings: ...

    async def start_new_season(self, place: PlaceRef, now: datetime, from_season: int) -> PlaceSettings: ...

    async def open_round(
        self,
        place: PlaceRef,
        question_id: str,
        kind: RoundKind,
        scored: bool,
        option_order: Sequence[str],
        opened_at: datetime,
        deadline: datetime | None,
        session_id: int | None = None,
        position: int | None = None,
    ) -> tuple[OpenOutcome, RoundRecord]: ...

    async def get_round(self, round_id: int) -> RoundRecord | None: ...

    async def open_channel_round(self, place: PlaceRef) -> RoundRecord | None: ...

    async def set_message_ref(self, round_id: int, message_ref: str) -> None: ...

    async def record_answer(self, answer: AnswerWrite) -> AnswerOutcome: ...

    async def close_round(
        self, round_id: int, now: datetime
    ) -> tuple[RoundRecord, list[AttemptRecord]] | None: ...

    async def due_rounds(self, now: datetime, limit: int = 100, platform: str | None = None) -> list[int]: ...

    async def mark_revealed(self, round_id: int, now: datetime) -> None: ...

    async def unrevealed_rounds(
        self, platform: str, closed_before: datetime, closed_after: datetime, limit: int = 100
    ) -> list[tuple[RoundRecord, list[AttemptRecord]]]: ...

    async def place_question_counts(self, place: PlaceRef) -> dict[str, int]: ...

    async def learner_history(self, learner: LearnerRef) -> list[AttemptRecord]: ...

    async def due_reviews(self, learner: LearnerRef, before: datetime, limit: int = 50) -> list[str]:
        """Question ids whose card is due before ``before``, soonest first."""
        ...

    async def review_card(self, learner: LearnerRef, question_id: str) -> ReviewCard | None: ...

    async def change_review(
        self,
        learner: LearnerRef,
        question_id: str,
        change: Callable[[ReviewCard, date | None], ReviewCard | None],
    ) -> bool:
        """Replace the card by ``change(card, exam date)`` unless it returns None; False when
        there is no card or nothing changed."""
        ...

    async def learner_profile(self, learner: LearnerRef) -> LearnerProfile | None: ...

    async def bring_reviews_forward(self, learner: LearnerRef, latest: datetime) -> int:
        """Cards due after ``latest`` become due at it; returns how many moved."""
        ...

    async def known_workspaces(self, platform: str) -> list[str]:
        """Every workspace of the platform the bot holds data for."""
        ...

    async def save_learner_profile(
        self, learner: LearnerRef, now: datetime, **changes: object
    ) -> LearnerProfile: ...

    async def learner_id(self, learner: LearnerRef) -> int | None: ...

    async def organiser_ids(self, place: PlaceRef) -> set[str]: ...

    async def set_organiser(
        self, place: PlaceRef, user_id: str, added_by: str, now: datetime, add: bool
    ) -> bool: ...

    async def save_schedule(
        self,
        place: PlaceRef,
        at: str,
        timezone: str,
        days: str,
        task: str | None,
        close_after_minutes: int | None,
        mention: str | None,
        created_by: str,
        now: datetime,
    ) -> int: ...

    async def schedule_of(self, place: PlaceRef) -> DailySchedule | None: ...

    async def enabled_schedules(self, platform: str) -> list[DailySchedule]: ...

    async def disable_schedule(self, place: PlaceRef, reason: str) -> bool: ...

    async def daily_claims(self, wanted: Sequence[tuple[int, str]]) -> dict[tuple[int, str], DailyClaim]: ...

    async def claim_daily(
        self, schedule_id: int, local_date: str, status: str, claimer: str, now: datetime
    ) -> bool: ...

    async def reclaim_daily(
        self, schedule_id: int, local_date: str, claimer: str, now: datetime, stale_before: datetime
    ) -> bool: ...

    async def unposted_rounds(
        self, platform: str, opened_before: datetime
    ) -> list[tuple[RoundRecord, str | None]]: ...

    async def set_daily_round(self, schedule_id: int, local_date: str, round_id: int) -> None: ...

    async def daily_history(self, platform: str, workspace: str) -> list[tuple[str, int, bool]]: ...

    async def daily_date_of(self, round_id: int) -> str | None: ...

    async def round_attempts(self, round_ids: Sequence[int]) -> list[AttemptRecord]: ...

    async def board_snapshot(
        self,
        place: PlaceRef,
        scope: Scope,
        period_of: Callable[[PlaceSettings], str],
        viewer: LearnerRef | None,
        limit: int,
    ) -> BoardSnapshot: ...

    async def start_session(
        self,
        learner: LearnerRef,
        place: PlaceRef,
        task: str | None,
        size: int,
        scored: bool,
        now: datetime,
    ) -> SessionRecord: ...

    async def get_session(self, session_id: int) -> SessionRecord | None: ...

    async def session_rounds(self, session_id: int) -> list[RoundRecord]: ...

    async def session_attempts(self, session_id: int) -> list[AttemptRecord]: ...

    async def finish_session(self, session_id: int, now: datetime) -> None: ...

    async def add_flag(
        self,
        learner: LearnerRef,
        question_id: str,
        reason: FlagReason,
        comment: str | None,
        round_id: int | None,
        now: datetime,
    ) -> None: ...

    async def flag_summaries(self, include_resolved: bool = False) -> list[FlagSummary]: ...

    async def resolve_flags(self, question_id: str, now: datetime) -> int: ...

    async def question_attempts(self, question_id: str) -> list[tuple[int, tuple[str, ...], bool]]: ...

    async def apply_regrade(
        self,
        question_id: str,
        changes: Sequence[tuple[int, bool]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> set[str]: ...

    async def rebuild_boards(
        self,
        workspaces: set[tuple[str, str]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> None: ...

    async def learner_data(self, platform: str, user_id: str) -> dict[str, Any] | None: ...

    async def forget_learner(
        self,
        platform: str,
        user_id: str,
        now: datetime,
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> ForgetReport: ...

    async def record_departure(self, platform: str, workspace: str, now: datetime) -> None: ...

    async def cancel_departure(self, platform: str, workspace: str) -> bool: ...

    async def departed_workspaces(self) -> list[tuple[str, str, datetime]]: ...

    async def purge_workspace(
        self, platform: str, workspace: str, departed_before: datetime
    ) -> PurgeReport | None: ...

    # -- mock exams -------------------------------------------------------------------

    async def create_exam(
        self,
        learner: LearnerRef,
        place: PlaceRef,
        items: Sequence[tuple[str, Sequence[str]]],
        started_at: datetime,
        deadline: datetime,
    ) -> ExamRecord: ...

    async def get_exam(self, exam_id: int) -> ExamRecord | None: ...

    async def running_exam(self, learner_id: int, now: datetime) -> ExamRecord | None: ...

    async def exam_items(self, exam_id: int) -> list[ExamItem]: ...

    async def answer_exam_item(
        self, exam_id: int, position: int, chosen_keys: Sequence[str], correct: bool, now: datetime
    ) -> bool: ...

    async def finish_exam(
        self,
        exam_id: int,
        now: datetime,
        scaled: Callable[[int, int], int],
        reviews: ExamReviews | None = None,
    ) -> list[ExamItem] | None:
        """Finish the exam and store its score; apply ``reviews(graded items)`` to the
        learner's cards in the same transaction, so the finish and the cards commit
        together. The items as graded; None if the exam was already finished."""
        ...

    async def due_exams(
        self, now: datetime, platform: str | None = None, limit: int = 100, learner_id: int | None = None
    ) -> list[int]:
        """Unfinished exams past their deadline, oldest deadline first (of one learner, if given)."""
        ...

    async def finished_exams(self, learner_id: int) -> list[ExamRecord]: ...

    async def unsent_exam_results(
        self, platform: str | None, finished_before: datetime, finished_after: datetime, limit: int = 100
    ) -> list[int]: ...

    async def mark_exam_result_sent(self, exam_id: int, now: datetime) -> None: ...

    async def discard_untouched_exam(self, exam_id: int) -> bool: ...

    # -- daily reminders ----------------------------------------------------------------

    async def reminder_profiles(self, platform: str | None = None) -> list[ReminderProfile]:
        """Every learner with a reminder time set (on ``platform``, or every platform)."""
        ...

    async def due_questions_of(self, cutoffs: Mapping[int, datetime]) -> dict[int, list[str]]:
        """For each learner id, the question ids of their cards due before its cutoff."""
        ...

    async def claim_reminder(self, learner_id: int, day: date) -> bool:
        """Set the learner's ``reminded_on`` to ``day`` unless it already is (or reminders are
        off): True for the one caller that changed it."""
        ...

    async def release_reminder(self, learner_id: int, day: date, previous: date | None) -> None:
        """Put ``reminded_on`` back to ``previous`` if it is still ``day``."""
        ...


def seeded_rng(seed: int | None = None) -> random.Random:
    return random.Random(seed)
