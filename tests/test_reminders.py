"""The study plan through the engine and a real database (SQLite and PostgreSQL): the exam
date, the stats' countdown and coverage, and daily reminders over several days with an
injected clock — once a day, only when reviews are due, one send when two schedulers race."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.adapters import plaintext
from bot.adapters.background import ReminderSender, Undeliverable
from bot.engine import LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import LearnerProfile
from bot.engine.questions import QuestionBank
from bot.engine.reminders import Reminder, ReminderProfile, parse_remind_time, pending_reminders
from bot.engine.service import SettingRejected
from bot.store import Database, SqlStore
from tests.conftest import FakeClock
from tests.test_sessions import letters

PLACE = PlaceRef("discord", "guild-plan", "c1")
ANA = LearnerRef("discord", "ana", "Ana", "pt-BR")
BEA = LearnerRef("slack", "U0BEA", "Bea")
ZONE = "America/Sao_Paulo"  # UTC-3 all year: 08:00 there is 11:00 UTC


async def practise(engine: QuizEngine, learner: LearnerRef, outcomes: list[bool]) -> list[str]:
    card = await engine.start_session(learner, PLACE, size=len(outcomes))
    served = []
    for correct in outcomes:
        assert isinstance(card, QuestionCard) and card.session_id is not None
        served.append(card.question_id)
        await engine.answer(card.round_id, learner, letters(card, correct))
        card = await engine.next_question(card.session_id, learner)  # type: ignore[assignment]
    return served


class Outbox:
    """A platform that records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Reminder] = []
        self.fail_with: Exception | None = None

    async def send(self, reminder: Reminder) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(reminder)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 26, hour, minute, tzinfo=UTC) + timedelta(days=day)


# -- the rules alone ---------------------------------------------------------------


def test_a_reminder_time_is_hh_mm_on_a_24_hour_clock() -> None:
    assert parse_remind_time("07:30") == time(7, 30) == parse_remind_time(" 7:30 ")
    assert parse_remind_time("23:59") == time(23, 59)
    for bad in ("7pm", "24:00", "07:60", "0730", "7", "", "07:30:00", "-1:00"):
        assert parse_remind_time(bad) is None, bad


def test_pending_means_past_the_time_today_and_not_reminded_today() -> None:
    def entry(reminded_on: date | None, remind_at: str | None = "08:00") -> ReminderProfile:
        return ReminderProfile(1, ANA, LearnerProfile(None, remind_at, ZONE, "g", reminded_on))

    assert pending_reminders([entry(None)], at(0, 10, 59)) == []  # 07:59 in São Paulo
    assert pending_reminders([entry(None)], at(0, 11)) == [(entry(None), date(2026, 11, 26))]
    assert pending_reminders([entry(date(2026, 11, 26))], at(0, 23)) == []  # reminded today
    # 01:00 UTC on the 27th is still the evening of the 26th there
    assert pending_reminders([entry(date(2026, 11, 26))], at(1, 1)) == []
    assert pending_reminders([entry(date(2026, 11, 26))], at(1, 11)) != []  # a new day
    assert pending_reminders([entry(None, None)], at(0, 12)) == []  # reminders off
    gone = ReminderProfile(2, ANA, LearnerProfile(None, "08:00", "Atlantis/Lost", "g", None))
    assert pending_reminders([gone, entry(None)], at(0, 12)) == [(entry(None), date(2026, 11, 26))]


# -- through the engine ---------------------------------------------------------------


async def test_the_remind_setting_names_the_format_when_it_is_wrong(engine: QuizEngine) -> None:
    for bad in ("7pm", "25:00", "half past seven"):
        with pytest.raises(SettingRejected) as refused:
            await engine.set_reminder(ANA, bad, ZONE, "g")
        assert "HH:MM" in refused.value.allowed
    with pytest.raises(SettingRejected) as refused:
        await engine.set_reminder(ANA, "07:30", "Mars/Olympus_Mons", "g")
    assert refused.value.name == "timezone"
    assert (await engine.profile(ANA)).remind_at is None  # nothing was saved
    saved = await engine.set_reminder(ANA, "7:30", ZONE, "g")
    assert (saved.remind_at, saved.timezone, saved.remind_workspace) == ("07:30", ZONE, "g")
    off = await engine.set_reminder(ANA, None)
    assert off.remind_at is None and off.timezone == ZONE  # the zone is kept for the countdown


async def test_exam_date_set_cleared_and_past_refused(engine: QuizEngine, clock: FakeClock) -> None:
    with pytest.raises(SettingRejected) as refused:
        await engine.set_exam_date(ANA, clock.now.date() - timedelta(days=1))
    assert "YYYY-MM-DD" in refused.value.allowed
    assert (await engine.set_exam_date(ANA, date(2026, 12, 6))).exam_date == date(2026, 12, 6)
    assert (await engine.profile(ANA)).exam_date == date(2026, 12, 6)
    assert (await engine.set_exam_date(ANA, None)).exam_date is None


