"""Spaced repetition (FSRS) over weeks with an injected clock: cards as rows, due reviews
first, "I guessed", the exam-date cap, and a restart in between."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.questions import QuestionBank
from bot.engine.service import SettingRejected
from bot.engine.spacing import Grade, cap_for_exam, due_before, regrade, review
from bot.store import Database, SqlStore
from tests.conftest import FakeClock
from tests.test_sessions import letters

PLACE = PlaceRef("discord", "guild-fsrs", "c1")
ANA = LearnerRef("discord", "ana", "Ana")
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


# -- the rules alone ---------------------------------------------------------------


def test_wrong_comes_back_tomorrow_and_right_ever_later() -> None:
    wrong = review(None, "q", Grade.AGAIN, NOON)
    assert wrong.current.due - NOON == timedelta(days=1) and wrong.reviews == 1
    card, gaps = None, []
    at = NOON
    for _ in range(4):
        card = review(card, "q", Grade.GOOD, at)
        gaps.append((card.current.due - at).days)
        at = card.current.due
    assert gaps == sorted(gaps) and gaps[0] >= 1 and gaps[-1] > 10  # by whole days, growing
    assert card is not None and card.reviews == 4 and card.lapses == 0
    lapsed = review(card, "q", Grade.AGAIN, at)
    assert lapsed.lapses == 1  # forgotten: back far sooner than the last gap, still a whole day away
    assert timedelta(days=1) <= lapsed.current.due - at < timedelta(days=gaps[-1] / 4)


def test_a_guess_brings_the_question_back_sooner_than_a_sure_answer() -> None:
    first = review(None, "q", Grade.GOOD, NOON)
    sure = review(first, "q", Grade.GOOD, NOON + timedelta(days=2), round_id=7)
    guessed = regrade(sure, Grade.HARD)
    assert guessed.current.due < sure.current.due
    assert guessed.last_grade is Grade.HARD and guessed.reviews == sure.reviews == 2
    assert guessed == review(first, "q", Grade.HARD, NOON + timedelta(days=2), round_id=7)
    assert regrade(review(None, "q", Grade.GOOD, NOON), Grade.HARD) == review(None, "q", Grade.HARD, NOON)


def test_the_exam_date_caps_every_interval() -> None:
    exam = date(2026, 12, 1)
    far = NOON + timedelta(days=30)
    capped = cap_for_exam(far, NOON, exam, "America/Sao_Paulo")
    assert capped == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # the day before, São Paulo's midnight
    soon = NOON + timedelta(days=2)
    assert cap_for_exam(soon, NOON, exam, "UTC") == soon  # already before
    assert cap_for_exam(far, datetime(2026, 12, 2, tzinfo=UTC), exam, "UTC") == far  # the exam has passed
    eve = datetime(2026, 11, 30, 18, tzinfo=UTC)
    assert cap_for_exam(far, eve, exam, "UTC") == far  # reviewed on the eve: done until after the exam


def test_due_means_before_the_learners_next_midnight() -> None:
    assert due_before(NOON, "UTC") == datetime(2026, 11, 27, tzinfo=UTC)
    assert due_before(datetime(2026, 11, 27, 2, tzinfo=UTC), "America/Sao_Paulo") == datetime(
        2026, 11, 27, 3, tzinfo=UTC
    )  # still the 26th in São Paulo


# -- through the engine and a real database ---------------------------------------


async def practise(engine: QuizEngine, outcomes: list[bool], task: str | None = None) -> list[str]:
    """One practice session; returns the questions in the order served."""
    card = await engine.start_session(ANA, PLACE, size=len(outcomes), task=task)
    served = []
    for correct in outcomes:
        assert isinstance(card, QuestionCard) and card.session_id is not None
        served.append(card.question_id)
        assert isinstance(await engine.answer(card.round_id, ANA, letters(card, correct)), FeedbackCard)
        card = await engine.next_question(card.session_id, ANA)  # type: ignore[assignment]
    return served


async def test_practice_serves_due_reviews_first_across_a_restart(
    engine: QuizEngine, clock: FakeClock, database_url: str, bank: QuestionBank
) -> None:
    first = await practise(engine, [False, True, False, True], task="3.3")
    missed = [first[0], first[2]]
    card = await engine.store.review_card(ANA, first[0])
    assert card is not None and card.current.due == clock.now + timedelta(days=1)
    assert await engine.due_reviews(ANA) == []  # nothing is due the same day

    clock.advance(days=1)
    restarted = QuizEngine(SqlStore(Database(database_url)), bank, clock=clock, rng=random.Random(9))
    try:
        assert sorted(await restarted.due_reviews(ANA)) == sorted(missed)
        again = await practise(restarted, [True, True, True])  # any task: the due ones lead
        assert sorted(again[:2]) == sorted(missed)
        assert again[2] not in first  # then the foundation's policy: unseen first
        assert await restarted.due_reviews(ANA) == []
        for question_id in missed:  # right this time: a longer interval than the first day
            moved = await restarted.store.review_card(ANA, question_id)
            assert (
                moved is not None and moved.reviews == 2 and moved.current.due > clock.now + timedelta(days=1)
            )
    finally:
        await restarted.store.close()  # type: ignore[attr-defined]


async def test_weeks_of_daily_practice_serve_due_cards_in_due_order(
    engine: QuizEngine, clock: FakeClock
) -> None:
    rng = random.Random(4)
    for _day in range(21):
        due = await engine.due_reviews(ANA)
        served = await practise(engine, [rng.random() < 0.7 for _ in range(len(due) + 2)])
        assert served[: len(due)] == due  # every due card first, soonest first
        clock.advance(days=1)
    cards = [await engine.store.review_card(ANA, q.id) for q in engine.bank.active()]
    reviewed = [c for c in cards if c is not None]
    assert len(reviewed) >= 40 and all(c.current.due > clock.now - timedelta(days=1) for c in reviewed)
    assert any(c.reviews >= 3 for c in reviewed)


async def test_i_guessed_turns_good_into_hard_once(engine: QuizEngine, clock: FakeClock) -> None:
    card = await engine.start_session(ANA, PLACE, size=2)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, ANA, letters(card, True))
    sure = await engine.store.review_card(ANA, card.question_id)
    assert sure is not None and sure.last_grade is Grade.GOOD
    assert await engine.guessed(card.round_id, ANA)
    hard = await engine.store.review_card(ANA, card.question_id)
    assert hard is not None and hard.last_grade is Grade.HARD and hard.current.due < sure.current.due
    assert not await engine.guessed(card.round_id, ANA)  # said twice: nothing more changes
    assert not await engine.guessed(card.round_id, LearnerRef("discord", "bob", "Bob"))  # not Bob's answer

    assert card.session_id is not None
    wrong = await engine.next_question(card.session_id, ANA)
    assert isinstance(wrong, QuestionCard)
    await engine.answer(wrong.round_id, ANA, letters(wrong, False))
    assert not await engine.guessed(wrong.round_id, ANA)  # a wrong answer is Again already


async def test_i_guessed_before_an_at_close_round_closes_says_the_same_to_everyone(
    engine: QuizEngine, clock: FakeClock
) -> None:
    from bot.engine.cards import GuessOutcome, RecordedCard

    await engine.update_settings(PLACE, feedback="at-close")
    card = await engine.ask(PLACE, minutes=10)
    assert isinstance(card, QuestionCard)
    bia = LearnerRef("discord", "bia", "Bia")
    assert isinstance(await engine.answer(card.round_id, ANA, letters(card, True), place=PLACE), RecordedCard)
    assert isinstance(
        await engine.answer(card.round_id, bia, letters(card, False), place=PLACE), RecordedCard
    )
    assert await engine.guess(card.round_id, ANA) is GuessOutcome.PENDING
    assert await engine.guess(card.round_id, bia) is GuessOutcome.PENDING  # the same: nothing given away
    assert await engine.guess(card.round_id, ANA) is GuessOutcome.PENDING  # and again
    right = await engine.store.review_card(ANA, card.question_id)
    wrong = await engine.store.review_card(bia, card.question_id)
    assert right is not None and right.last_grade is Grade.HARD
    assert wrong is not None and wrong.last_grade is Grade.AGAIN
    nobody = LearnerRef("discord", "cy", "Cy")
    assert await engine.guess(card.round_id, nobody) is GuessOutcome.NOTHING  # no answer of theirs
    clock.advance(minutes=10)  # closed: the result is out, so the reply may say it
    assert await engine.guess(card.round_id, bia) is GuessOutcome.NOTHING
    assert await engine.guess(987654321, ANA) is GuessOutcome.NOTHING


async def test_channel_rounds_schedule_reviews_too(engine: QuizEngine) -> None:
    card = await engine.ask(PLACE)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, ANA, letters(card, False), place=PLACE)
    scheduled = await engine.store.review_card(ANA, card.question_id)
    assert (
        scheduled is not None
        and scheduled.last_grade is Grade.AGAIN
        and scheduled.last_round_id == card.round_id
    )


async def test_an_exam_date_brings_reviews_before_it(engine: QuizEngine, clock: FakeClock) -> None:
    with pytest.raises(SettingRejected):
        await engine.set_exam_date(ANA, clock.now.date() - timedelta(days=1))
    exam = clock.now.date() + timedelta(days=6)
    assert (await engine.set_exam_date(ANA, exam)).exam_date == exam
    card = await engine.start_session(ANA, PLACE, size=1)
    assert isinstance(card, QuestionCard)
    for day in range(5):  # right every time: FSRS alone would soon push it weeks away
        clock.now = NOON + timedelta(days=day)
        round_card = await engine.ask(PlaceRef("discord", "guild-fsrs", f"day{day}"))
        assert isinstance(round_card, QuestionCard)
        await engine.answer(round_card.round_id, ANA, letters(round_card, True))
        moved = await engine.store.review_card(ANA, round_card.question_id)
        assert moved is not None
        assert moved.current.due <= datetime.combine(exam - timedelta(days=1), datetime.min.time(), UTC)
    assert (await engine.set_exam_date(ANA, None)).exam_date is None


async def test_today_is_the_learners_own_day_when_they_gave_a_time_zone(
    engine: QuizEngine, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    missed = (await practise(engine, [False]))[0]  # due 2026-11-27 01:00 UTC
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert missed not in await engine.due_reviews(ANA)  # UTC's 26th ends before it is due
    assert (await practise(engine, [True]))[0] != missed
    await engine.store.save_learner_profile(ANA, clock.now, timezone="America/Sao_Paulo")
    assert (await practise(engine, [True]))[0] == missed  # São Paulo's 26th ends at 03:00 UTC


def test_the_first_review_shortcut_equals_fsrs_itself() -> None:
    from fsrs import Card, Rating

    from bot.engine.spacing import _scheduler

    for at in (NOON, datetime(2027, 3, 1, 23, 59, 59, tzinfo=UTC)):
        for grade in Grade:
            card, _ = _scheduler().review_card(Card(card_id=0), Rating(int(grade)), at)
            ours = review(None, "q", grade, at).current
            assert (ours.state, ours.step, ours.stability, ours.difficulty, ours.due, ours.last_review) == (
                int(card.state),
                card.step,
                card.stability,
                card.difficulty,
                card.due,
                card.last_review,
            )
