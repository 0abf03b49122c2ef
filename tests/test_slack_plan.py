"""/quiz exam-date, /quiz remind and the reminder message on Slack end to end: the real
slack-bolt app over HTTP, signed requests, the fake Slack Web API, a real SQLite database
and a settable clock."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

import pytest

from bot.engine import LearnerRef, PlaceRef
from tests.conftest import FakeClock
from tests.fakes.slack_server import Message
from tests.helpers.study import miss_one
from tests.test_slack_adapter import Bot
from tests.test_slack_exam import bot as bot  # the fixtures: a running app, the engine's clock
from tests.test_slack_exam import clock as clock

ZONE = "America/Sao_Paulo"
NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)


def member(bot: Bot) -> LearnerRef:
    return LearnerRef("slack", bot.fake.member.id, "Bob", "en-US")


async def command(bot: Bot, text: str, expect: str) -> str:
    """Run ``/quiz text``; wait for the private reply holding ``expect``; return it all."""
    user = bot.fake.member.id
    before = len(bot.fake.ephemerals(bot.fake.channel.id, user))
    delivery = await bot.sim.slash_command(text, user=user)
    assert delivery.status == 200 and delivery.elapsed < 3
    await bot.fake.wait_for(lambda: len(bot.fake.ephemerals(bot.fake.channel.id, user)) > before, 5)
    shown = bot.fake.ephemerals(bot.fake.channel.id, user)[before:]
    reply = "\n".join(m.text + json.dumps(m.blocks, ensure_ascii=False) for m in shown)
    assert expect in reply, reply
    return reply


async def test_exam_date_is_set_refused_and_cleared_and_stats_count_down(bot: Bot, clock: FakeClock) -> None:
    clock.now = NOON
    await command(bot, "exam-date", "Usage: /quiz exam-date YYYY-MM-DD")
    for bad in ("15/03/2027", "2026-11-25", "soon"):
        await command(bot, f"exam-date {bad}", "Please give the date as YYYY-MM-DD")
    await command(bot, "exam-date 2026-12-06", "Your exam date is 2026-12-06 (10 day(s) from today)")
    assert (await bot.engine.profile(member(bot))).exam_date == date(2026, 12, 6)
    await miss_one(bot.engine, member(bot), bot.place)
    active = len(bot.engine.bank.active())
    stats = await command(bot, "stats", "Exam on 2026-12-06: 10 day(s) left.")
    assert f"Bank covered: 1 of {active} questions" in stats and "Reviews due today: 0." in stats
    await command(bot, "exam-date off", "Your exam date is cleared.")
    assert (await bot.engine.profile(member(bot))).exam_date is None
    help_text = await command(bot, "help", "/quiz exam-date")
    assert "/quiz remind" in help_text


async def test_remind_takes_the_zone_slack_knows_and_names_the_format(bot: Bot) -> None:
    bot.fake.member.tz = ZONE  # what users.info says
    for bad in ("7pm", "24:00", ""):
        await command(bot, f"remind {bad}", "HH:MM")
    await command(bot, "remind 08:00 Mars/Base", "Mars/Base is not a time zone I know")
    assert (await bot.engine.profile(member(bot))).remind_at is None
    await command(bot, "remind 8:00", f"at 08:00 ({ZONE}) on the days you have reviews due")
    profile = await bot.engine.profile(member(bot))
    assert (profile.remind_at, profile.timezone, profile.remind_workspace) == ("08:00", ZONE, "T1")
    await command(bot, "remind 21:00 Europe/Lisbon", "21:00 (Europe/Lisbon)")
    await command(bot, "remind off", "Reminders are off.")
    assert (await bot.engine.profile(member(bot))).remind_at is None


def reminders_in(bot: Bot, dm: str) -> list[Message]:
    return [m for m in bot.fake.messages(dm) if "review(s) due today" in m.text]


async def test_the_reminder_arrives_once_and_its_button_starts_the_due_review(
    bot: Bot, clock: FakeClock
) -> None:
    clock.now = NOON
    due = await miss_one(bot.engine, member(bot), bot.place)
    await command(bot, "remind 08:00", "08:00 (UTC)")
    dm = bot.fake.dm(bot.fake.member.id).id
    reminders = bot.adapter.quiz.reminders
    assert await reminders.once() == 0  # nothing due today
    clock.now = datetime(2026, 11, 27, 7, 59, tzinfo=UTC)
    assert await reminders.once() == 0  # too early
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert await reminders.once() == 1
    (reminder,) = reminders_in(bot, dm)
    assert "You have 1 review(s) due today" in reminder.text and "/quiz remind off" in reminder.text
    assert '"action_id": "quiz_review_due"' in json.dumps(reminder.blocks)
    clock.now = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert await reminders.once() == 0 and len(reminders_in(bot, dm)) == 1  # once a day

    before = len(bot.fake.messages(dm))
    delivery = await bot.sim.block_action("quiz_review_due", user=bot.fake.member.id, channel=dm)
    assert delivery.status == 200 and delivery.elapsed < 3
    await bot.fake.wait_for(lambda: len(bot.fake.messages(dm)) > before, 5)
    question = bot.fake.messages(dm)[-1]
    values = [
        e["value"]
        for b in question.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("quiz_answer")
    ]
    round_ = await bot.store.get_round(int(values[0].split(":")[0]))
    assert round_ is not None and round_.question_id == due  # the due review first
    assert round_.place == PlaceRef("slack", "T1", dm)  # practice in the DM


async def test_a_learner_who_cannot_be_messaged_is_logged_once(
    bot: Bot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.now = NOON
    await miss_one(bot.engine, member(bot), bot.place)
    await command(bot, "remind 08:00", "08:00 (UTC)")
    with caplog.at_level(logging.WARNING, "bot.adapters.background"):
        for day in (27, 28):
            clock.now = datetime(2026, 11, day, 9, tzinfo=UTC)
            bot.fake.error_next("chat.postMessage", "messages_tab_disabled")
            assert await bot.adapter.quiz.reminders.once() == 0
    warned = [r.getMessage() for r in caplog.records if "no reminder for slack user" in r.getMessage()]
    assert len(warned) == 1 and "messages_tab_disabled" in warned[0]
    clock.now = datetime(2026, 11, 29, 9, tzinfo=UTC)
    bot.fake.fail_next("chat.postMessage", "internal_error", status=500)  # passing trouble: tried again
    assert await bot.adapter.quiz.reminders.once() == 0
    assert (await bot.engine.profile(member(bot))).reminded_on == date(2026, 11, 28)