async def test_stats_show_the_countdown_coverage_and_reviews_due(
    engine: QuizEngine, clock: FakeClock, bank: QuestionBank
) -> None:
    empty = await engine.stats(ANA, PLACE)
    assert empty.plan is not None and empty.plan.exam_date is None and empty.plan.days_left is None
    assert (empty.plan.covered, empty.plan.due_today) == (0, 0)
    await engine.set_exam_date(ANA, date(2026, 12, 6))
    first = await practise(engine, ANA, [False, True, True, False])
    await practise(engine, ANA, [True])  # a fifth question, and none of the first four again
    active = len(bank.active())
    stats = await engine.stats(ANA, PLACE)
    assert stats.plan is not None
    assert (stats.plan.days_left, stats.plan.covered, stats.plan.bank_size) == (10, 5, active)
    assert stats.plan.coverage_percent == round(500 / active) and stats.plan.due_today == 0
    text = plaintext.stats(stats)  # Ana reads Portuguese
    assert "Exame em 2026-12-06: faltam 10 dia(s)." in text
    assert f"Banco coberto: 5 de {active} questões ({round(500 / active)}%)." in text
    assert "Revisões para hoje: 0." in text

    clock.advance(days=1)  # the two missed questions are due again
    stats = await engine.stats(ANA, PLACE)
    assert stats.plan is not None and (stats.plan.days_left, stats.plan.due_today) == (9, 2)
    assert sorted(await engine.due_reviews(ANA)) == sorted([first[0], first[3]])
    clock.now = datetime(2026, 12, 6, 9, tzinfo=UTC)
    stats = await engine.stats(ANA, PLACE)
    assert stats.plan is not None and stats.plan.days_left == 0
    assert "Dia do exame (2026-12-06): boa sorte!" in plaintext.stats(stats)
    clock.now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    stats = await engine.stats(ANA, PLACE)  # the exam has passed: no countdown
    assert stats.plan is not None and stats.plan.days_left is None and "Exame" not in plaintext.stats(stats)


async def test_a_reminder_goes_out_once_a_day_only_when_reviews_are_due(
    engine: QuizEngine, clock: FakeClock
) -> None:
    outbox = Outbox()
    sender = ReminderSender(engine, "discord", outbox.send)
    await engine.set_exam_date(ANA, date(2026, 12, 6))
    await engine.set_reminder(ANA, "08:00", ZONE, "guild-plan")
    await engine.update_settings(PLACE, timezone=ZONE)  # practice counts due cards by the same day
    clock.now = at(0, 11, 30)
    missed = await practise(engine, ANA, [False, True, False])  # two come back tomorrow
    assert await sender.once() == 0  # past 08:00, but nothing is due today

    clock.now = at(1, 10, 59)  # 07:59 in São Paulo: too early
    assert await sender.once() == 0
    clock.now = at(1, 11, 0)
    assert await sender.once() == 1
    (sent,) = outbox.sent
    assert (sent.user_id, sent.workspace, sent.due, sent.local_date) == (
        "ana",
        "guild-plan",
        2,
        date(2026, 11, 27),
    )
    assert (sent.days_left, sent.locale) == (9, "pt-BR")
    assert "2 revisão(ões) para hoje" in plaintext.reminder(
        sent
    ) and "daqui a 9 dia(s)" in plaintext.reminder(sent)
    for minutes in (1, 60, 12 * 60):  # not twice the same (local) day, even past UTC midnight
        clock.now = at(1, 11) + timedelta(minutes=minutes)
        assert await sender.once() == 0
    assert (await engine.profile(ANA)).reminded_on == date(2026, 11, 27)

    clock.now = at(2, 11, 5)  # not reviewed yet: due again, reminded again
    assert await sender.once() == 1 and outbox.sent[-1].local_date == date(2026, 11, 28)
    served = await practise(engine, ANA, [True, True])  # the due ones come first; all right now
    assert sorted(served) == sorted([missed[0], missed[2]])
    quiet_days = 0
    for day in range(3, 12):  # a reminder exactly on the days something is due; all reviewed right
        clock.now = at(day, 11, 5)
        due = await engine.due_reviews(ANA, ZONE)
        assert await sender.once() == (1 if due else 0)
        quiet_days += not due
        if due:
            assert await practise(engine, ANA, [True] * len(due)) == due
    assert quiet_days > 0
    count = len(outbox.sent)
    await engine.set_reminder(ANA, None)  # off: never again
    clock.advance(days=30)
    assert await engine.due_reviews(ANA, ZONE) and await engine.due_reminders() == []
    assert await sender.once() == 0 and len(outbox.sent) == count


