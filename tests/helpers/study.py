"""A learner with something to review: one practice answer given wrong."""

from __future__ import annotations

from bot.engine import LearnerRef, PlaceRef, QuestionCard, QuizEngine
from tests.test_sessions import letters


async def miss_one(engine: QuizEngine, learner: LearnerRef, place: PlaceRef) -> str:
    """One practice question answered wrong (due again tomorrow); returns its id."""
    card = await engine.start_session(learner, place, size=1)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, learner, letters(card, False))
    return card.question_id
