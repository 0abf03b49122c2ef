"""Languages: the learner's locale wins, then the place's, then QUIZBOT_LOCALE."""

from __future__ import annotations

import random
import string

from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.locale import resolve_locale
from bot.i18n import CATALOGS
from bot.store import SqlStore
from tests.conftest import FakeClock

PLACE = PlaceRef("slack", "T1", "C1")


def test_resolution_order() -> None:
    assert resolve_locale("pt-BR", "en", "en") == "pt-BR"
    assert resolve_locale("pt_BR", None, "en") == "pt-BR"
    assert resolve_locale("en-US", "pt-BR", "pt-BR") == "en"
    assert resolve_locale(None, "pt-BR", "en") == "pt-BR"
    assert resolve_locale("fr", None, "pt-BR") == "pt-BR"  # unsupported falls through
    assert resolve_locale(None, None, "xx") == "en"


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    formatter = string.Formatter()
    english = CATALOGS["en"]
    for name, catalog in CATALOGS.items():
        assert set(catalog) == set(english), name
        for key, text in catalog.items():
            fields = {f for _, f, _, _ in formatter.parse(text) if f}
            assert fields == {f for _, f, _, _ in formatter.parse(english[key]) if f}, (name, key)


async def test_cards_follow_the_fallback_chain(store: SqlStore, bank: object, clock: FakeClock) -> None:
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(5), default_locale="en")  # type: ignore[arg-type]
    card = await engine.ask(PLACE)
    assert isinstance(card, QuestionCard) and card.locale == "en"
    question = engine.bank.get(card.question_id)
    assert question is not None and card.stem == question.text("en").stem
    right = [o.letter for o in card.options if o.correct]
    pt_learner = await engine.answer(card.round_id, LearnerRef("slack", "U1", "Ana", "pt-BR"), right)
    assert isinstance(pt_learner, FeedbackCard) and pt_learner.locale == "pt-BR"
    assert pt_learner.why == question.text("pt-BR").why
    await engine.update_settings(PLACE, locale="pt-BR")
    no_locale = await engine.answer(card.round_id, LearnerRef("slack", "U2", "Bia"), right)
    assert isinstance(no_locale, FeedbackCard) and no_locale.locale == "pt-BR"  # the place's
    en_learner = await engine.answer(card.round_id, LearnerRef("slack", "U3", "Cy", "en-GB"), right)
    assert isinstance(en_learner, FeedbackCard) and en_learner.locale == "en"  # the learner's wins
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.locale == "pt-BR" and reveal.stem == question.text("pt-BR").stem
