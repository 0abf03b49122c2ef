"""Mock exams in the engine: composition, scoring, timing out, stats; on real databases."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bot.engine import LearnerRef, Period, PlaceRef, QuizEngine
from bot.engine.cards import ExamQuestionCard, ExamRefusal, ExamRefused, ExamResultCard
from bot.engine.exam import PASS_MARK, TIME_PER_QUESTION, compose_exam, scaled_score, task_counts
from bot.engine.questions import QuestionBank
from bot.engine.service import EngineError
from tests.conftest import FakeClock

DM = PlaceRef("discord", "guild-e", "dm-ana")
ANA = LearnerRef("discord", "ana", "Ana")
BIA = LearnerRef("discord", "bia", "Bia")


def right(card: ExamQuestionCard) -> list[str]:
    return [o.letter for o in card.options if o.correct]


def wrong(card: ExamQuestionCard) -> list[str]:
    return [o.letter for o in card.options if not o.correct][: card.select_count]


# -- composition -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (20, {"3.1": 7, "3.2": 5, "3.3": 3, "3.4": 5}),  # 6.32 5.26 3.16 5.26: the spare one to 3.1
        (19, {"3.1": 6, "3.2": 5, "3.3": 3, "3.4": 5}),  # exact
        (10, {"3.1": 3, "3.2": 3, "3.3": 1, "3.4": 3}),  # 3.16 2.63 1.58 2.63
        (3, {"3.1": 1, "3.2": 1, "3.3": 0, "3.4": 1}),
        (1, {"3.1": 1, "3.2": 0, "3.3": 0, "3.4": 0}),
        (65, {"3.1": 21, "3.2": 17, "3.3": 10, "3.4": 17}),  # 20.53 17.11 10.26 17.11
    ],
)
def test_task_counts_follow_the_weights_with_largest_remainders(size: int, expected: dict[str, int]) -> None:
    assert task_counts(size, {"3.1": 99, "3.2": 99, "3.3": 99, "3.4": 99}) == expected


def test_task_counts_give_what_a_small_task_cannot_take_to_the_others() -> None:
    counts = task_counts(20, {"3.1": 99, "3.2": 99, "3.3": 1, "3.4": 99})
    assert counts["3.3"] == 1 and sum(counts.values()) == 20
    assert counts == {"3.1": 7, "3.2": 6, "3.3": 1, "3.4": 6}
    with pytest.raises(ValueError, match="cannot fill"):
        task_counts(5, {"3.1": 2, "3.2": 2})


@pytest.mark.parametrize("size", [20, 7, 3])
def test_an_exam_is_composed_by_weight_without_repeats_and_with_multiple_response(
    bank: QuestionBank, size: int
) -> None:
    questions = compose_exam(bank.active(), size, random.Random(size))
    assert len(questions) == len({q.id for q in questions}) == size
    counts = Counter(q.task for q in questions)
    expected = task_counts(size, Counter(q.task for q in bank.active()))
    assert {task: counts[task] for task in expected} == expected
    assert any(q.select_count > 1 for q in questions)


def test_the_same_rng_composes_the_same_exam(bank: QuestionBank) -> None:
    first = compose_exam(bank.active(), 20, random.Random(7))
    again = compose_exam(bank.active(), 20, random.Random(7))
    other = compose_exam(bank.active(), 20, random.Random(8))
    assert [q.id for q in first] == [q.id for q in again] != [q.id for q in other]


def test_multiple_response_is_swapped_in_when_the_draw_has_none(bank: QuestionBank) -> None:
    singles = [q for q in bank.active() if q.select_count == 1]
    multiple = next(q for q in bank.active() if q.select_count > 1)
    for seed in range(20):
        questions = compose_exam([*singles, multiple], 20, random.Random(seed))
        assert multiple in questions and len({q.id for q in questions}) == 20


# -- the scaled estimate ---------------------------------------------------------------


def test_the_scaled_score_is_the_formula_rounded_half_up() -> None:
    assert scaled_score(0, 20) == 100
    assert scaled_score(20, 20) == 1000
    assert scaled_score(14, 20) == 730  # 100 + 630
    assert scaled_score(13, 20) == 685
    assert scaled_score(1, 3) == 400
    assert scaled_score(2, 3) == 700
    assert scaled_score(1, 7) == 229  # 228.57…
    assert scaled_score(1, 8) == 213  # 212.5: half up, not Python's half to even
    assert scaled_score(5, 8) == 663  # 662.5
    with pytest.raises(ValueError):
        scaled_score(4, 3)


# -- running an exam -------------------------------------------------------------------


async def test_an_exam_gives_no_feedback_until_submitted_then_the_full_result(
    engine: QuizEngine, clock: FakeClock
) -> None:
    card = await engine.start_exam(ANA, DM, size=5)
    assert (card.position, card.size, card.answered, card.chosen_letters) == (1, 5, 0, ())
    assert card.deadline == clock.now + 5 * TIME_PER_QUESTION
    seen = []
    for index in range(5):
        assert isinstance(card, ExamQuestionCard) and card.position == index + 1
        seen.append(card)
        letters = right(card) if index in (0, 2, 3) else wrong(card)
        card = await engine.exam_answer(card.exam_id, ANA, card.position, letters)  # type: ignore[assignment]
    assert isinstance(card, ExamQuestionCard) and card.position == 5 and card.answered == 5
    # change an answer before submitting: question 2 from wrong to right
    second = await engine.exam_question(card.exam_id, ANA, 2)
    assert isinstance(second, ExamQuestionCard) and second.chosen_letters == tuple(sorted(wrong(seen[1])))
    changed = await engine.exam_answer(card.exam_id, ANA, 2, right(second))
    assert isinstance(changed, ExamQuestionCard) and changed.position == 3
    result = await engine.submit_exam(card.exam_id, ANA)
    assert isinstance(result, ExamResultCard)
    assert (result.correct, result.total, result.answered, result.expired) == (4, 5, 5, False)
    assert result.scaled_score == 820 and result.passed and result.pass_mark == PASS_MARK
    assert [m.position for m in result.missed] == [5]
    missed = result.missed[0]
    assert missed.question_id == seen[4].question_id and missed.why
    assert missed.chosen_letters == tuple(sorted(wrong(seen[4])))
    assert missed.correct_letters == tuple(sorted(right(seen[4])))
    assert sum(a.attempts for a in result.by_task) == 5 and sum(a.correct for a in result.by_task) == 4
    # a second submit and any later answer are refused: the exam is finished
    again = await engine.submit_exam(card.exam_id, ANA)
    assert isinstance(again, ExamRefused) and again.reason is ExamRefusal.FINISHED
    late = await engine.exam_answer(card.exam_id, ANA, 1, ["A"])
    assert isinstance(late, ExamRefused) and late.reason is ExamRefusal.FINISHED


async def test_nobody_else_may_see_answer_or_submit_an_exam(engine: QuizEngine) -> None:
    card = await engine.start_exam(ANA, DM, size=3)
    await engine.stats(BIA)  # Bia exists as a learner too
    for attempt in (
        engine.exam_question(card.exam_id, BIA, 1),
        engine.exam_answer(card.exam_id, BIA, 1, right(card)),
        engine.submit_exam(card.exam_id, BIA),
        engine.submit_exam(card.exam_id + 999, ANA),
    ):
        refused = await attempt
        assert isinstance(refused, ExamRefused) and refused.reason is ExamRefusal.UNKNOWN
    bad = await engine.exam_answer(card.exam_id, ANA, 1, ["Z"])
    assert isinstance(bad, ExamRefused) and bad.reason is ExamRefusal.INVALID_CHOICE
    assert (await engine.exam_question(card.exam_id, ANA)).answered == 0  # type: ignore[union-attr]


async def test_starting_again_resumes_the_running_exam(engine: QuizEngine) -> None:
    card = await engine.start_exam(ANA, DM, size=3)
    await engine.exam_answer(card.exam_id, ANA, 1, right(card))
    again = await engine.start_exam(ANA, DM, size=10)
    assert (again.exam_id, again.position, again.size, again.answered) == (card.exam_id, 2, 3, 1)
    with pytest.raises(EngineError):
        await engine.start_exam(BIA, DM, size=66)


async def test_an_exam_times_out_with_its_partial_answers(engine: QuizEngine, clock: FakeClock) -> None:
    card = await engine.start_exam(ANA, DM, size=4)
    first = card
    card = await engine.exam_answer(card.exam_id, ANA, 1, right(card))  # type: ignore[assignment]
    await engine.exam_answer(card.exam_id, ANA, 2, wrong(card))
    clock.advance(minutes=5, seconds=59)  # 4 × 1.5 min = 6 min
    assert await engine.expire_exams() == []
    clock.advance(seconds=1)
    late = await engine.exam_answer(first.exam_id, ANA, 3, ["A"])  # the deadline passed: submitted
    assert isinstance(late, ExamResultCard) and late.expired
    assert (late.correct, late.answered, late.total, late.scaled_score) == (1, 2, 4, 325)
    assert {m.position for m in late.missed} == {2, 3, 4}
    assert [m.chosen_letters for m in late.missed if m.position > 2] == [(), ()]
    assert await engine.expire_exams() == []  # submitted once only
    stored = await engine.store.get_exam(first.exam_id)
    assert stored is not None and (stored.correct, stored.scaled_score) == (1, 325)
    assert stored.finished_at == clock.now


async def test_expiry_submits_every_overdue_exam_for_its_platform(
    engine: QuizEngine, clock: FakeClock
) -> None:
    mine = await engine.start_exam(ANA, DM, size=2)
    await engine.exam_answer(mine.exam_id, ANA, 1, right(mine))
    slack = await engine.start_exam(LearnerRef("slack", "U1", "Caio"), PlaceRef("slack", "T1", "D1"), size=1)
    clock.advance(minutes=4)
    results = await engine.expire_exams(platform="discord")
    assert [(r.exam_id, r.correct, r.expired, r.user_id, r.place) for r in results] == [
        (mine.exam_id, 1, True, "ana", DM)
    ]
    assert results[0].scaled_score == 550
    assert [r.exam_id for r in await engine.expire_exams(platform="slack")] == [slack.exam_id]
    # a stale button on the expired exam
    refused = await engine.exam_question(mine.exam_id, ANA, 1)
    assert isinstance(refused, ExamRefused) and refused.reason is ExamRefusal.FINISHED


async def test_finished_exams_show_in_stats_and_never_on_a_leaderboard(
    engine: QuizEngine, clock: FakeClock
) -> None:
    assert (await engine.stats(ANA)).exams is None
    for outcome in ([True, True], [False, False], [True, False]):
        card = await engine.start_exam(ANA, DM, size=2)
        for good in outcome:
            answered = await engine.exam_answer(
                card.exam_id, ANA, card.position, right(card) if good else wrong(card)
            )
            card = answered if isinstance(answered, ExamQuestionCard) else card
        assert isinstance(await engine.submit_exam(card.exam_id, ANA), ExamResultCard)
        clock.advance(minutes=1)
    stats = await engine.stats(ANA, DM)
    assert stats.exams is not None
    assert (stats.exams.count, stats.exams.last_score, stats.exams.best_score, stats.exams.passed) == (
        3,
        550,
        1000,
        1,
    )
    board = await engine.leaderboard(DM, ANA, period=Period.ALL)
    assert board.entries == () and board.total_learners == 0
    assert stats.attempts == 0  # exam answers are not channel or practice attempts


async def test_graded_items_feed_spaced_repetition_once_each(engine: QuizEngine) -> None:
    from bot.engine.spacing import Grade

    card = await engine.start_exam(ANA, DM, size=3)
    first = card.question_id
    second = await engine.exam_answer(card.exam_id, ANA, 1, right(card))
    assert isinstance(second, ExamQuestionCard)
    wrong = [o.letter for o in second.options if not o.correct][: second.select_count]
    await engine.exam_answer(card.exam_id, ANA, 2, wrong)
    await engine.submit_exam(card.exam_id, ANA)
    await engine.submit_exam(card.exam_id, ANA)  # a second submit reviews nothing again
    good = await engine.store.review_card(ANA, first)
    again = await engine.store.review_card(ANA, second.question_id)
    assert good is not None and good.last_grade is Grade.GOOD and good.reviews == 1
    assert again is not None and again.last_grade is Grade.AGAIN and again.reviews == 1
    items = await engine.store.exam_items(card.exam_id)
    never_reached = [i.question_id for i in items if i.answered_at is None]
    assert len(never_reached) == 1 and await engine.store.review_card(ANA, never_reached[0]) is None


async def test_a_result_that_was_not_sent_is_offered_again_until_it_is(
    engine: QuizEngine, clock: FakeClock
) -> None:
    card = await engine.start_exam(ANA, DM, size=1)
    clock.advance(minutes=2)
    first = await engine.expire_exams(platform="discord")
    assert [r.exam_id for r in first] == [card.exam_id]
    assert await engine.expire_exams(platform="discord") == []  # just finished: its sender is at work
    clock.advance(seconds=31)  # the send failed (or the process died): offered again, the same result
    again = await engine.expire_exams(platform="discord")
    assert again == first
    await engine.exam_result_sent(card.exam_id)
    clock.advance(minutes=5)
    assert await engine.expire_exams(platform="discord") == []
    submitted = await engine.start_exam(BIA, DM, size=1)
    await engine.submit_exam(submitted.exam_id, BIA)
    clock.advance(days=2)  # a result nobody managed to send for a day is left alone
    assert await engine.expire_exams(platform="discord") == []


class _Crash(BaseException):
    """The process dying mid-way: nothing in the bot catches it."""


async def test_an_exam_finish_and_its_reviews_commit_together(
    engine: QuizEngine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while the graded answers move their review cards must not leave the exam
    finished without its reviews: the scheduler then finishes it again, with them."""
    from bot.engine import spacing

    card = await engine.start_exam(ANA, DM, size=2)
    await engine.exam_answer(card.exam_id, ANA, 1, right(card))
    clock.advance(minutes=4)

    def crash(*_: object) -> None:
        raise _Crash

    monkeypatch.setattr(spacing, "review", crash)  # the process dies while a card moves
    with pytest.raises(_Crash):
        await engine.expire_exams()
    monkeypatch.undo()
    stored = await engine.store.get_exam(card.exam_id)
    assert stored is not None and stored.finished_at is None  # the finish rolled back with the cards
    assert [r.exam_id for r in await engine.expire_exams()] == [card.exam_id]
    reviewed = await engine.store.review_card(ANA, card.question_id)
    assert reviewed is not None and reviewed.reviews == 1