async def test_reminders_are_per_platform_and_only_for_the_active_bank(
    engine: QuizEngine, clock: FakeClock
) -> None:
    await practise(engine, BEA, [False])
    await engine.set_reminder(BEA, "09:00", "UTC", "T1")
    clock.now = at(1, 9)
    assert [r.user_id for r in await engine.due_reminders(platform="slack")] == ["U0BEA"]
    assert await engine.due_reminders(platform="discord") == []
    (due,) = await engine.due_reviews(BEA)
    smaller = QuizEngine(engine.store, QuestionBank(q for q in engine.bank if q.id != due), clock=clock)
    assert await smaller.due_reminders(platform="slack") == []  # dropped from the bank since


async def test_two_schedulers_racing_send_one_reminder(
    engine: QuizEngine, clock: FakeClock, database_url: str, bank: QuestionBank
) -> None:
    await practise(engine, ANA, [False])
    await engine.set_reminder(ANA, "08:00", ZONE, "guild-plan")
    clock.now = at(1, 12)
    other = QuizEngine(SqlStore(Database(database_url)), bank, clock=clock, rng=random.Random(2))
    try:
        outboxes = [Outbox(), Outbox()]
        senders = [
            ReminderSender(e, "discord", o.send) for e, o in zip((engine, other), outboxes, strict=True)
        ]
        for _ in range(3):
            # both select the same reminder before either claims it: the claim decides
            assert len(await engine.due_reminders()) == len(await other.due_reminders()) == 1
            assert sorted(await asyncio.gather(*(s.once() for s in senders))) in ([0, 1], [1, 0])
            reminder = (outboxes[0].sent + outboxes[1].sent)[0]
            assert not await other.claim_reminder(reminder) and not await engine.claim_reminder(reminder)
            assert sum(len(o.sent) for o in outboxes) == 1
            await practise(engine, ANA, [False])  # something due again tomorrow
            clock.advance(days=1)
            for outbox in outboxes:
                outbox.sent.clear()
    finally:
        await other.store.close()  # type: ignore[attr-defined]


async def test_an_unreachable_learner_is_logged_once_and_a_failed_send_is_tried_again(
    engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await practise(engine, ANA, [False])
    await engine.set_reminder(ANA, "08:00", ZONE, "guild-plan")
    outbox = Outbox()
    sender = ReminderSender(engine, "discord", outbox.send)
    outbox.fail_with = Undeliverable("direct messages closed")
    with caplog.at_level(logging.WARNING, "bot.adapters.background"):
        for day in (1, 2):
            clock.now = at(day, 12)
            assert await sender.once() == 0  # the loop goes on
            await practise(engine, ANA, [False])  # due again tomorrow
    assert sum("direct messages closed" in r.getMessage() for r in caplog.records) == 1
    assert (await engine.profile(ANA)).reminded_on == date(2026, 11, 28)  # the day is used up

    clock.now = at(3, 12)
    outbox.fail_with = RuntimeError("the platform is down")
    assert await sender.once() == 0
    assert (await engine.profile(ANA)).reminded_on == date(2026, 11, 28)  # given back
    outbox.fail_with = None
    assert await ReminderSender(engine, "discord", outbox.send).once() == 1  # the next tick (no backoff here)


async def test_the_reminder_is_in_the_export_and_gone_once_forgotten(
    engine: QuizEngine, clock: FakeClock
) -> None:
    await practise(engine, ANA, [False])
    await engine.set_reminder(ANA, "08:00", ZONE, "guild-plan")
    clock.now = at(1, 12)
    assert len(await engine.due_reminders()) == 1
    data = await engine.export_learner("discord", "ana")
    assert data is not None
    assert (data["profile"]["remind_at"], data["profile"]["remind_workspace"]) == ("08:00", "guild-plan")
    assert "reminded_on" in data["profile"]
    await engine.forget_learner("discord", "ana")
    assert await engine.due_reminders() == []  # nobody left to remind


async def test_learners_with_nothing_due_never_crowd_out_one_who_has(
    engine: QuizEngine, clock: FakeClock
) -> None:
    for n in range(3):  # earlier learners: first in the table, and nothing to review
        await engine.set_reminder(LearnerRef("discord", f"idle{n}", "Idle"), "08:00", "UTC", "g")
    await practise(engine, BEA, [False])
    await engine.set_reminder(BEA, "08:00", "UTC", "T1")
    clock.now = at(1, 9)
    assert [r.user_id for r in await engine.due_reminders(limit=1)] == ["U0BEA"]
