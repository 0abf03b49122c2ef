"""Channel rounds through the real engine and store, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.engine import (
    AnswerRefused,
    FeedbackCard,
    FeedbackMode,
    LearnerRef,
    PlaceRef,
    QuestionCard,
    QuizEngine,
    RecordedCard,
    RoundBusy,
)
from bot.engine.cards import RefusalReason
from bot.engine.questions import Question, QuestionBank
from bot.store import Database, SqlStore
from tests.conftest import FakeClock

PLACE = PlaceRef("discord", "guild-1", "chan-1")
OTHER_PLACE = PlaceRef("discord", "guild-1", "chan-2")


def learner(n: int, locale: str | None = None) -> LearnerRef:
    return LearnerRef("discord", f"user-{n}", f"User {n}", locale)


def letters_for(card: QuestionCard, correct: bool) -> list[str]:
    """The letters of the right options, or of as many wrong ones."""
    wanted = [o.letter for o in card.options if o.correct == correct]
    return wanted[: card.select_count]


def first_question(bank: QuestionBank, kind: str) -> Question:
    return next(q for q in bank if q.type == kind)


async def ask(engine: QuizEngine, place: PlaceRef = PLACE, **kwargs: object) -> QuestionCard:
    card = await engine.ask(place, **kwargs)  # type: ignore[arg-type]
    assert isinstance(card, QuestionCard)
    return card


async def test_round_answer_close_reveal(engine: QuizEngine, clock: FakeClock) -> None:
    card = await ask(engine)
    assert card.deadline == clock.now + timedelta(minutes=10)  # the place's default length
    right = await engine.answer(card.round_id, learner(1), letters_for(card, True), place=PLACE)
    wrong = await engine.answer(card.round_id, learner(2), letters_for(card, False), place=PLACE)
    assert isinstance(right, FeedbackCard) and right.correct
    assert isinstance(wrong, FeedbackCard) and not wrong.correct
    assert right.correct_letters == tuple(sorted(letters_for(card, True)))
    assert wrong.why and wrong.references
    reveal = await engine.close(card.round_id)
    assert reveal is not None
    assert reveal.total_answers == 2
    assert reveal.right_names == ("User 1",)
    picks = {o.letter: o.picks for o in reveal.options}
    for letter in letters_for(card, True):
        assert picks[letter] >= 1
    assert sum(picks.values()) == 2 * card.select_count
    assert reveal.correct_letters == right.correct_letters
    assert len(reveal.why_wrong) == len(card.options) - card.select_count
    assert await engine.close(card.round_id) is None  # closing twice changes nothing


async def test_second_answer_is_refused_and_changes_nothing(engine: QuizEngine) -> None:
    card = await ask(engine)
    first = await engine.answer(card.round_id, learner(1), letters_for(card, False), place=PLACE)
    again = await engine.answer(card.round_id, learner(1), letters_for(card, True), place=PLACE)
    assert isinstance(first, FeedbackCard) and not first.correct
    assert isinstance(again, AnswerRefused) and again.reason is RefusalReason.ALREADY_ANSWERED
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.total_answers == 1 and reveal.right_names == ()


async def test_answers_after_close_and_after_deadline_are_refused(
    engine: QuizEngine, clock: FakeClock
) -> None:
    card = await ask(engine, minutes=5)
    await engine.close(card.round_id)
    late = await engine.answer(card.round_id, learner(1), letters_for(card, True), place=PLACE)
    assert isinstance(late, AnswerRefused) and late.reason is RefusalReason.CLOSED
    card2 = await ask(engine, minutes=5)
    clock.advance(minutes=5)
    expired = await engine.answer(card2.round_id, learner(1), letters_for(card2, True), place=PLACE)
    assert isinstance(expired, AnswerRefused) and expired.reason is RefusalReason.CLOSED
    reveals = await engine.close_due()
    assert [r.round_id for r in reveals] == [card2.round_id]
    assert reveals[0].total_answers == 0


async def test_one_open_round_per_channel(engine: QuizEngine) -> None:
    card = await ask(engine)
    busy = await engine.ask(PLACE)
    assert isinstance(busy, RoundBusy) and busy.open_round_id == card.round_id
    elsewhere = await engine.ask(OTHER_PLACE)
    assert isinstance(elsewhere, QuestionCard) and elsewhere.round_id != card.round_id
    await engine.close(card.round_id)
    assert isinstance(await engine.ask(PLACE), QuestionCard)


async def test_concurrent_asks_open_one_round(engine: QuizEngine) -> None:
    import asyncio

    results = await asyncio.gather(*(engine.ask(PLACE) for _ in range(8)))
    opened = [r for r in results if isinstance(r, QuestionCard)]
    busy = [r for r in results if isinstance(r, RoundBusy)]
    assert len(opened) == 1 and len(busy) == 7
    assert {b.open_round_id for b in busy} == {opened[0].round_id}


async def test_forged_unknown_and_invalid_clicks(engine: QuizEngine) -> None:
    card = await ask(engine)
    other = await engine.answer(card.round_id, learner(1), ["A"], place=OTHER_PLACE)
    assert isinstance(other, AnswerRefused) and other.reason is RefusalReason.UNKNOWN_ROUND
    unknown = await engine.answer(987654, learner(1), ["A"], place=PLACE)
    assert isinstance(unknown, AnswerRefused) and unknown.reason is RefusalReason.UNKNOWN_ROUND
    bad = await engine.answer(card.round_id, learner(1), ["Z"], place=PLACE)
    assert isinstance(bad, AnswerRefused) and bad.reason is RefusalReason.INVALID_CHOICE
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.total_answers == 0  # none of those counted


async def test_multiple_response_scores_only_the_exact_set(engine: QuizEngine, bank: QuestionBank) -> None:
    question = first_question(bank, "multiple")
    card = await ask(engine, question_id=question.id)
    assert card.select_count == len(question.answer) >= 2
    right = letters_for(card, True)
    wrong_letters = letters_for(card, False)
    too_few = await engine.answer(card.round_id, learner(9), right[:1], place=PLACE)
    assert isinstance(too_few, AnswerRefused) and too_few.reason is RefusalReason.WRONG_COUNT
    assert too_few.expected_count == card.select_count
    exact = await engine.answer(card.round_id, learner(1), right, place=PLACE)
    partial = await engine.answer(card.round_id, learner(2), [*right[:-1], wrong_letters[0]], place=PLACE)
    assert isinstance(exact, FeedbackCard) and exact.correct
    assert isinstance(partial, FeedbackCard) and not partial.correct
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.right_names == ("User 1",)


async def test_at_close_feedback_mode_hides_the_result(engine: QuizEngine) -> None:
    await engine.update_settings(PLACE, feedback=FeedbackMode.AT_CLOSE)
    card = await ask(engine)
    result = await engine.answer(card.round_id, learner(1), letters_for(card, True), place=PLACE)
    assert isinstance(result, RecordedCard)
    assert result.chosen_letters == tuple(sorted(letters_for(card, True)))


async def test_shuffled_order_is_stored_and_survives_restart(
    database_url: str, store: SqlStore, bank: QuestionBank, clock: FakeClock
) -> None:
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(7))
    orders = []
    cards = []
    for n in range(12):
        card = await ask(engine, PlaceRef("discord", "g", f"c{n}"))
        cards.append(card)
        round_ = await store.get_round(card.round_id)
        assert round_ is not None
        orders.append(round_.option_order)
    assert any(order != tuple(sorted(order)) for order in orders), "options were never shuffled"
    target = cards[0]
    # a new process: new store and engine on the same database, nothing cached
    restarted_store = SqlStore(Database(database_url))
    try:
        restarted = QuizEngine(restarted_store, bank, clock=clock, rng=random.Random(99))
        place = PlaceRef("discord", "g", "c0")
        result = await restarted.answer(target.round_id, learner(1), letters_for(target, True), place=place)
        assert isinstance(result, FeedbackCard) and result.correct
        assert result.correct_letters == tuple(sorted(letters_for(target, True)))
        reveal = await restarted.close(target.round_id)
        assert reveal is not None
        assert [o.text for o in reveal.options] == [o.text for o in target.options]
    finally:
        await restarted_store.close()


async def test_question_choice_cycles_through_the_bank(store: SqlStore, clock: FakeClock) -> None:
    from bot.engine.questions import QuestionBank as Bank

    full = __import__("bot.bank", fromlist=["load_bank"]).load_bank()
    small = Bank(list(full)[:9])
    engine = QuizEngine(store, small, clock=clock, rng=random.Random(3))
    seen: list[str] = []
    for _ in range(9):
        card = await ask(engine)
        seen.append(card.question_id)
        await engine.close(card.round_id)
    assert sorted(seen) == sorted(q.id for q in small), "a question repeated before the bank was used up"
    card = await ask(engine)
    assert card.question_id in seen  # the second cycle starts


@pytest.mark.parametrize("count", [3])
async def test_reveal_names_are_capped_with_a_count(engine: QuizEngine, count: int) -> None:
    engine.reveal_names = count
    card = await ask(engine)
    for n in range(count + 4):
        await engine.answer(card.round_id, learner(n), letters_for(card, True), place=PLACE)
    reveal = await engine.close(card.round_id)
    assert reveal is not None
    assert reveal.right_names == tuple(f"User {n}" for n in range(count))
    assert reveal.more_right == 4
