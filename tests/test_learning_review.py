"""Learning features where they meet each other and the rest of the bot: the exam eve,
an exam date set late, a damaged card, a purge, due-first with many cards, reminder days
across a time-zone change, and mock-exam reviews arriving late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.store import SqlStore
from bot.store.tables import attempts, learner_profiles, learners, review_cards
from tests.conftest import FakeClock
from tests.test_sessions import letters

PLACE = PlaceRef("discord", "guild-r8", "c1")
ANA = LearnerRef("discord", "ana", "Ana")
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def answer_one(engine: QuizEngine, correct: bool, task: str | None = None) -> QuestionCard:
    card = await engine.start_session(ANA, PLACE, size=1, task=task)
    assert isinstance(card, QuestionCard)
    assert isinstance(await engine.answer(card.round_id, ANA, letters(card, correct)), FeedbackCard)
    return card


# 1. The exam eve: a review done the day before the exam never clears the card -------------


async def test_a_review_on_the_exam_eve_clears_the_card(engine: QuizEngine, clock: FakeClock) -> None:
    await engine.set_exam_date(ANA, (NOON + timedelta(days=1)).date())  # the exam is tomorrow
    card = await answer_one(engine, True)
    # answered right a second ago: it must not be "due today" again (README: "practice serves
    # the questions due today first"; stats count "reviews due today")
    assert card.question_id not in await engine.due_reviews(ANA)


# 2. An exam date set after cards were scheduled does not bring them forward ---------------


async def test_an_exam_date_brings_cards_already_scheduled_forward(
    engine: QuizEngine, clock: FakeClock
) -> None:
    card = await answer_one(engine, True)  # Good: due in 2 days
    clock.advance(days=2)
    again = await engine.start_session(ANA, PLACE, size=1)
    assert isinstance(again, QuestionCard) and again.question_id == card.question_id  # due first
    await engine.answer(again.round_id, ANA, letters(again, True))  # Good again: due in 11 days
    scheduled = await engine.store.review_card(ANA, card.question_id)
    assert scheduled is not None and scheduled.current.due - clock.now >= timedelta(days=10)
    exam = (clock.now + timedelta(days=4)).date()
    await engine.set_exam_date(ANA, exam)  # README: "no review is scheduled on or after it"
    clock.now = datetime.combine(exam - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=12)
    assert card.question_id in await engine.due_reviews(ANA)  # the eve: it should come back


# 3. A broken review card loses the answer (no error isolation) ---------------------------


async def test_a_bad_review_card_does_not_lose_the_answer(engine: QuizEngine, store: SqlStore) -> None:
    first = await answer_one(engine, False)
    async with store.db.write() as conn:  # a card FSRS cannot read (e.g. a bad row, a future fsrs)
        await conn.execute(update(review_cards).values(state=9))
    c2 = PlaceRef("discord", "guild-r8", "c2")
    card = await engine.ask(c2, question_id=first.question_id)
    assert isinstance(card, QuestionCard)
    result = await engine.answer(card.round_id, ANA, letters(card, True), place=c2)
    async with store.db.read() as conn:
        recorded = (
            await conn.execute(select(func.count()).where(attempts.c.round_id == card.round_id))
        ).scalar_one()
    assert recorded == 1, f"the answer was lost because of its review card: {result!r}"


# 4. Purge leaves learner_profiles of people who only set an exam date or reminder there ---


async def test_a_purge_removes_profiles_set_in_the_departed_workspace(
    engine: QuizEngine, store: SqlStore, clock: FakeClock
) -> None:
    only_plan = LearnerRef("slack", "UPLANONLY", "Plan Only")
    t1 = PlaceRef("slack", "T1", "C1")
    await engine.ask(t1)  # the workspace has data
    await engine.set_exam_date(only_plan, (clock.now + timedelta(days=30)).date())
    await engine.set_reminder(only_plan, "08:00", "UTC", "T1")
    await engine.record_departure("slack", "T1")
    clock.advance(days=31)
    (report,) = await engine.purge_departed()
    assert report.workspace == "T1"
    async with store.db.read() as conn:
        names = set((await conn.execute(select(learners.c.user_id))).scalars())
        profiles = (await conn.execute(select(func.count()).select_from(learner_profiles))).scalar_one()
    assert "UPLANONLY" not in names and profiles == 0, (names, profiles)


# 5. Due-first in a task-filtered practice misses due cards past the 50 soonest ----------


async def test_task_practice_serves_its_due_review_first_whatever_other_tasks_hold(
    engine: QuizEngine, clock: FakeClock
) -> None:
    for _ in range(51):  # 51 questions of 3.1 missed: due tomorrow, soonest
        await answer_one(engine, False, task="3.1")
    clock.advance(minutes=5)
    missed_32 = await answer_one(engine, False, task="3.2")  # one of 3.2, due a bit later
    clock.advance(days=1)
    first = await engine.start_session(ANA, PLACE, size=1, task="3.2")
    assert isinstance(first, QuestionCard)
    assert first.question_id == missed_32.question_id  # README: "serves the questions due today first"


# 7. The reminder's button does not start the reviews the reminder announced --------------


async def test_the_reminders_start_button_serves_the_reviews_it_announced(
    engine: QuizEngine, clock: FakeClock
) -> None:
    tokyo = "Asia/Tokyo"
    clock.now = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
    missed = await answer_one(engine, False)  # due tomorrow 09:30 Tokyo (00:30 UTC)
    await engine.set_reminder(ANA, "08:00", tokyo, "guild-r8")
    clock.now = datetime(2026, 11, 26, 23, 5, tzinfo=UTC)  # 08:05 on the 27th in Tokyo
    (reminder,) = await engine.due_reminders()
    assert reminder.due == 1  # "you have 1 review due"
    assert (await engine.stats(ANA)).plan.due_today == 1  # type: ignore[union-attr]
    dm = PlaceRef("discord", "dm", "dm-channel")  # the "Start my reviews" button: practice in the DM
    first = await engine.start_session(ANA, dm, size=10)
    assert isinstance(first, QuestionCard)
    assert first.question_id == missed.question_id, "the announced review is not served first"


# 8. "At most once a day" breaks when the learner's zone changes after a reminder ----------


async def test_changing_the_zone_does_not_bring_a_second_reminder_the_same_day(
    engine: QuizEngine, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    await answer_one(engine, False)  # due from 2026-11-26 12:00 UTC
    await engine.set_reminder(ANA, "08:00", "Pacific/Auckland", "guild-r8")
    clock.now = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # 08:30 on the 27th in Auckland
    (first,) = await engine.due_reminders()
    assert await engine.claim_reminder(first)  # sent
    clock.now += timedelta(minutes=5)
    await engine.set_reminder(ANA, "08:00", "America/Sao_Paulo", "guild-r8")  # e.g. Slack tz changed
    # 16:35 on the 26th in São Paulo: five minutes after the first, a second one goes out
    assert await engine.due_reminders() == []


# 9. A mock exam's reviews are applied at finish, on top of later reviews: the card goes back


async def test_exam_reviews_never_move_a_card_back_in_time(engine: QuizEngine, clock: FakeClock) -> None:
    dm = PlaceRef("discord", "guild-r8", "dm-ana")
    exam = await engine.start_exam(ANA, dm, size=2)
    right = [o.letter for o in exam.options if o.correct][: exam.select_count]
    await engine.exam_answer(exam.exam_id, ANA, 1, right)  # t1
    clock.advance(minutes=1)
    channel = PlaceRef("discord", "guild-r8", "c9")
    round_card = await engine.ask(channel, question_id=exam.question_id)
    assert isinstance(round_card, QuestionCard)
    await engine.answer(round_card.round_id, ANA, letters(round_card, True), place=channel)  # t2 > t1
    later = await engine.store.review_card(ANA, exam.question_id)
    clock.advance(minutes=1)
    await engine.submit_exam(exam.exam_id, ANA)  # t3: the exam's review (at t1) is applied now
    card = await engine.store.review_card(ANA, exam.question_id)
    assert later is not None and card is not None
    assert card.current.last_review == later.current.last_review, (later.current, card.current)
    assert await engine.guessed(round_card.round_id, ANA)  # the later round's "I guessed" still works


async def test_the_export_holds_every_column_of_the_learning_tables(engine: QuizEngine) -> None:
    await answer_one(engine, False)
    exam = await engine.start_exam(ANA, PlaceRef("discord", "dm", "dm-ana"), size=1)
    await engine.submit_exam(exam.exam_id, ANA)
    data = await engine.export_learner("discord", "ana")
    assert data is not None
    (card,) = data["review_cards"]
    assert {"state", "stability", "difficulty", "due", "last_grade", "prev_state", "prev_due"} <= set(card)
    (taken,) = data["mock_exams"]
    assert {"deadline", "finished_at", "scaled_score", "result_sent_at"} <= set(taken)


async def test_ids_no_column_could_hold_are_unknown_not_errors(engine: QuizEngine) -> None:
    from bot.engine import AnswerRefused
    from bot.engine.cards import ExamRefused, RefusalReason

    forged = 10**17  # a Discord-sized number in a forged custom_id; PostgreSQL's int4 cannot hold it
    refused = await engine.answer(forged, ANA, ["A"])
    assert isinstance(refused, AnswerRefused) and refused.reason is RefusalReason.UNKNOWN_ROUND
    assert not await engine.guessed(forged, ANA)
    assert isinstance(await engine.submit_exam(forged, ANA), ExamRefused)
