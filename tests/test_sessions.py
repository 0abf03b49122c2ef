"""Personal sessions: practice (unscored) and terminal play (scored in its own place)."""

from __future__ import annotations

from bot.engine import (
    AnswerRefused,
    FeedbackCard,
    LearnerRef,
    Period,
    PlaceRef,
    QuestionCard,
    QuizEngine,
    SessionSummaryCard,
)
from bot.engine.cards import RefusalReason

PLACE = PlaceRef("discord", "guild-s", "c1")
ANA = LearnerRef("discord", "ana", "Ana")


def letters(card: QuestionCard, correct: bool) -> list[str]:
    return [o.letter for o in card.options if o.correct == correct][: card.select_count]


async def run_session(
    engine: QuizEngine, learner: LearnerRef, outcomes: list[bool], **kwargs: object
) -> tuple[list[QuestionCard], SessionSummaryCard]:
    card = await engine.start_session(learner, PLACE, size=len(outcomes), **kwargs)  # type: ignore[arg-type]
    cards = []
    for correct in outcomes:
        assert isinstance(card, QuestionCard)
        cards.append(card)
        result = await engine.answer(card.round_id, learner, letters(card, correct))
        assert isinstance(result, FeedbackCard) and result.correct == correct
        assert card.session_id is not None
        nxt = await engine.next_question(card.session_id, learner)
        card = nxt  # type: ignore[assignment]
    assert isinstance(card, SessionSummaryCard)
    return cards, card


async def test_practice_runs_to_a_summary_and_scores_no_leaderboard(engine: QuizEngine) -> None:
    cards, summary = await run_session(engine, ANA, [True, False, True, False, True], task="3.2")
    assert all(c.task == "3.2" for c in cards)
    assert [c.position for c in cards] == [1, 2, 3, 4, 5]
    assert len({c.question_id for c in cards}) == 5  # no repeat inside a session
    assert (summary.answered, summary.correct, summary.size) == (5, 3, 5)
    assert [(a.key, a.attempts, a.correct) for a in summary.by_task] == [("3.2", 5, 3)]
    assert {r.question_id for r in summary.to_review} == {cards[1].question_id, cards[3].question_id}
    assert all(r.reference.startswith("https://") for r in summary.to_review)
    board = await engine.leaderboard(PLACE, ANA, period=Period.ALL)
    assert board.entries == () and board.viewer_rank is None  # practice feeds stats only
    assert (await engine.stats(ANA)).attempts == 5


async def test_practice_serves_unseen_first_then_missed(engine: QuizEngine) -> None:
    pool = engine.bank.active("3.3")
    outcomes = [n % 3 != 0 for n in range(len(pool))]  # miss every third question
    cards, _ = await run_session(engine, ANA, outcomes, task="3.3")
    assert sorted(c.question_id for c in cards) == sorted(q.id for q in pool)  # every one, once
    missed = {c.question_id for c, ok in zip(cards, outcomes, strict=True) if not ok}
    again, _ = await run_session(engine, ANA, [True] * len(missed), task="3.3")
    assert {c.question_id for c in again} == missed


async def test_session_owner_only_and_next_is_idempotent(engine: QuizEngine) -> None:
    card = await engine.start_session(ANA, PLACE, size=2)
    assert card.session_id is not None
    same = await engine.next_question(card.session_id, ANA)  # a double click on "Next"
    assert isinstance(same, QuestionCard) and same.round_id == card.round_id
    intruder = await engine.answer(card.round_id, LearnerRef("discord", "bob", "Bob"), letters(card, True))
    assert isinstance(intruder, AnswerRefused) and intruder.reason is RefusalReason.UNKNOWN_ROUND


async def test_scored_session_counts_in_its_own_place(engine: QuizEngine) -> None:
    terminal = PlaceRef("console", "local", "terminal")
    card = await engine.start_session(ANA, terminal, size=1, scored=True)
    await engine.answer(card.round_id, ANA, letters(card, True))
    board = await engine.leaderboard(terminal, ANA)
    assert board.viewer_rank == 1 and board.viewer_score == 1
    assert (await engine.leaderboard(PLACE, ANA)).viewer_score is None


async def test_question_choice_follows_task_proportions(engine: QuizEngine) -> None:
    place = PlaceRef("discord", "guild-p", "c1")
    tasks = []
    for _ in range(19):
        card = await engine.ask(place)
        assert isinstance(card, QuestionCard)
        tasks.append(card.task)
        await engine.close(card.round_id)
    assert {t: tasks.count(t) for t in sorted(set(tasks))} == {"3.1": 6, "3.2": 5, "3.3": 3, "3.4": 5}
