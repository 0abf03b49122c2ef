"""Weak-topic drills: the ranking on recent answers alone, and drills through the engine
on both databases with an injected clock (seeded history → the right objectives, due
reviews first, then unseen; a summary naming the two weakest with links)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.engine import LearnerRef, PlaceRef, QuestionCard, QuizEngine, SessionSummaryCard
from bot.engine.model import AttemptRecord
from bot.engine.service import EngineError
from bot.engine.weak import (
    ObjectiveScore,
    parse_session_task,
    rank_objectives,
    reference_of,
    session_task,
    weak_pool,
)
from tests.conftest import FakeClock
from tests.test_sessions import letters

PLACE = PlaceRef("discord", "guild-weak", "c1")
SEED = PlaceRef("discord", "guild-weak", "seed")
ANA = LearnerRef("discord", "ana", "Ana")
START = datetime(2026, 11, 1, tzinfo=UTC)


def attempt(n: int, question_id: str, correct: bool) -> AttemptRecord:
    return AttemptRecord(n, question_id, 1, "Ana", ("a",), correct, START + timedelta(minutes=n))


# -- the rules alone ---------------------------------------------------------------


def test_smoothed_accuracy_counts_unseen_as_half_and_ranks_weakest_first() -> None:
    history = [attempt(1, "x1", False), attempt(2, "x2", False), attempt(3, "y1", True)]
    ranking = rank_objectives(["x", "y", "z"], history, lambda q: q[0])
    assert [(s.objective, s.answered, s.correct) for s in ranking] == [("x", 2, 0), ("z", 0, 0), ("y", 1, 1)]
    assert ranking[0].smoothed == pytest.approx(1 / 4) and ranking[1].smoothed == 0.5
    assert ranking[2].smoothed == pytest.approx(2 / 3)


def test_only_the_last_hundred_answers_count() -> None:
    old_misses = [attempt(n, "x1", False) for n in range(10)]  # long ago: mastered since
    later = [attempt(100 + n, "y1" if n % 2 else "x1", n % 2 == 0) for n in range(100)]
    ranking = rank_objectives(["x", "y"], old_misses + later, lambda q: q[0])
    assert [s.objective for s in ranking] == ["y", "x"]  # x: 50/50 right lately, y: 0/50
    assert ranking[1] == ObjectiveScore("x", 50, 50)
    everything = rank_objectives(["x", "y"], old_misses + later, lambda q: q[0], limit=1000)
    assert everything[0] == ObjectiveScore("y", 50, 0) and everything[1] == ObjectiveScore("x", 60, 50)


def test_the_pool_widens_when_the_weakest_hold_too_few_questions(bank: object) -> None:
    from bot.engine.questions import QuestionBank

    assert isinstance(bank, QuestionBank)
    questions = bank.active()
    ranking = rank_objectives({q.objective for q in questions}, [], lambda q: None)
    three = {s.objective for s in ranking[:3]}
    assert {q.objective for q in weak_pool(questions, ranking, 5)} == three
    count_three = sum(q.objective in three for q in questions)
    wider = weak_pool(questions, ranking, count_three + 1)
    assert {q.objective for q in wider} == three | {ranking[3].objective}


def test_a_reference_is_the_link_an_objectives_questions_cite_most(bank: object) -> None:
    from bot.engine.questions import QuestionBank

    assert isinstance(bank, QuestionBank)
    link = reference_of("3.2.d", bank.active())
    assert link is not None and link.startswith("https://")
    assert any(q.objective == "3.2.d" and q.references[0] == link for q in bank.active())
    assert reference_of("9.9.z", bank.active()) is None


def test_the_focus_rides_in_the_sessions_task_column() -> None:
    for task, focus in [(None, None), ("3.2", None), (None, "weak"), ("3.4", "weak")]:
        stored = session_task(task, focus)
        assert stored is None or len(stored) <= 8  # the column is String(8)
        assert parse_session_task(stored) == (task, focus)


# -- through the engine and a real database ---------------------------------------


async def seed(engine: QuizEngine, record: dict[str, tuple[int, int]]) -> dict[str, list[str]]:
    """Answer ``answered`` questions of each objective in a channel, the first ``right``
    of them right; returns the questions answered wrong, by objective."""
    missed: dict[str, list[str]] = {}
    for objective, (answered, right) in record.items():
        questions = sorted((q for q in engine.bank.active() if q.objective == objective), key=lambda q: q.id)
        for n, question in enumerate(questions[:answered]):
            card = await engine.ask(SEED, question_id=question.id)
            assert isinstance(card, QuestionCard)
            await engine.answer(card.round_id, ANA, letters(card, n < right), place=SEED)
            await engine.close(card.round_id)
            if n >= right:
                missed.setdefault(objective, []).append(question.id)
    return missed


HISTORY = {"3.2.d": (4, 0), "3.4.b": (2, 0), "3.3.c": (3, 1), "3.1.a": (6, 5)}
WEAKEST = {"3.2.d", "3.4.b", "3.3.c"}  # smoothed 1/6, 1/4, 2/5; 3.1.a is 6/8; the rest 1/2


async def drill(
    engine: QuizEngine, size: int, correct: bool
) -> tuple[list[QuestionCard], SessionSummaryCard]:
    card = await engine.start_session(ANA, PLACE, size=size, focus="weak")
    cards = []
    while isinstance(card, QuestionCard):
        cards.append(card)
        await engine.answer(card.round_id, ANA, letters(card, correct))
        assert card.session_id is not None
        card = await engine.next_question(card.session_id, ANA)  # type: ignore[assignment]
    assert isinstance(card, SessionSummaryCard)
    return cards, card


async def test_a_drill_serves_due_reviews_of_the_weakest_objectives_first(
    engine: QuizEngine, clock: FakeClock
) -> None:
    missed = await seed(engine, HISTORY)
    clock.advance(days=2)  # every miss is due again (Again: one day), and some right ones
    due = set(await engine.due_reviews(ANA))
    assert {q for qs in missed.values() for q in qs} <= due and missed["3.1.a"][0] in due
    cards, summary = await drill(engine, 3, correct=False)
    weak_due = {q for q in due if (question := engine.bank.get(q)) and question.objective in WEAKEST}
    assert {c.question_id for c in cards} <= weak_due  # due and weak: never 3.1.a's due miss
    assert summary.focus == "weak"
    assert [s.objective for s in summary.weak_spots] == ["3.2.d", "3.4.b"]
    for spot in summary.weak_spots:
        assert spot.reference is not None and spot.reference.startswith("https://")
        assert spot.reference == reference_of(spot.objective, engine.bank.active())
        assert spot.correct == 0 and spot.answered >= HISTORY[spot.objective][0]


async def test_a_drill_without_due_reviews_serves_unseen_questions_of_the_weakest(
    engine: QuizEngine,
) -> None:
    await seed(engine, HISTORY)
    history = {a.question_id for a in await engine.store.learner_history(ANA)}
    cards, summary = await drill(engine, 6, correct=True)
    served = {c.question_id for c in cards}
    assert len(served) == 6 and not served & history  # unseen before missed
    assert {c.objective for c in cards} <= WEAKEST
    assert len(summary.weak_spots) == 2 and summary.answered == 6


async def test_a_drill_in_one_task_statement_and_an_unknown_focus(engine: QuizEngine) -> None:
    await seed(engine, HISTORY)
    card = await engine.start_session(ANA, PLACE, size=2, focus="weak", task="3.4")
    # 3.4.b (0 of 2) first, then the unseen at 50% by id: 3.4.a, 3.4.c (not 3.4.d, 3.4.e)
    assert card.task == "3.4" and card.objective in {"3.4.b", "3.4.a", "3.4.c"}
    assert card.session_id is not None
    summary = await engine.finish_session(card.session_id, ANA)
    assert [s.objective for s in summary.weak_spots] == ["3.4.b", "3.4.a"]
    with pytest.raises(EngineError):
        await engine.start_session(ANA, PLACE, size=2, focus="strong")
    plain = await engine.start_session(ANA, PLACE, size=1)
    assert plain.session_id is not None
    summary = await engine.finish_session(plain.session_id, ANA)
    assert summary.focus is None and summary.weak_spots == ()  # only a drill names weak spots