async def test_a_learners_overdue_exam_is_submitted_at_their_next_start(
    engine: QuizEngine, clock: FakeClock
) -> None:
    """The terminal has no scheduler: its start submits the learner's own exams whose time
    ran out, and only says that one still within its time is running."""
    terminal = PlaceRef("console", "local", "terminal")
    ana, bia = LearnerRef("console", "ana", "Ana"), LearnerRef("console", "bia", "Bia")
    mine = await engine.start_exam(ana, terminal, size=2)
    await engine.exam_answer(mine.exam_id, ana, 1, right(mine))
    other = await engine.start_exam(bia, terminal, size=1)
    assert await engine.submit_overdue_exams(ana, terminal) == []  # within its time: left to resume
    running = await engine.running_exam(ana)
    assert running is not None and (running.exam_id, running.position, running.answered) == (
        mine.exam_id,
        2,
        1,
    )
    clock.advance(minutes=3)
    assert await engine.running_exam(ana) is None
    results = await engine.submit_overdue_exams(ana, terminal)
    assert [(r.exam_id, r.correct, r.answered, r.expired) for r in results] == [(mine.exam_id, 1, 1, True)]
    assert await engine.submit_overdue_exams(ana, terminal) == []  # once
    assert await engine.submit_overdue_exams(LearnerRef("console", "nobody", "N"), terminal) == []
    left = await engine.store.get_exam(other.exam_id)
    assert left is not None and left.finished_at is None  # someone else's waits for them
