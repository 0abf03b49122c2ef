"""Study-plan edges a learner meets: the answer form of a Slack mock exam opening with a
cold people cache, "today" for an exam date in the learner's own zone, a reminder button
that fails saying so, and a far-away exam date."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.adapters.plan import exam_date_reply
from bot.engine import LearnerRef, QuizEngine
from bot.engine.cards import ExamQuestionCard
from tests.conftest import FakeClock
from tests.test_slack_adapter import Bot
from tests.test_slack_exam import bot as bot
from tests.test_slack_exam import clock as clock
from tests.test_slack_exam import start_exam


async def test_slack_exam_multi_form_opens_after_the_people_cache_expired(bot: Bot) -> None:
    """A 65-question exam lasts 97.5 min; the people cache trusts users.info for 60 min.
    exam.open_multi calls users.info (and the DB) BEFORE views.open: a slow users.info
    (here 3 s) spends the trigger's 3 s and the form never opens."""
    user = bot.fake.member.id
    dm, message = await start_exam(bot, 20)
    learner = LearnerRef("slack", user, "Bob", None)
    exam_id = int(message.blocks[3]["block_id"].split("_")[2])
    position = None
    for p in range(1, 21):
        card = await bot.engine.exam_question(exam_id, learner, p)
        if isinstance(card, ExamQuestionCard) and card.select_count > 1:
            position = p
            break
    assert position is not None, "no multiple-response question in this exam"
    bot.adapter.quiz.people.forget("T1", user)  # an hour later: the cache entry is stale
    bot.fake.delay("users.info", 3.0)
    views_before = len(bot.fake._views)
    delivery = await bot.sim.block_action(
        "quiz_exam_multi", f"{exam_id}:{position}", user=user, channel=dm, message_ts=message.ts
    )
    assert delivery.status == 200
    await asyncio.sleep(4.5)
    assert len(bot.fake._views) > views_before, "the answer form never opened (expired_trigger_id)"


async def test_exam_date_today_is_the_learners_today(engine: QuizEngine, clock: FakeClock) -> None:
    """A São Paulo learner at 22:00 local on 26 Nov (01:00 UTC on 27 Nov) whose exam is
    today (their 26 Nov) is told the date is invalid; an Auckland learner is allowed a
    date that is already yesterday for them, and the reply's countdown disagrees with stats."""
    ana = LearnerRef("discord", "ana-r9", "Ana", "pt-BR")
    await engine.set_reminder(ana, "08:00", "America/Sao_Paulo", "g1")
    clock.now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 26 Nov, 22:00 in São Paulo
    reply, changed = await exam_date_reply(engine, ana, "2026-11-26", "/quiz exam-date")
    assert changed, reply


async def test_a_failing_reminder_button_says_so(bot: Bot) -> None:
    """'Start my reviews' under a reminder: a failure (here conversations.open) gets a
    private apology, not silence."""
    user = bot.fake.member.id
    from datetime import date

    from bot.adapters.slack import plan
    from bot.engine.reminders import Reminder

    await plan.send_reminder(
        bot.adapter.quiz, Reminder(1, "slack", user, "T1", date(2026, 11, 27), 1, None, "pt-BR", None)
    )
    dm = bot.fake.dm(user).id
    bot.fake.error_next("conversations.open", "internal_error")
    before = len(bot.fake.messages(dm)) + len(bot.fake.ephemerals(dm, user))
    delivery = await bot.sim.block_action("quiz_review_due", "10", user=user, channel=dm)
    assert delivery.status == 200
    await asyncio.sleep(1.5)
    after = len(bot.fake.messages(dm)) + len(bot.fake.ephemerals(dm, user))
    assert after > before, "no reply at all: not even the polite error"


async def test_far_exam_date_then_practice(engine: QuizEngine, clock: FakeClock) -> None:
    from bot.engine import PlaceRef, QuestionCard
    from tests.test_sessions import letters

    bo = LearnerRef("discord", "bo-r9", "Bo", "en")
    await engine.set_reminder(bo, "08:00", "Asia/Tokyo", "g1")
    reply, changed = await exam_date_reply(engine, bo, "9999-12-31", "/quiz exam-date")
    assert changed, reply
    card = await engine.start_session(bo, PlaceRef("discord", "g1", "c1"), size=2)
    assert isinstance(card, QuestionCard)
    await engine.answer(card.round_id, bo, letters(card, False))
    await engine.answer(card.round_id, bo, letters(card, True))
    await engine.stats(bo, PlaceRef("discord", "g1", "c1"))
