"""The quiz engine: the one place where the rules of the game live.

Adapters parse platform events, call a method here and render the card it returns.
Every method is safe to call again with the same input (a retried event, a double
click): the store's unique constraints make writes idempotent, and the engine turns
their outcome into the right card.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast
from zoneinfo import available_timezones

from bot.engine.cards import (
    Accuracy,
    AnswerRefused,
    AnswerResult,
    DayCount,
    ExamMissedItem,
    ExamQuestionCard,
    ExamRefusal,
    ExamRefused,
    ExamResultCard,
    ExamStats,
    FeedbackCard,
    GuessOutcome,
    LeaderboardCard,
    LeaderboardEntry,
    OptionTally,
    ProgressCard,
    QuestionCard,
    RecordedCard,
    RefusalReason,
    RevealCard,
    ReviewItem,
    RoundBusy,
    SessionSummaryCard,
    ShownOption,
    StatsCard,
    StreakEntry,
    StreaksCard,
    WeakSpot,
)
from bot.engine.daily import (
    DEFAULT_GRACE,
    DailySchedule,
    closes_at,
    due_posts,
    parse_days,
    parse_time,
)
from bot.engine.exam import (
    DEFAULT_EXAM_SIZE,
    MAX_EXAM_SIZE,
    PASS_MARK,
    TIME_PER_QUESTION,
    compose_exam,
    exam_reviews,
    scaled_score,
)
from bot.engine.inflight import InFlight
from bot.engine.locale import normalise_locale, resolve_locale
from bot.engine.localtime import local_time, local_today
from bot.engine.lru import LruCache
from bot.engine.model import (
    AnswerWrite,
    AttemptRecord,
    ExamItem,
    ExamRecord,
    FeedbackMode,
    FlagReason,
    FlagSummary,
    ForgetReport,
    LearnerProfile,
    LearnerRef,
    Period,
    PlaceRef,
    PlaceSettings,
    PurgeReport,
    RoundKind,
    RoundRecord,
    Scope,
    ScoredAttempt,
    SessionRecord,
)
from bot.engine.periods import boards_for, period_key, period_label
from bot.engine.ports import AnswerOutcome, Clock, OpenOutcome, QuizStore, utc_now
from bot.engine.questions import Question, QuestionBank
from bot.engine.reminders import (
    TIME_FORMAT,
    Reminder,
    StudyPlan,
    days_until,
    parse_remind_time,
    pending_reminders,
)
from bot.engine.selection import next_for_learner, next_for_place
from bot.engine.spacing import Grade, ReviewCard, due_before, exam_eve, grade_for, regrade, reschedule
from bot.engine.streaks import streaks as count_streaks
from bot.engine.weak import (
    FOCUSES,
    SUMMARY_OBJECTIVES,
    WEAK,
    parse_session_task,
    rank_objectives,
    reference_of,
    session_task,
    weak_pool,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

LETTERS = "ABCDEF"
SETTINGS_TTL = timedelta(seconds=10)
MAX_FLAG_COMMENT = 500
MIN_ROUND_MINUTES, MAX_ROUND_MINUTES = 1, 1440
MAX_TOP = 50
MAX_SESSION = 100
TASKS = ("3.1", "3.2", "3.3", "3.4")
STALE_CLAIM = timedelta(minutes=2)
DEFAULT_RETENTION = timedelta(days=30)
TOP_STREAKS_IN_REVEAL = 3  # a claim with no round after this: its process died


class EngineError(RuntimeError):
    """A request the engine cannot serve (empty bank, unknown session…)."""


class SettingRejected(EngineError):
    """An organiser's setting is not valid; the message says which values are."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"{name}: {value!r} is not valid; expected {allowed}")


@cache
def _time_zones() -> frozenset[str]:
    # tzdata also ships names that are files, not zones a person lives in
    return frozenset(available_timezones()) - {"localtime", "Factory", "posixrules", "posix", "right"}


def validate_setting(name: str, value: object) -> object:
    if name == "timezone":
        if not isinstance(value, str) or value not in _time_zones():
            raise SettingRejected(name, value, "an IANA time zone such as Europe/Berlin or America/Sao_Paulo")
        return value
    if name == "locale":
        if value is None:
            return None
        locale = normalise_locale(str(value))
        if locale is None:
            raise SettingRejected(name, value, "en or pt-BR")
        return locale
    if name == "feedback":
        try:
            return FeedbackMode(str(value))
        except ValueError as error:
            raise SettingRejected(name, value, "immediate or at-close") from error
    if name == "round_minutes":
        if type(value) is not int or not MIN_ROUND_MINUTES <= value <= MAX_ROUND_MINUTES:
            raise SettingRejected(name, value, "a whole number of minutes from 1 to 1440")
        return value
    if name == "organiser_role":
        if value is not None and not (isinstance(value, str) and 0 < len(value) <= 64):
            raise SettingRejected(name, value, "a role id, or nothing to clear it")
        return value
    raise SettingRejected(name, value, "one of timezone, locale, feedback, round_minutes, organiser_role")


def boards_of_attempt(attempt: ScoredAttempt) -> tuple[tuple[str, str], ...]:
    return boards_for(attempt.place, attempt.answered_at, attempt.timezone, attempt.season)


def letter_of(round_: RoundRecord, key: str) -> str:
    return LETTERS[round_.option_order.index(key)]


def shown_options(question: Question, option_order: Sequence[str], locale: str) -> tuple[ShownOption, ...]:
    """The options as lettered for one round or exam item, with what feedback says of each."""
    text = question.text(locale)
    return tuple(
        ShownOption(
            letter=LETTERS[index],
            text=text.options[key],
            correct=key in question.answer,
            why_wrong=None if key in question.answer else text.why_wrong.get(key),
        )
        for index, key in enumerate(option_order)
    )


def parse_letters(raw: Iterable[str]) -> tuple[str, ...]:
    """``["b", "D"]``, ``"BD"`` and ``"b, d"`` all mean B and D."""
    letters: list[str] = []
    for part in raw:
        for char in part.upper():
            if char.isalpha() and char not in letters:
                letters.append(char)
    return tuple(sorted(letters))


