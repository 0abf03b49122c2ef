"""Spaced repetition: when each learner should see each question again (FSRS).

Every answer is a review: wrong is Again, right is Good, and a right answer the learner
says they guessed is Hard. Scheduling is by the day: chat has no place for FSRS's
minute-level learning steps, so they are off and every interval is whole days. Fuzzing
is off too: one learner's few hundred cards need no spreading, and tests need exact
dates. An exam date caps every interval so that each card comes back before the exam.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from functools import cache
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State

from bot.engine.localtime import local_today

MAX_INTERVAL_DAYS = 365  # an exam-prep bank: a year out is as far as "later" needs to go


class Grade(IntEnum):
    """FSRS's ratings, as the bot gives them (Easy is never inferred from a click)."""

    AGAIN = 1
    HARD = 2
    GOOD = 3


@dataclass(frozen=True)
class CardState:
    """FSRS's memory model of one card, as stored."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None


@dataclass(frozen=True)
class ReviewCard:
    """One learner's card for one question; ``previous`` is the state before the latest
    review, kept so that "I guessed" can re-grade that review."""

    question_id: str
    current: CardState
    reviews: int
    lapses: int
    last_round_id: int | None
    last_grade: Grade | None
    previous: CardState | None


@cache
def _scheduler() -> Scheduler:
    return Scheduler(
        learning_steps=(), relearning_steps=(), maximum_interval=MAX_INTERVAL_DAYS, enable_fuzzing=False
    )


def _fsrs_card(state: CardState | None) -> Card:
    if state is None:
        return Card(card_id=0)  # a fixed id: FSRS would otherwise sleep 1 ms to make one
    return Card(
        card_id=0,
        state=State(state.state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due,
        last_review=state.last_review,
    )


def _state_of(card: Card) -> CardState:
    return CardState(int(card.state), card.step, card.stability, card.difficulty, card.due, card.last_review)


def start_of_day(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def exam_eve(exam_date: date, timezone: str) -> datetime:
    """The start of the day before the exam: the last day a review is planned on."""
    return start_of_day(exam_date, timezone) - timedelta(days=1)


def cap_for_exam(due: datetime, now: datetime, exam_date: date | None, timezone: str) -> datetime:
    """``due``, brought forward to the day before the exam when it would fall on or after
    it. Unchanged once the eve has come (a review on the eve is the last one before the
    exam: the card is done) or the exam has passed."""
    if exam_date is None:
        return due
    eve = exam_eve(exam_date, timezone)
    if now >= eve or due < eve:
        return due
    return eve


def grade_for(correct: bool, guessed: bool = False) -> Grade:
    if not correct:
        return Grade.AGAIN
    return Grade.HARD if guessed else Grade.GOOD


def _reviewed(
    state: CardState | None, grade: Grade, at: datetime, exam_cap: Callable[[datetime], datetime]
) -> CardState:
    if state is None:  # most answers are a first review: the same result, shifted in time
        first, interval = _first_review(grade)
        return CardState(
            first.state, first.step, first.stability, first.difficulty, exam_cap(at + interval), at
        )
    card, _ = _scheduler().review_card(_fsrs_card(state), Rating(int(grade)), at.astimezone(UTC))
    return CardState(
        int(card.state), card.step, card.stability, card.difficulty, exam_cap(card.due), card.last_review
    )


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@cache
def _first_review(grade: Grade) -> tuple[CardState, timedelta]:
    """A new card's first review depends on the grade alone (no elapsed time, no fuzz):
    computed once, it saves the answer path FSRS's work for every new card."""
    card, _ = _scheduler().review_card(_fsrs_card(None), Rating(int(grade)), _EPOCH)
    return _state_of(card), card.due - _EPOCH


def review(
    card: ReviewCard | None,
    question_id: str,
    grade: Grade,
    at: datetime,
    round_id: int | None = None,
    exam_date: date | None = None,
    timezone: str = "UTC",
) -> ReviewCard:
    """The card after one more review at ``at``."""
    before = card.current if card is not None else None

    def exam_cap(due: datetime) -> datetime:
        return cap_for_exam(due, at, exam_date, timezone)

    after = _reviewed(before, grade, at, exam_cap)
    lapsed = grade is Grade.AGAIN and before is not None and before.state == int(State.Review)
    return ReviewCard(
        question_id,
        after,
        (card.reviews if card else 0) + 1,
        (card.lapses if card else 0) + int(lapsed),
        round_id,
        grade,
        before,
    )


def reschedule(
    question_id: str, grade: Grade, at: datetime, round_id: int | None, timezone: str
) -> Callable[[ReviewCard | None, date | None], ReviewCard]:
    """One answer's review, for the store to apply to the card it holds (with the learner's
    exam date) inside the answer's transaction."""

    def apply(card: ReviewCard | None, exam_date: date | None) -> ReviewCard:
        return review(card, question_id, grade, at, round_id, exam_date, timezone)

    return apply


def regrade(
    card: ReviewCard, grade: Grade, exam_date: date | None = None, timezone: str = "UTC"
) -> ReviewCard:
    """The latest review done again with another grade (a right answer that was a guess)."""
    at = card.current.last_review
    assert at is not None, "a reviewed card has a review time"
    undone = ReviewCard(
        card.question_id,
        card.previous or card.current,
        card.reviews - 1,
        card.lapses,
        None,
        None,
        None,
    )
    again = review(
        undone if card.previous is not None else None,
        card.question_id,
        grade,
        at,
        card.last_round_id,
        exam_date,
        timezone,
    )
    return replace(again, reviews=card.reviews, previous=card.previous)


def due_before(now: datetime, timezone: str) -> datetime:
    """Cards are due by the day: anything due before the learner's next midnight is due now."""
    return start_of_day(local_today(now, timezone) + timedelta(days=1), timezone)