class QuizEngine:
    def __init__(
        self,
        store: QuizStore,
        bank: QuestionBank,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        default_locale: str = "en",
        reveal_names: int = 10,
        daily_grace: timedelta = DEFAULT_GRACE,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock
        self.rng = rng or random.Random()
        self.default_locale = default_locale
        self.reveal_names = reveal_names
        self.daily_grace = daily_grace
        self.retention = retention  # how long a departed workspace's data is kept
        self._settings: dict[str, tuple[PlaceSettings, datetime]] = {}
        self._rounds: LruCache[int, RoundRecord] = LruCache(20_000)
        # what a learner is shown after answering depends on the question, the order of its
        # options and the language only: built once, not for each of a round's answers
        self._shown: LruCache[
            tuple[str, tuple[str, ...], str], tuple[tuple[ShownOption, ...], tuple[str, ...]]
        ] = LruCache(4_096)
        self._loading: dict[object, asyncio.Future[Any]] = {}
        self.inflight = InFlight()

    # -- settings ---------------------------------------------------------------------

    async def settings(self, place: PlaceRef) -> PlaceSettings:
        """Workspace settings, cached briefly: they are read on every answer."""
        now = self.clock()
        cached = self._settings.get(place.workspace_scope)
        if cached and now - cached[1] < SETTINGS_TTL:
            return cached[0]
        settings = await self._once(
            ("settings", place.workspace_scope), lambda: self.store.place_settings(place)
        )
        self._settings[place.workspace_scope] = (settings, now)
        return settings

    async def update_settings(self, place: PlaceRef, **changes: object) -> PlaceSettings:
        """Change workspace settings; invalid values raise SettingRejected and change nothing."""
        clean = {name: validate_setting(name, value) for name, value in changes.items()}
        settings = await self.store.update_settings(place, **clean)
        self._settings[place.workspace_scope] = (settings, self.clock())
        return settings

    async def fresh_settings(self, place: PlaceRef) -> PlaceSettings:
        """Settings read now, for anything an organiser may just have changed elsewhere."""
        settings = await self.store.place_settings(place)
        self._settings[place.workspace_scope] = (settings, self.clock())
        return settings

    async def reset_season(self, place: PlaceRef, from_season: int | None = None) -> PlaceSettings:
        """Start a new season: attempts stay, every board counts from now.

        ``from_season`` is the season the organiser saw when confirming; a repeated
        confirmation (a double click) then changes nothing instead of skipping a season.
        """
        current = from_season if from_season is not None else (await self.fresh_settings(place)).season
        settings = await self.store.start_new_season(place, self.clock(), current)
        self._settings[place.workspace_scope] = (settings, self.clock())
        return settings

    def place_locale(self, settings: PlaceSettings) -> str:
        return resolve_locale(None, settings.locale, self.default_locale)

    def learner_locale(self, learner: LearnerRef, settings: PlaceSettings) -> str:
        return resolve_locale(learner.locale, settings.locale, self.default_locale)

    # -- rounds -----------------------------------------------------------------------

    def _question(self, round_: RoundRecord) -> Question:
        question = self.bank.get(round_.question_id)
        if question is None:
            raise EngineError(f"round {round_.id} asks {round_.question_id}, not in the bank")
        return question

    async def _round(self, round_id: int) -> RoundRecord | None:
        cached = self._rounds.get(round_id)
        if cached is not None:
            return cached
        round_ = await self._once(("round", round_id), lambda: self.store.get_round(round_id))
        if round_ is not None and round_.closed_at is None:
            self._rounds.put(round_id, round_)
        return round_

    async def _once(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        """One load per key at a time: a burst of clicks on a round this process has not
        seen yet (after a restart) waits for one read instead of queueing hundreds."""
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._loading[key] = pending
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        return cast(T, await asyncio.shield(pending))

    def question_card(
        self, round_: RoundRecord, locale: str, position: int | None = None, size: int | None = None
    ) -> QuestionCard:
        question = self._question(round_)
        return QuestionCard(
            round_id=round_.id,
            question_id=question.id,
            task=question.task,
            objective=question.objective,
            stem=question.text(locale).stem,
            options=shown_options(question, round_.option_order, locale),
            select_count=question.select_count,
            deadline=round_.deadline,
            locale=locale,
            session_id=round_.session_id,
            position=position,
            session_size=size,
        )

    async def ask(
        self,
        place: PlaceRef,
        *,
        task: str | None = None,
        minutes: int | None = None,
        question_id: str | None = None,
    ) -> QuestionCard | RoundBusy:
        """Open a round in a channel, or point to the one already open there.

        A round whose deadline passed but which no one has closed yet (the closing task
        had not run) is closed here; its reveal rides on the new card
        (``QuestionCard.previous_reveal``) so the adapter can post it first.
        """
        settings = await self.fresh_settings(place)
        locale = self.place_locale(settings)
        if minutes is not None and (
            type(minutes) is not int or not MIN_ROUND_MINUTES <= minutes <= MAX_ROUND_MINUTES
        ):
            raise EngineError(f"a round lasts from {MIN_ROUND_MINUTES} to {MAX_ROUND_MINUTES} minutes")
        previous: RevealCard | None = None
        existing = await self.store.open_channel_round(place)
        if existing is not None:
            if existing.deadline is None or existing.deadline > self.clock():
                return RoundBusy(existing.id, existing.message_ref, locale)
            previous = await self.close(existing.id)
        question = self._choose_for_place(task, question_id, await self.store.place_question_counts(place))
        now = self.clock()
        length = minutes if minutes is not None else settings.round_minutes
        outcome, round_ = await self.store.open_round(
            place,
            question.id,
            RoundKind.CHANNEL,
            True,
            self._shuffle(question),
            now,
            now + timedelta(minutes=length),
        )
        if outcome is OpenOutcome.BUSY:
            return RoundBusy(round_.id, round_.message_ref, locale)
        self._rounds.put(round_.id, round_)
        return replace(self.question_card(round_, locale), previous_reveal=previous)

    def _choose_for_place(
        self, task: str | None, question_id: str | None, counts: dict[str, int]
    ) -> Question:
        if question_id is not None:
            question = self.bank.get(question_id)
            if question is None or question.retired:
                raise EngineError(f"no active question {question_id}")
            return question
        pool = self.bank.active(task)
        if not pool:
            raise EngineError(f"no questions for task {task}" if task else "the bank is empty")
        return next_for_place(pool, counts, self.rng)

    def _shuffle(self, question: Question) -> tuple[str, ...]:
        return tuple(self.rng.sample(question.option_keys, len(question.option_keys)))

    async def question_for(self, round_id: int, locale: str) -> QuestionCard | None:
        """A round's question again (for a form that answers it); None if unknown or closed."""
        round_ = await self._round(round_id)
        if round_ is None or round_.closed_at is not None:
            return None
        return self.question_card(round_, locale)

    async def attach_message(self, round_id: int, message_ref: str) -> None:
        """Remember the platform's reference to the posted message (for edits after restart)."""
        await self.store.set_message_ref(round_id, message_ref)
        cached = self._rounds.get(round_id)
        if cached is not None:
            self._rounds.put(round_id, replace(cached, message_ref=message_ref))

    async def answer(
        self, round_id: int, learner: LearnerRef, letters: Iterable[str], place: PlaceRef | None = None
    ) -> AnswerResult:
        """Record one learner's answer; the card says what to tell them privately.

        ``place`` is where the click happened: a click that names a round of another
        channel (a forged or stale button) is treated as an unknown round. Once shutdown
        has begun (``inflight`` closed) the answer is refused, not half-recorded.
        """
        with self.inflight.admit() as admitted:
            if not admitted:
                locale = resolve_locale(learner.locale, None, self.default_locale)
                return AnswerRefused(RefusalReason.RESTARTING, locale, round_id)
            return await self._answer(round_id, learner, letters, place)

    async def shut_down(self, timeout: float) -> int:  # noqa: ASYNC109 - a bound, not a cancellation scope
        """Stop taking answers and let those in flight commit; returns how many did not
        finish within ``timeout`` seconds."""
        return await self.inflight.close(timeout)

    async def _answer(
        self, round_id: int, learner: LearnerRef, letters: Iterable[str], place: PlaceRef | None
    ) -> AnswerResult:
        round_ = await self._round(round_id)
        if round_ is None or (place is not None and round_.place != place):
            return AnswerRefused(
                RefusalReason.UNKNOWN_ROUND, resolve_locale(learner.locale, None, self.default_locale)
            )
        settings = await self.settings(round_.place)
        locale = self.learner_locale(learner, settings)
        question = self._question(round_)
        shown = LETTERS[: len(round_.option_order)]
        chosen = parse_letters(letters)
        if not chosen or any(letter not in shown for letter in chosen):
            return AnswerRefused(RefusalReason.INVALID_CHOICE, locale, round_id, letters=tuple(shown))
        if len(chosen) != question.select_count:
            return AnswerRefused(
                RefusalReason.WRONG_COUNT, locale, round_id, expected_count=question.select_count
            )
        now = self.clock()
        if round_.closed_at is not None or (round_.deadline is not None and now >= round_.deadline):
            return AnswerRefused(RefusalReason.CLOSED, locale, round_id)
        if round_.session_id is not None:
            session = await self._session_of(round_.session_id, learner)
            if session is None:
                return AnswerRefused(RefusalReason.UNKNOWN_ROUND, locale, round_id)
            if session.finished_at is not None:
                return AnswerRefused(RefusalReason.CLOSED, locale, round_id)
        keys = tuple(sorted(round_.option_order[LETTERS.index(letter)] for letter in chosen))
        correct = frozenset(keys) == question.answer
        try:
            outcome = await self.store.record_answer(
                AnswerWrite(
                    round_id,
                    question.id,
                    learner,
                    keys,
                    "".join(chosen),
                    correct,
                    now,
                    round_.scored,
                    reschedule(question.id, grade_for(correct), now, round_id, settings.timezone),
                )
            )
        except Exception:  # the learner is told to try again; the details go to the log
            log.exception("could not record an answer to round %s from %s", round_id, learner.platform)
            return AnswerRefused(RefusalReason.TRY_AGAIN, locale, round_id)
        if round_.session_id is not None:
            self._rounds.pop(round_id)  # a session round takes one answer: no need to keep it
        if outcome is AnswerOutcome.DUPLICATE:
            return AnswerRefused(RefusalReason.ALREADY_ANSWERED, locale, round_id)
        if outcome is AnswerOutcome.CLOSED:
            self._rounds.pop(round_id)
            return AnswerRefused(RefusalReason.CLOSED, locale, round_id)
        if round_.kind is RoundKind.CHANNEL and settings.feedback is FeedbackMode.AT_CLOSE:
            return RecordedCard(round_id, chosen, round_.deadline, locale)
        return self._feedback(round_, question, chosen, correct, locale)

    def _feedback(
        self, round_: RoundRecord, question: Question, chosen: tuple[str, ...], correct: bool, locale: str
    ) -> FeedbackCard:
        key = (question.id, round_.option_order, locale)
        shown = self._shown.get(key)
        if shown is None:
            shown = (
                shown_options(question, round_.option_order, locale),
                tuple(sorted(letter_of(round_, k) for k in question.answer)),
            )
            self._shown.put(key, shown)
        options, correct_letters = shown
        return FeedbackCard(
            round_id=round_.id,
            question_id=question.id,
            correct=correct,
            chosen_letters=chosen,
            correct_letters=correct_letters,
            options=options,
            why=question.text(locale).why,
            references=question.references,
            locale=locale,
            session_id=round_.session_id,
        )

    async def close_open(self, place: PlaceRef) -> RevealCard | None:
        """Close the channel's open round now (an organiser's command); None if none is open."""
        existing = await self.store.open_channel_round(place)
        return await self.close(existing.id) if existing is not None else None

    async def close(self, round_id: int) -> RevealCard | None:
        """Close a round and build its reveal; None if it was already closed."""
        closed = await self.store.close_round(round_id, self.clock())
        self._rounds.pop(round_id)
        if closed is None:
            return None
        return await self._reveal_card(*closed)

    async def _reveal_card(self, round_: RoundRecord, attempts: Sequence[AttemptRecord]) -> RevealCard:
        """The reveal in the place's language, with the top daily streaks on a daily round."""
        settings = await self.settings(round_.place)
        reveal = self._reveal(round_, attempts, self.place_locale(settings))
        if await self.store.daily_date_of(round_.id) is None:
            return reveal
        answered = {a.learner_id for a in attempts}
        history = await self.store.daily_history(round_.place.platform, round_.place.workspace)
        everyone = await self.store.round_attempts([r for _, r, _ in history])
        top = [
            (s.display_name, s.current)
            for s in count_streaks(history, everyone)
            if s.learner_id in answered and s.current >= 2
        ][:TOP_STREAKS_IN_REVEAL]
        return replace(reveal, streaks=tuple(top))

    async def revealed(self, round_id: int) -> None:
        """The reveal reached the platform: stop offering it in ``unrevealed``."""
        await self.store.mark_revealed(round_id, self.clock())

    async def unrevealed(
        self,
        platform: str,
        older_than: timedelta = timedelta(seconds=30),
        within: timedelta = timedelta(hours=24),
    ) -> list[RevealCard]:
        """Closed rounds whose reveal never got posted (the platform failed, the process
        died): post them again. A day-old reveal is left alone; nobody is waiting for it."""
        now = self.clock()
        found = await self.store.unrevealed_rounds(platform, now - older_than, now - within)
        return [await self._reveal_card(round_, attempts) for round_, attempts in found]

    async def close_due(self, limit: int = 100, platform: str | None = None) -> list[RevealCard]:
        """Close every round whose deadline passed (also those left open by a restart).

        Each adapter passes its own platform: it can only post the reveals of its rounds.
        """
        reveals = []
        for round_id in await self.store.due_rounds(self.clock(), limit, platform):
            reveal = await self.close(round_id)
            if reveal is not None:
                reveals.append(reveal)
        return reveals

    def _reveal(self, round_: RoundRecord, attempts: Sequence[AttemptRecord], locale: str) -> RevealCard:
        question = self._question(round_)
        text = question.text(locale)
        picks: Counter[str] = Counter()
        for attempt in attempts:
            picks.update(attempt.chosen_keys)
        right = [  # a forgotten person still counts in the tally, never by name
            a.display_name
            for a in sorted(attempts, key=lambda a: a.answered_at)
            if a.correct and not a.anonymous
        ]
        shown_right = tuple(right[: self.reveal_names])
        return RevealCard(
            round_id=round_.id,
            question_id=question.id,
            stem=text.stem,
            options=tuple(
                OptionTally(LETTERS[i], text.options[key], key in question.answer, picks[key])
                for i, key in enumerate(round_.option_order)
            ),
            correct_letters=tuple(sorted(letter_of(round_, k) for k in question.answer)),
            total_answers=len(attempts),
            right_names=shown_right,
            more_right=len(right) - len(shown_right),
            why=text.why,
            why_wrong=tuple(
                (LETTERS[i], text.why_wrong[key])
                for i, key in enumerate(round_.option_order)
                if key not in question.answer and key in text.why_wrong
            ),
            references=question.references,
            message_ref=round_.message_ref,
            locale=locale,
            place=round_.place,
        )

    # -- personal sessions ------------------------------------------------------------

    async def _session_of(self, session_id: int, learner: LearnerRef) -> SessionRecord | None:
        """The session, if this learner owns it (nobody may answer or end another's)."""
        session = await self.store.get_session(session_id)
        learner_id = await self.store.learner_id(learner)
        if session is None or learner_id is None or session.learner_id != learner_id:
            return None
        return session

    async def start_session(
        self,
        learner: LearnerRef,
        place: PlaceRef,
        *,
        size: int = 10,
        task: str | None = None,
        scored: bool = False,
        focus: str | None = None,
    ) -> QuestionCard:
        """A personal run of ``size`` questions with immediate feedback.

        Practice (``scored=False``) feeds personal stats only; the terminal game plays
        scored rounds in its own place, so its leaderboard means something.
        ``focus="weak"`` drills the learner's weakest objectives (``bot.engine.weak``).
        """
        if type(size) is not int or not 1 <= size <= MAX_SESSION:
            raise EngineError(f"a session has from 1 to {MAX_SESSION} questions")
        if focus is not None and focus not in FOCUSES:
            raise EngineError(f"unknown focus {focus!r}; expected one of {', '.join(FOCUSES)}")
        if not self.bank.active(task):
            raise EngineError(f"no questions for task {task}" if task else "the bank is empty")
        stored_task = session_task(task, focus)
        session = await self.store.start_session(learner, place, stored_task, size, scored, self.clock())
        card = await self.next_question(session.id, learner)
        assert isinstance(card, QuestionCard)
        return card

    async def next_question(self, session_id: int, learner: LearnerRef) -> QuestionCard | SessionSummaryCard:
        """The session's next question, the unanswered current one again, or the summary.

        Safe to call twice at once (a double click on Next): each position in a session
        is unique in the database, so the second call gets the same question.
        """
        session = await self._session_of(session_id, learner)
        if session is None:
            raise EngineError(f"no session {session_id} for this learner")
        if session.finished_at is not None:
            return await self.finish_session(session_id, learner)
        settings = await self.settings(session.place)
        locale = self.learner_locale(learner, settings)
        rounds = await self.store.session_rounds(session_id)
        attempts = await self.store.session_attempts(session_id)
        answered = {a.round_id for a in attempts}
        pending = [r for r in rounds if r.id not in answered]
        if pending:
            return self.question_card(pending[-1], locale, len(rounds), session.size)
        if len(rounds) >= session.size:
            return await self.finish_session(session_id, learner)
        served = Counter(self._question(r).task for r in rounds)
        in_session = {r.question_id for r in rounds}
        task, focus = parse_session_task(session.task)
        pool: Sequence[Question] = self.bank.active(task)
        if focus == WEAK:
            pool = await self._weak_pool(learner, pool, session.size, {r.id for r in rounds})
        allowed = {q.id for q in pool}
        zone = (await self.profile(learner)).timezone or settings.timezone  # "today" is the learner's
        due_today = await self.due_reviews(learner, zone, limit=len(allowed) + len(in_session))
        due = [q for q in due_today if q in allowed and q not in in_session]
        if due:  # spaced repetition first: what the learner is about to forget
            question = self.bank.get(due[0])
            assert question is not None
        else:
            question = next_for_learner(
                pool, await self.store.learner_history(learner), served, in_session, self.rng
            )
        position = len(rounds) + 1
        _, round_ = await self.store.open_round(
            session.place,
            question.id,
            RoundKind.SESSION,
            session.scored,
            self._shuffle(question),
            self.clock(),
            None,
            session_id,
            position,
        )
        self._rounds.put(round_.id, round_)
        return self.question_card(round_, locale, position, session.size)

    async def finish_session(self, session_id: int, learner: LearnerRef) -> SessionSummaryCard:
        """End a session early or at its last answer; answers so far are already saved."""
        session = await self._session_of(session_id, learner)
        if session is None:
            raise EngineError(f"no session {session_id} for this learner")
        settings = await self.settings(session.place)
        locale = self.learner_locale(learner, settings)
        if session.finished_at is None:
            await self.store.finish_session(session_id, self.clock())
        attempts = await self.store.session_attempts(session_id)
        task, focus = parse_session_task(session.task)
        missed = [
            question
            for attempt in attempts
            if not attempt.correct and (question := self.bank.get(attempt.question_id)) is not None
        ]
        return SessionSummaryCard(
            session_id=session_id,
            answered=len(attempts),
            correct=sum(a.correct for a in attempts),
            size=session.size,
            by_task=_accuracy(attempts, lambda a: self._task_of(a.question_id)),
            to_review=tuple(
                ReviewItem(q.id, q.objective, q.text(locale).stem, q.references[0]) for q in missed
            ),
            locale=locale,
            focus=focus,
            weak_spots=await self.weak_spots(learner, task) if focus == WEAK else (),
        )

    # -- weak-topic drills --------------------------------------------------------------

    async def _weak_pool(
        self, learner: LearnerRef, questions: Sequence[Question], size: int, session_rounds: set[int]
    ) -> list[Question]:
        """The drill's questions: the weakest objectives as they stood when the session
        began (its own answers are left out, so the pool holds still while it runs)."""
        history = [a for a in await self.store.learner_history(learner) if a.round_id not in session_rounds]
        ranking = rank_objectives({q.objective for q in questions}, history, self._objective_of)
        return weak_pool(questions, ranking, size) or list(questions)

    async def weak_spots(
        self, learner: LearnerRef, task: str | None = None, count: int = SUMMARY_OBJECTIVES
    ) -> tuple[WeakSpot, ...]:
        """The learner's ``count`` weakest objectives now (of one task statement, or all),
        each with its recent record and a documentation link."""
        questions = self.bank.active(task)
        ranking = rank_objectives(
            {q.objective for q in questions}, await self.store.learner_history(learner), self._objective_of
        )
        return tuple(
            WeakSpot(s.objective, s.answered, s.correct, reference_of(s.objective, questions))
            for s in ranking[:count]
        )

    # -- spaced repetition, exam date ---------------------------------------------------

    async def guessed(self, round_id: int, learner: LearnerRef) -> bool:
        """The learner says their right answer to this round was a guess: its review
        becomes Hard instead of Good, so the question comes back sooner. False when there
        is nothing to change (a wrong answer, said twice, or a later review came since)."""
        round_ = await self._round(round_id)
        if round_ is None:
            return False
        zone = (await self.settings(round_.place)).timezone

        def as_hard(card: ReviewCard, exam_date: date | None) -> ReviewCard | None:
            if card.last_round_id != round_id or card.last_grade is not Grade.GOOD:
                return None
            return regrade(card, Grade.HARD, exam_date, zone)

        return await self.store.change_review(learner, round_.question_id, as_hard)

    async def guess(self, round_id: int, learner: LearnerRef) -> GuessOutcome:
        """ "I guessed" from a button, with what the reply may say. Under the private
        acknowledgement of a round that keeps results until it closes, the button is offered
        to right and wrong answers alike; until the close the reply is PENDING for any
        answer of the clicker's in the round (Hard only when it was right), so it cannot
        tell them apart. Afterwards, and for immediate feedback, as ``guessed``."""
        round_ = await self._round(round_id)
        if round_ is None or not await self._result_pending(round_):
            return GuessOutcome.NOTED if await self.guessed(round_id, learner) else GuessOutcome.NOTHING
        card = await self.store.review_card(learner, round_.question_id)
        if card is None or card.last_round_id != round_id:
            return GuessOutcome.NOTHING  # no answer of theirs in this round: nothing to hide
        await self.guessed(round_id, learner)
        return GuessOutcome.PENDING

    async def _result_pending(self, round_: RoundRecord) -> bool:
        """Whether answers to this round are still only acknowledged (at-close feedback)."""
        if round_.kind is not RoundKind.CHANNEL or round_.closed_at is not None:
            return False
        if round_.deadline is not None and self.clock() >= round_.deadline:
            return False
        return (await self.settings(round_.place)).feedback is FeedbackMode.AT_CLOSE

    async def due_reviews(self, learner: LearnerRef, timezone: str = "UTC", limit: int = 50) -> list[str]:
        """Questions of the active bank due for this learner today (their local day), soonest first."""
        due = await self.store.due_reviews(learner, due_before(self.clock(), timezone), limit)
        active = {q.id for q in self.bank.active()}
        return [question_id for question_id in due if question_id in active]

    async def profile(self, learner: LearnerRef) -> LearnerProfile:
        return await self.store.learner_profile(learner) or LearnerProfile()

    async def learner_today(self, learner: LearnerRef) -> date:
        """The learner's date: in the zone they gave; without one, the earliest date it is
        anywhere (UTC-12), so "today" is never refused to someone west of Greenwich."""
        zone = (await self.profile(learner)).timezone
        if zone:
            return local_today(self.clock(), zone)
        return (self.clock() - timedelta(hours=12)).date()

    async def set_exam_date(self, learner: LearnerRef, exam_date: date | None) -> LearnerProfile:
        """Set (or clear, with None) the learner's exam date; a date before the learner's
        today is refused. Cards already planned past the exam's eve are brought forward to
        it at once."""
        today = await self.learner_today(learner)
        if exam_date is not None and exam_date < today:
            raise SettingRejected("exam_date", exam_date.isoformat(), "today or a later date (YYYY-MM-DD)")
        profile = await self.store.save_learner_profile(learner, self.clock(), exam_date=exam_date)
        if exam_date is not None:  # cards already planned past the eve come back on it
            eve = exam_eve(exam_date, profile.timezone or "UTC")
            if eve > self.clock():
                await self.store.bring_reviews_forward(learner, eve)
        return profile

    def _task_of(self, question_id: str) -> str:
        question = self.bank.get(question_id)
        return question.task if question else "?"

    def _objective_of(self, question_id: str) -> str:
        question = self.bank.get(question_id)
        return question.objective if question else "?"

    # -- standings and stats ----------------------------------------------------------

    async def leaderboard(
        self,
        place: PlaceRef,
        viewer: LearnerRef | None,
        *,
        scope: Scope = Scope.WORKSPACE,
        period: Period = Period.ALL,
        top: int = 10,
    ) -> LeaderboardCard:
        if type(top) is not int or not 1 <= top <= MAX_TOP:
            raise EngineError(f"a leaderboard shows from 1 to {MAX_TOP} learners")
        now = self.clock()
        board = await self.store.board_snapshot(
            place, scope, lambda s: period_key(period, now, s.timezone, s.season), viewer, top
        )
        entries: list[LeaderboardEntry] = []
        for index, row in enumerate(board.top):
            rank = entries[-1].rank if entries and entries[-1].score == row.score else index + 1
            is_viewer = board.viewer is not None and row.learner_id == board.viewer.learner_id
            entries.append(LeaderboardEntry(rank, row.display_name, row.score, is_viewer))
        settings = board.settings
        return LeaderboardCard(
            scope=scope,
            period=period,
            period_label=period_label(period, now, settings.timezone, settings.season),
            entries=tuple(entries),
            tied_beyond=board.at_least_last - len(entries) if entries else 0,
            viewer_rank=1 + board.above_viewer if board.viewer is not None else None,
            viewer_score=board.viewer.score if board.viewer is not None else None,
            total_learners=board.total,
            locale=self.learner_locale(viewer, settings) if viewer else self.place_locale(settings),
        )

    # -- organisers ---------------------------------------------------------------------

    async def organisers(self, place: PlaceRef) -> set[str]:
        """User ids added as organisers of this workspace (platform admins are extra)."""
        return await self.store.organiser_ids(place)

    async def set_organiser(self, place: PlaceRef, user_id: str, added_by: str, *, add: bool = True) -> bool:
        return await self.store.set_organiser(place, user_id, added_by, self.clock(), add)

    # -- daily questions --------------------------------------------------------------

    async def set_daily(
        self,
        place: PlaceRef,
        at: str,
        *,
        created_by: str,
        timezone: str | None = None,
        days: str | None = None,
        task: str | None = None,
        close_after_minutes: int | None = None,
        mention: str | None = None,
    ) -> DailySchedule:
        """Schedule the channel's daily question (replacing its schedule); bad input raises
        SettingRejected naming the field. The time zone defaults to the workspace's."""
        try:
            parse_time(at)
        except ValueError as error:
            raise SettingRejected("time", at, "a time of day such as 08:30") from error
        zone = (
            validate_setting("timezone", timezone)
            if timezone
            else (await self.fresh_settings(place)).timezone
        )
        try:
            weekdays = parse_days(days)
        except ValueError as error:
            raise SettingRejected("days", days, "days such as mon-fri or mon,wed,fri") from error
        if task is not None and task not in TASKS:
            raise SettingRejected("task", task, "3.1, 3.2, 3.3 or 3.4")
        if close_after_minutes is not None and not 1 <= close_after_minutes <= 1440:
            raise SettingRejected("close_after", close_after_minutes, "1 to 1440 minutes")
        hour, minute = parse_time(at).hour, parse_time(at).minute
        await self.store.save_schedule(
            place,
            f"{hour:02d}:{minute:02d}",
            str(zone),
            "".join(str(d) for d in sorted(weekdays)),
            task,
            close_after_minutes,
            mention,
            created_by,
            self.clock(),
        )
        schedule = await self.store.schedule_of(place)
        assert schedule is not None
        return schedule

    async def daily_schedule(self, place: PlaceRef) -> DailySchedule | None:
        return await self.store.schedule_of(place)

    async def stop_daily(self, place: PlaceRef, reason: str = "turned off") -> bool:
        return await self.store.disable_schedule(place, reason)

    async def run_daily(
        self,
        platform: str,
        claimer: str,
        grace: timedelta | None = None,
        on_card: Callable[[QuestionCard], Awaitable[None]] | None = None,
    ) -> list[QuestionCard]:
        """Open every daily round due now, each claimed by exactly one process.

        A post missed beyond the grace window is claimed as skipped, with a log line, so
        a restart never posts a burst of old questions. The cards returned are for the
        caller to post (a manual round open in the channel is closed first: its reveal
        rides on the card). ``on_card`` gets each card as soon as its round is open, so
        with many channels due at once the first post does not wait for the last round.
        """
        now = self.clock()
        grace = self.daily_grace if grace is None else grace
        cards = []
        plans = [(s, *due_posts(s, now, grace)) for s in await self.store.enabled_schedules(platform)]
        claims = await self.store.daily_claims(
            [(s.id, p.local_date.isoformat()) for s, due, missed in plans for p in (*due, *missed)]
        )
        for schedule, due, missed in plans:
            for post in missed:
                day = post.local_date.isoformat()
                if (schedule.id, day) in claims:
                    continue  # skipped or posted already: nothing to write
                if await self.store.claim_daily(schedule.id, day, "skipped", claimer, now):
                    log.info(
                        "daily question of %s for %s skipped: its time passed more than %s ago",
                        schedule.place.channel_scope,
                        day,
                        grace,
                    )
            for post in due:
                day = post.local_date.isoformat()
                taken = claims.get((schedule.id, day))
                stale = taken is not None and taken.round_id is None and taken.claimed_at < now - STALE_CLAIM
                if taken is not None and not stale:
                    continue  # opened already, or claimed by a live process
                claimed = await self.store.claim_daily(schedule.id, day, "claimed", claimer, now)
                if not claimed and not await self.store.reclaim_daily(
                    schedule.id, day, claimer, now, now - STALE_CLAIM
                ):
                    continue  # another process has it (and is alive, or has opened the round)
                previous = await self.close_open(schedule.place)
                minutes = max(1, math.ceil((closes_at(schedule, post.at) - now).total_seconds() / 60))
                card = await self.ask(
                    schedule.place, task=schedule.task, minutes=min(minutes, MAX_ROUND_MINUTES)
                )
                if not isinstance(card, QuestionCard):  # opened by someone else in between
                    continue
                await self.store.set_daily_round(schedule.id, day, card.round_id)
                card = replace(
                    card,
                    previous_reveal=previous or card.previous_reveal,
                    daily_date=day,
                    mention=schedule.mention,
                )
                cards.append(card)
                if on_card is not None:
                    await on_card(card)
        return cards

    async def unposted(
        self, platform: str, older_than: timedelta = timedelta(seconds=30)
    ) -> list[QuestionCard]:
        """Open rounds whose post was never recorded: post them again. Adapters make the
        repeat harmless (a Discord nonce; Slack message metadata looked up first)."""
        cards = []
        for round_, daily_date in await self.store.unposted_rounds(platform, self.clock() - older_than):
            settings = await self.settings(round_.place)
            card = self.question_card(round_, self.place_locale(settings))
            schedule = await self.store.schedule_of(round_.place) if daily_date else None
            cards.append(replace(card, daily_date=daily_date, mention=schedule.mention if schedule else None))
        return cards

    async def streaks(self, place: PlaceRef, viewer: LearnerRef | None, top: int = 10) -> StreaksCard:
        history = await self.store.daily_history(place.platform, place.workspace)
        attempts = await self.store.round_attempts([round_id for _, round_id, _ in history])
        ranked = count_streaks(history, attempts)
        viewer_id = await self.store.learner_id(viewer) if viewer else None
        mine = next((s for s in ranked if s.learner_id == viewer_id), None)
        entries: list[StreakEntry] = []
        for index, streak in enumerate(ranked[:top]):
            rank = entries[-1].rank if entries and entries[-1].streak == streak.current else index + 1
            entries.append(
                StreakEntry(
                    rank,
                    streak.display_name,
                    streak.current,
                    streak.correct_days,
                    streak.learner_id == viewer_id,
                )
            )
        settings = await self.settings(place)
        return StreaksCard(
            entries=tuple(entries),
            viewer_streak=mine.current if mine else None,
            viewer_best=mine.best if mine else None,
            viewer_correct_days=mine.correct_days if mine else None,
            locale=self.learner_locale(viewer, settings) if viewer else self.place_locale(settings),
        )

    # -- question quality -------------------------------------------------------------

    async def flag_question(
        self,
        learner: LearnerRef,
        question_id: str,
        reason: FlagReason = FlagReason.WRONG,
        comment: str | None = None,
        round_id: int | None = None,
    ) -> None:
        """A learner reports a question as wrong or unclear; flagging again updates the report."""
        if self.bank.get(question_id) is None:
            raise EngineError(f"no question {question_id}")
        text = (comment or "").strip()[:MAX_FLAG_COMMENT] or None
        await self.store.add_flag(learner, question_id, FlagReason(reason), text, round_id, self.clock())

    async def flag_round(
        self,
        learner: LearnerRef,
        round_id: int,
        reason: FlagReason = FlagReason.WRONG,
        comment: str | None = None,
    ) -> str | None:
        """Flag the question a round asked (a Report button); returns its id, None if unknown."""
        round_ = await self._round(round_id)
        if round_ is None:
            return None
        await self.flag_question(learner, round_.question_id, reason, comment, round_id)
        return round_.question_id

    async def open_flags(self) -> list[FlagSummary]:
        return await self.store.flag_summaries()

    async def resolve_flags(self, question_id: str) -> int:
        return await self.store.resolve_flags(question_id, self.clock())

    async def regrade(self, question_id: str) -> RegradeReport:
        """Re-mark every attempt of a question with its current key, then recount the
        boards those attempts count in. Learners keep what they chose; only the verdict moves."""
        question = self.bank.get(question_id)
        if question is None:
            raise EngineError(f"no question {question_id}")
        attempts = await self.store.question_attempts(question_id)
        changes = [
            (aid, frozenset(keys) == question.answer)
            for aid, keys, was in attempts
            if (frozenset(keys) == question.answer) != was
        ]
        workspaces = await self.store.apply_regrade(question_id, changes, boards_of_attempt)
        now_correct = sum(frozenset(keys) == question.answer for _, keys, _ in attempts)
        return RegradeReport(question_id, len(attempts), len(changes), now_correct, tuple(sorted(workspaces)))

    # -- privacy: a person's data, forgetting them, workspaces the bot left ----------

    async def export_learner(self, platform: str, user_id: str) -> dict[str, Any] | None:
        """Everything held about one person (their right of access), JSON-able: their
        learner row, attempts, standings, sessions, reports, organiser grants and daily
        schedules they set. Nothing of anyone else, never a token. None if nothing is held."""
        data = await self.store.learner_data(platform, user_id)
        return {"exported_at": self.clock().isoformat(), **data} if data is not None else None

    async def forget_learner(self, platform: str, user_id: str) -> ForgetReport:
        """Erase one person: their ids and names leave every table. Their attempts stay,
        anonymous and off the leaderboards, so tallies and question statistics do not move;
        the boards they were on are recounted. Safe while answers are written; idempotent
        (a second call finds nothing: ``found`` is False)."""
        return await self.store.forget_learner(platform, user_id, self.clock(), boards_of_attempt)

    async def record_departure(self, platform: str, workspace: str) -> list[PurgeReport]:
        """The bot was removed from a workspace: its data goes once ``retention`` has passed
        (at once when the retention is zero, whose purge reports are returned)."""
        await self.store.record_departure(platform, workspace, self.clock())
        self._drop_workspace(platform, workspace)
        log.info("left %s:%s; its data is purged after %s", platform, workspace, self.retention)
        return await self.purge_departed() if self.retention <= timedelta(0) else []

    async def departed_while_away(
        self, platform: str, present: Iterable[str], mine: Callable[[str], bool]
    ) -> list[str]:
        """Workspaces the bot has data for, that this connection would see (``mine``) but
        does not (``present``), and that are not already leaving: the bot was removed while
        it was down, so no removal event came. Their departure is recorded now."""
        here = set(present)
        leaving = {w for p, w, _ in await self.store.departed_workspaces() if p == platform}
        gone = [
            workspace
            for workspace in await self.store.known_workspaces(platform)
            if workspace not in here and workspace not in leaving and mine(workspace)
        ]
        for workspace in gone:
            await self.record_departure(platform, workspace)
        return gone

    async def cancel_departure(self, platform: str, workspace: str) -> bool:
        """The bot is back in the workspace before its purge: keep everything."""
        cancelled = await self.store.cancel_departure(platform, workspace)
        if cancelled:
            log.info("back in %s:%s; its data is kept", platform, workspace)
        return cancelled

    async def purge_departed(self, now: datetime | None = None) -> list[PurgeReport]:
        """Purge every workspace that left at least ``retention`` before ``now``."""
        cutoff = (now or self.clock()) - self.retention
        reports = []
        for platform, workspace, departed_at in await self.store.departed_workspaces():
            if departed_at > cutoff:
                continue
            report = await self.store.purge_workspace(platform, workspace, cutoff)
            if report is not None:
                self._drop_workspace(platform, workspace)
                log.info(
                    "purged %s:%s (left %s): %d round(s), %d attempt(s), %d learner(s)",
                    platform,
                    workspace,
                    departed_at.date(),
                    report.rounds,
                    report.attempts,
                    report.learners,
                )
                reports.append(report)
        return reports

    def _drop_workspace(self, platform: str, workspace: str) -> None:
        self._settings.pop(PlaceRef(platform, workspace, "").workspace_scope, None)
        self._rounds.discard_if(lambda _, r: (r.place.platform, r.place.workspace) == (platform, workspace))

    async def stats(self, learner: LearnerRef, place: PlaceRef | None = None) -> StatsCard:
        """A learner's own record across every place and practice session."""
        settings, history = await self._history(learner, place)
        return await self._stats_card(learner, place, settings, history)

    async def stats_and_progress(
        self, learner: LearnerRef, place: PlaceRef | None = None, days: int = 30
    ) -> tuple[StatsCard, ProgressCard]:
        """``/quiz stats`` shows both: one read of the learner's history serves the two."""
        settings, history = await self._history(learner, place)
        stats = await self._stats_card(learner, place, settings, history)
        return stats, self._progress_card(learner, settings, history, days)

    async def _history(
        self, learner: LearnerRef, place: PlaceRef | None
    ) -> tuple[PlaceSettings, list[AttemptRecord]]:
        settings = await self.settings(place) if place else PlaceSettings()
        return settings, sorted(await self.store.learner_history(learner), key=lambda a: a.answered_at)

    async def _stats_card(
        self,
        learner: LearnerRef,
        place: PlaceRef | None,
        settings: PlaceSettings,
        history: Sequence[AttemptRecord],
    ) -> StatsCard:
        current = best = 0
        for attempt in history:
            current = current + 1 if attempt.correct else 0
            best = max(best, current)
        daily = best_daily = None
        if place is not None:
            learner_id = await self.store.learner_id(learner)
            days = await self.store.daily_history(place.platform, place.workspace)
            if days and learner_id is not None:
                attempts = await self.store.round_attempts([r for _, r, _ in days])
                mine = next((s for s in count_streaks(days, attempts) if s.learner_id == learner_id), None)
                daily, best_daily = (mine.current, mine.best) if mine else (0, 0)
        return StatsCard(
            daily_streak=daily,
            best_daily_streak=best_daily,
            display_name=history[-1].display_name if history else learner.display_name,
            attempts=len(history),
            correct=sum(a.correct for a in history),
            by_task=_accuracy(history, lambda a: self._task_of(a.question_id)),
            by_objective=_accuracy(history, lambda a: self._objective_of(a.question_id)),
            current_run=current,
            best_run=best,
            first_answer=history[0].answered_at.date() if history else None,
            locale=self.learner_locale(learner, settings),
            exams=await self._exam_stats(learner),
            plan=await self._study_plan(learner, history, settings.timezone),
        )

    async def progress(
        self, learner: LearnerRef, place: PlaceRef | None = None, days: int = 30
    ) -> ProgressCard:
        """What the progress chart shows: accuracy per task statement over every answer,
        and answers per day over the last ``days`` days (today included), cut in the
        place's time zone; days without answers are there with zeros."""
        settings, history = await self._history(learner, place)
        return self._progress_card(learner, settings, history, days)

    def _progress_card(
        self, learner: LearnerRef, settings: PlaceSettings, history: Sequence[AttemptRecord], days: int
    ) -> ProgressCard:
        span = max(1, days)
        today = local_time(self.clock(), settings.timezone).date()
        first = today - timedelta(days=span - 1)
        per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for attempt in history:
            day = local_time(attempt.answered_at, settings.timezone).date()
            if first <= day <= today:
                per_day[day][0] += 1
                per_day[day][1] += int(attempt.correct)
        by_task = {a.key: a for a in _accuracy(history, lambda a: self._task_of(a.question_id))}
        return ProgressCard(
            display_name=history[-1].display_name if history else learner.display_name,
            by_task=tuple(by_task.get(task, Accuracy(task, 0, 0)) for task in TASKS),
            days=tuple(
                DayCount(day, *per_day.get(day, (0, 0)))
                for day in (first + timedelta(days=n) for n in range(span))
            ),
            timezone=settings.timezone,
            locale=self.learner_locale(learner, settings),
        )

    # -- mock exams ---------------------------------------------------------------------

    async def start_exam(
        self,
        learner: LearnerRef,
        place: PlaceRef,
        *,
        size: int = DEFAULT_EXAM_SIZE,
        per_question: timedelta = TIME_PER_QUESTION,
    ) -> ExamQuestionCard:
        """A private timed mock exam in ``place`` (the learner's DM with the bot), or the
        learner's running one (one at a time: a second start resumes it), at its first
        unanswered question. Nothing is revealed until it is submitted or times out."""
        if type(size) is not int or not 1 <= size <= MAX_EXAM_SIZE:
            raise EngineError(f"a mock exam has from 1 to {MAX_EXAM_SIZE} questions")
        learner_id = await self.store.learner_id(learner)
        running = await self.store.running_exam(learner_id, self.clock()) if learner_id else None
        if running is None:
            pool = self.bank.active()
            if len(pool) < size:
                raise EngineError(f"the bank holds {len(pool)} questions, fewer than {size}")
            questions = compose_exam(pool, size, self.rng)
            now = self.clock()
            running = await self.store.create_exam(
                learner, place, [(q.id, self._shuffle(q)) for q in questions], now, now + per_question * size
            )
        card = await self.exam_question(running.id, learner)
        assert isinstance(card, ExamQuestionCard)
        return card

    async def _own_exam(self, exam_id: int, learner: LearnerRef) -> tuple[ExamRecord | None, str]:
        """The exam if this learner owns it (nobody may see or answer another's), and the
        language to speak to them in."""
        exam = await self.store.get_exam(exam_id)  # it carries its learner's platform id
        if exam is None or (exam.place.platform, exam.user_id) != (learner.platform, learner.user_id):
            return None, resolve_locale(learner.locale, None, self.default_locale)
        return exam, self.learner_locale(learner, await self.settings(exam.place))

    async def exam_question(
        self, exam_id: int, learner: LearnerRef, position: int | None = None
    ) -> ExamQuestionCard | ExamResultCard | ExamRefused:
        """One question of a running exam (``None``: the first unanswered one), to show or
        to move to. Past the deadline the exam is submitted and its result returned."""
        exam, locale = await self._own_exam(exam_id, learner)
        if exam is None:
            return ExamRefused(ExamRefusal.UNKNOWN, locale, exam_id)
        if exam.finished_at is not None:
            return ExamRefused(ExamRefusal.FINISHED, locale, exam_id)
        if self.clock() >= exam.deadline:
            return (await self._close_exam(exam, locale, expired=True))[0]
        items = await self.store.exam_items(exam_id)
        if position is None:
            position = next((i.position for i in items if i.chosen_keys is None), len(items))
        return self._exam_card(exam, items, min(max(position, 1), len(items)), locale)

    async def exam_answer(
        self, exam_id: int, learner: LearnerRef, position: int, letters: Iterable[str]
    ) -> ExamQuestionCard | ExamResultCard | ExamRefused:
        """Answer (or change the answer to) one question; returns the next question (the
        same one after the last). No verdict is given before the exam is submitted."""
        exam, locale = await self._own_exam(exam_id, learner)
        if exam is None:
            return ExamRefused(ExamRefusal.UNKNOWN, locale, exam_id)
        if exam.finished_at is not None:
            return ExamRefused(ExamRefusal.FINISHED, locale, exam_id)
        items = await self.store.exam_items(exam_id)
        item = next((i for i in items if i.position == position), None)
        if item is None:
            return ExamRefused(ExamRefusal.UNKNOWN, locale, exam_id)
        question = self.bank.get(item.question_id)
        if question is None:
            raise EngineError(f"exam {exam_id} asks {item.question_id}, not in the bank")
        shown = LETTERS[: len(item.option_order)]
        chosen = parse_letters(letters)
        if not chosen or any(letter not in shown for letter in chosen):
            return ExamRefused(ExamRefusal.INVALID_CHOICE, locale, exam_id, letters=tuple(shown))
        if len(chosen) != question.select_count:
            return ExamRefused(ExamRefusal.WRONG_COUNT, locale, exam_id, expected_count=question.select_count)
        keys = tuple(sorted(item.option_order[LETTERS.index(letter)] for letter in chosen))
        if not await self.store.answer_exam_item(
            exam_id, position, keys, frozenset(keys) == question.answer, self.clock()
        ):
            return await self.exam_question(exam_id, learner, position)  # finished or timed out
        answered = [replace(i, chosen_keys=keys) if i.position == position else i for i in items]
        return self._exam_card(exam, answered, min(position + 1, exam.size), locale)

    async def submit_exam(self, exam_id: int, learner: LearnerRef) -> ExamResultCard | ExamRefused:
        """Submit what was answered (unanswered questions count as wrong) and get the
        result; a second submit (a double click, a stale button) is refused."""
        exam, locale = await self._own_exam(exam_id, learner)
        if exam is None:
            return ExamRefused(ExamRefusal.UNKNOWN, locale, exam_id)
        card, finished_now = await self._close_exam(exam, locale, expired=self.clock() >= exam.deadline)
        return card if finished_now else ExamRefused(ExamRefusal.FINISHED, locale, exam_id)

    async def exam_result(self, exam_id: int, learner: LearnerRef) -> ExamResultCard | ExamRefused:
        """The result of one of this learner's finished exams, again."""
        exam, locale = await self._own_exam(exam_id, learner)
        if exam is None or exam.finished_at is None:
            return ExamRefused(ExamRefusal.UNKNOWN, locale, exam_id)
        items = await self.store.exam_items(exam_id)
        return self._exam_result(exam, items, locale, expired=exam.finished_at >= exam.deadline)

    async def expire_exams(
        self,
        platform: str | None = None,
        limit: int = 100,
        resend_after: timedelta = timedelta(seconds=30),
        within: timedelta = timedelta(hours=24),
    ) -> list[ExamResultCard]:
        """Submit every exam whose time ran out (also those a restart left running), and
        find results that were never sent (finished more than ``resend_after`` ago, less
        than ``within``). Each result carries the place and person it is for: the adapter
        sends it, then calls ``exam_result_sent``."""
        results = []
        for exam_id in await self.store.due_exams(self.clock(), platform, limit):
            exam = await self.store.get_exam(exam_id)
            if exam is None or exam.finished_at is not None:
                continue
            card, finished_now = await self._close_exam(exam, await self._locale_of_exam(exam), expired=True)
            if finished_now:
                results.append(card)
        now = self.clock()
        for exam_id in await self.store.unsent_exam_results(
            platform, now - resend_after, now - within, limit
        ):
            exam = await self.store.get_exam(exam_id)
            if exam is None or exam.finished_at is None or exam_id in {r.exam_id for r in results}:
                continue
            items = await self.store.exam_items(exam_id)
            expired = exam.finished_at >= exam.deadline
            results.append(self._exam_result(exam, items, await self._locale_of_exam(exam), expired))
        return results

    async def submit_overdue_exams(self, learner: LearnerRef, place: PlaceRef) -> list[ExamResultCard]:
        """Submit this learner's exams in ``place`` whose time ran out with nobody there to
        submit them, and return their results (oldest first). For a front end without a
        scheduler (the terminal): a ``quizbot exam`` that was killed is settled at the next
        start, with what was answered, instead of never finishing."""
        learner_id = await self.store.learner_id(learner)
        if learner_id is None:
            return []
        results = []
        for exam_id in await self.store.due_exams(self.clock(), place.platform, learner_id=learner_id):
            exam, locale = await self._own_exam(exam_id, learner)
            if exam is None or exam.place != place or exam.finished_at is not None:
                continue
            card, finished_now = await self._close_exam(exam, locale, expired=True)
            if finished_now:
                results.append(card)
        return results

    async def running_exam(self, learner: LearnerRef) -> ExamQuestionCard | None:
        """The learner's exam still within its time, at its first unanswered question
        (nothing is changed): for saying that one is waiting to be resumed."""
        learner_id = await self.store.learner_id(learner)
        running = await self.store.running_exam(learner_id, self.clock()) if learner_id else None
        if running is None:
            return None
        items = await self.store.exam_items(running.id)
        position = next((i.position for i in items if i.chosen_keys is None), len(items))
        locale = self.learner_locale(learner, await self.settings(running.place))
        try:
            return self._exam_card(running, items, position, locale)
        except EngineError:  # a question gone from a custom bank: nothing to show, no crash
            log.warning("mock exam %s asks a question no longer in the bank", running.id)
            return None

    async def discard_exam_never_shown(self, exam_id: int) -> bool:
        """The exam could not reach the learner (their DMs are closed): forget it, unless an
        answer was given, so no phantom exam expires into their stats."""
        return await self.store.discard_untouched_exam(exam_id)

    async def exam_result_sent(self, exam_id: int) -> None:
        """The result reached the learner: stop offering it in ``expire_exams``."""
        await self.store.mark_exam_result_sent(exam_id, self.clock())

    async def exam_result_undeliverable(self, exam_id: int) -> None:
        """The result can never reach the learner (the app was uninstalled, its token is
        dead, the DM is gone): stop offering it, as if sent, instead of failing every pass
        for a day. The result stays in the learner's stats."""
        await self.exam_result_sent(exam_id)

    async def _locale_of_exam(self, exam: ExamRecord) -> str:
        settings = await self.settings(exam.place)
        return resolve_locale(exam.learner_locale, settings.locale, self.default_locale)

    async def _close_exam(
        self, exam: ExamRecord, locale: str, *, expired: bool
    ) -> tuple[ExamResultCard, bool]:
        """Finish the exam (once, whoever comes first) and build its result; the flag says
        whether this call finished it."""
        zone = (await self.settings(exam.place)).timezone
        # only the call that finishes the exam reviews its items, in the finish's transaction
        graded = await self.store.finish_exam(
            exam.id, self.clock(), scaled_score, lambda items: exam_reviews(items, zone)
        )
        items = graded if graded is not None else await self.store.exam_items(exam.id)
        return self._exam_result(exam, items, locale, expired), graded is not None

    def _exam_card(
        self, exam: ExamRecord, items: Sequence[ExamItem], position: int, locale: str
    ) -> ExamQuestionCard:
        item = items[position - 1]
        question = self.bank.get(item.question_id)
        if question is None:
            raise EngineError(f"exam {exam.id} asks {item.question_id}, not in the bank")
        return ExamQuestionCard(
            exam_id=exam.id,
            position=position,
            size=len(items),
            question_id=question.id,
            task=question.task,
            objective=question.objective,
            stem=question.text(locale).stem,
            options=shown_options(question, item.option_order, locale),
            select_count=question.select_count,
            chosen_letters=self._exam_letters(item, item.chosen_keys or ()),
            answered=sum(i.chosen_keys is not None for i in items),
            deadline=exam.deadline,
            locale=locale,
            place=exam.place,
        )

    @staticmethod
    def _exam_letters(item: ExamItem, keys: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(LETTERS[item.option_order.index(k)] for k in keys if k in item.option_order))

    def _exam_result(
        self, exam: ExamRecord, items: Sequence[ExamItem], locale: str, expired: bool
    ) -> ExamResultCard:
        correct = sum(item.correct is True for item in items)
        missed = []
        for item in items:
            question = self.bank.get(item.question_id)
            if item.correct is True or question is None:
                continue
            missed.append(
                ExamMissedItem(
                    position=item.position,
                    question_id=question.id,
                    task=question.task,
                    objective=question.objective,
                    stem=question.text(locale).stem,
                    options=shown_options(question, item.option_order, locale),
                    chosen_letters=self._exam_letters(item, item.chosen_keys or ()),
                    correct_letters=self._exam_letters(item, question.answer),
                    why=question.text(locale).why,
                    references=question.references,
                )
            )
        tasks = {item.position: self._task_of(item.question_id) for item in items}
        by_task: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in items:
            by_task[tasks[item.position]][0] += 1
            by_task[tasks[item.position]][1] += int(item.correct is True)
        return ExamResultCard(
            exam_id=exam.id,
            correct=correct,
            total=len(items),
            answered=sum(item.chosen_keys is not None for item in items),
            scaled_score=scaled_score(correct, len(items)),
            pass_mark=PASS_MARK,
            by_task=tuple(Accuracy(task, n, right) for task, (n, right) in sorted(by_task.items())),
            missed=tuple(missed),
            expired=expired,
            locale=locale,
            place=exam.place,
            user_id=exam.user_id,
        )

    async def _exam_stats(self, learner: LearnerRef) -> ExamStats | None:
        learner_id = await self.store.learner_id(learner)
        finished = await self.store.finished_exams(learner_id) if learner_id is not None else []
        scores = [exam.scaled_score for exam in finished if exam.scaled_score is not None]
        if not scores:
            return None
        return ExamStats(len(scores), scores[-1], max(scores), sum(s >= PASS_MARK for s in scores))

    # -- the study plan: exam countdown, coverage, daily reminders ---------------------

    async def _study_plan(
        self, learner: LearnerRef, history: Sequence[AttemptRecord], zone: str
    ) -> StudyPlan:
        """The exam countdown (in the learner's own time zone when they set one), the
        share of the active bank answered at least once, and the reviews due today."""
        profile = await self.profile(learner)
        zone = profile.timezone or zone
        active = {q.id for q in self.bank.active()}
        due = await self.due_reviews(learner, zone, limit=max(1, len(active)))
        return StudyPlan(
            exam_date=profile.exam_date,
            days_left=days_until(profile.exam_date, local_today(self.clock(), zone)),
            covered=len({a.question_id for a in history} & active),
            bank_size=len(active),
            due_today=len(due),
        )

    async def set_reminder(
        self, learner: LearnerRef, at: str | None, timezone: str | None = None, workspace: str | None = None
    ) -> LearnerProfile:
        """Remind the learner by direct message at ``at`` (HH:MM in ``timezone``) on the days
        reviews are due; ``None`` turns reminders off. A bad time or zone raises
        SettingRejected naming the format and changes nothing."""
        if at is None:
            return await self.store.save_learner_profile(learner, self.clock(), remind_at=None)
        when = parse_remind_time(at)
        if when is None:
            raise SettingRejected("remind_at", at, TIME_FORMAT)
        zone = validate_setting("timezone", timezone)
        return await self.store.save_learner_profile(
            learner, self.clock(), remind_at=when.strftime("%H:%M"), timezone=zone, remind_workspace=workspace
        )

    async def due_reminders(
        self, now: datetime | None = None, platform: str | None = None, limit: int = 500
    ) -> list[Reminder]:
        """The reminders to send now: the learner's time has come today (their local day),
        they were not reminded today, and at least one review of the active bank is due.
        Claim each (``claim_reminder``) before sending it."""
        now = now or self.clock()
        pending = pending_reminders(await self.store.reminder_profiles(platform), now)
        if not pending:
            return []
        cutoffs = {entry.learner_id: due_before(now, str(entry.profile.timezone)) for entry, _ in pending}
        due = await self.store.due_questions_of(cutoffs)
        active = {q.id for q in self.bank.active()}
        reminders = []
        for entry, today in pending:
            count = sum(question_id in active for question_id in due.get(entry.learner_id, ()))
            if count:
                reminders.append(
                    Reminder(
                        learner_id=entry.learner_id,
                        platform=entry.learner.platform,
                        user_id=entry.learner.user_id,
                        workspace=entry.profile.remind_workspace,
                        local_date=today,
                        due=count,
                        days_left=days_until(entry.profile.exam_date, today),
                        locale=resolve_locale(entry.learner.locale, None, self.default_locale),
                        previous=entry.profile.reminded_on,
                    )
                )
        return reminders[:limit]  # the rest next minute: learners with nothing due never crowd them out

    async def claim_reminder(self, reminder: Reminder) -> bool:
        """Take the day's reminder for this learner; False when another scheduler did (or
        the learner turned reminders off meanwhile): then it is not sent."""
        return await self.store.claim_reminder(reminder.learner_id, reminder.local_date)

    async def release_reminder(self, reminder: Reminder) -> None:
        """Sending failed for a reason that may pass (the platform was down): give the day
        back so that a later tick tries again."""
        await self.store.release_reminder(reminder.learner_id, reminder.local_date, reminder.previous)


@dataclass(frozen=True)
class RegradeReport:
    question_id: str
    attempts: int
    changed: int
    now_correct: int
    workspaces: tuple[str, ...]


def _accuracy(
    attempts: Iterable[AttemptRecord], key_of: Callable[[AttemptRecord], str]
) -> tuple[Accuracy, ...]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for attempt in attempts:
        bucket = totals[key_of(attempt)]
        bucket[0] += 1
        bucket[1] += int(attempt.correct)
    return tuple(Accuracy(k, v[0], v[1]) for k, v in sorted(totals.items()))
