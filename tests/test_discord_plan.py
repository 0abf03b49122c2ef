"""/quiz exam-date, /quiz remind and the reminder DM on Discord end to end: the real
discord.py client over sockets against the fake Discord, a real SQLite database and a
settable clock."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from bot.adapters.discord.client import make_client
from bot.adapters.discord.settings import DiscordSettings
from bot.config import Secret
from bot.engine import LearnerRef, PlaceRef
from tests.conftest import FakeClock
from tests.fakes.discord_server import EPHEMERAL, StoredMessage
from tests.helpers.discord_reply import followup_text
from tests.helpers.study import miss_one
from tests.test_discord_adapter import Bot, buttons
from tests.test_discord_exam import bot as bot  # the fixture: a running client, a settable clock

ZONE = "America/Sao_Paulo"


def member(bot: Bot) -> LearnerRef:
    return LearnerRef("discord", str(bot.fake.member.user.id), "Bob", "en-US")


async def command(bot: Bot, name: str, **options: str) -> str:
    record = await bot.fake.slash_command("quiz", options, subcommand=name)
    reply = await followup_text(record)
    callback = await record.response()
    assert callback.ephemeral or (record.followups and record.followups[0].flags & EPHEMERAL)
    return reply


async def test_exam_date_is_set_refused_and_cleared_and_stats_count_down(bot: Bot) -> None:
    assert "Usage: /quiz exam-date" in await command(bot, "exam-date", date=" ")
    for bad in ("06/12/2026", "2026-02-30", "next week", "2026-11-25"):  # the last one is yesterday
        assert "YYYY-MM-DD" in await command(bot, "exam-date", date=bad), bad
    assert (await bot.engine.profile(member(bot))).exam_date is None
    reply = await command(bot, "exam-date", date="2026-12-06")
    assert "Your exam date is 2026-12-06 (10 day(s) from today)" in reply
    assert (await bot.engine.profile(member(bot))).exam_date == date(2026, 12, 6)
    await miss_one(bot.engine, member(bot), bot.place)
    stats = await command(bot, "stats")
    active = len(bot.engine.bank.active())
    assert "Exam on 2026-12-06: 10 day(s) left." in stats
    assert f"Bank covered: 1 of {active} questions ({round(100 / active)}%)." in stats
    assert "Reviews due today: 0." in stats
    assert "Your exam date is cleared." in await command(bot, "exam-date", date="off")
    assert "Exam on" not in await command(bot, "stats")


async def test_remind_validates_the_time_and_takes_the_servers_zone(bot: Bot) -> None:
    for bad in ("7pm", "25:00", "0730"):
        assert "Please give the time as HH:MM, 24-hour (for example 07:30)" in await command(
            bot, "remind", time=bad
        )
    assert "Mars/Base is not a time zone I know" in await command(
        bot, "remind", time="08:00", timezone="Mars/Base"
    )
    assert (await bot.engine.profile(member(bot))).remind_at is None
    await bot.engine.update_settings(bot.place, timezone=ZONE)
    reply = await command(bot, "remind", time="8:00")
    assert f"at 08:00 ({ZONE}) on the days you have reviews due" in reply
    profile = await bot.engine.profile(member(bot))
    assert (profile.remind_at, profile.timezone, profile.remind_workspace) == (
        "08:00",
        ZONE,
        str(bot.fake.guild.id),
    )
    reply = await command(bot, "remind", time="21:30", timezone="Europe/Berlin")
    assert "21:30 (Europe/Berlin)" in reply
    assert "21:30 (Europe/Berlin)" in await command(bot, "remind", time="21:30")  # the zone given last
    assert "Reminders are off." in await command(bot, "remind", time="off")
    assert (await bot.engine.profile(member(bot))).remind_at is None
    (quiz,) = [c for c in bot.fake.registered_commands() if c["name"] == "quiz"]
    for option in (o for o in quiz["options"] if o["name"] in {"exam-date", "remind"}):
        assert option["description_localizations"]["pt-BR"]  # Portuguese clients read Portuguese
        assert all(o["description_localizations"]["pt-BR"] for o in option["options"])
    help_text = await command(bot, "help")
    assert "/quiz exam-date" in help_text and "/quiz remind" in help_text


def reminders_in(bot: Bot, dm_id: int) -> list[StoredMessage]:
    return [m for m in bot.fake.messages(dm_id) if "review(s) due today" in m.content]


async def test_the_reminder_dm_arrives_once_and_its_button_starts_the_due_review(
    bot: Bot, clock: FakeClock
) -> None:
    due = await miss_one(bot.engine, member(bot), bot.place)
    await bot.engine.update_settings(bot.place, timezone="UTC")
    assert "08:00 (UTC)" in await command(bot, "remind", time="08:00")
    dm = bot.fake.dm_channel(bot.fake.member.user.id)
    assert await bot.client.reminders.once() == 0  # 12:00, nothing due today
    clock.now = datetime(2026, 11, 27, 7, 59, tzinfo=UTC)
    assert await bot.client.reminders.once() == 0  # due, but before 08:00
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert await bot.client.reminders.once() == 1
    (reminder,) = reminders_in(bot, dm.id)
    assert "You have 1 review(s) due today" in reminder.content and "/quiz remind off" in reminder.content
    (button,) = buttons(reminder)
    assert (button["custom_id"], button["label"]) == ("quiz:rv", "Start my reviews")
    clock.now = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert await bot.client.reminders.once() == 0 and len(reminders_in(bot, dm.id)) == 1  # once a day

    click = await bot.fake.click("quiz:rv", reminder.id)
    callback = await click.response()
    shown = click.original if callback.type == 4 else (await click.wait_followups(1))[0]
    assert shown is not None and shown.embeds and "Question 1 of 10" in str(shown.embeds[0])
    answer_id = buttons(shown)[0]["custom_id"]
    round_ = await bot.store.get_round(int(answer_id.split(":")[2]))
    assert round_ is not None and round_.question_id == due  # the due review comes first
    assert round_.place == PlaceRef("discord", "dm", str(dm.id))  # practice in the DM
    control = buttons(shown)[0]
    if answer_id.startswith("quiz:m:"):  # multiple response: a menu
        values = [o["value"] for o in control["options"]][: control["min_values"]]
        answered = await bot.fake.select(answer_id, values, shown.id)
    else:
        answered = await bot.fake.click(answer_id, shown.id)  # answered right there, in the DM
    feedback = await answered.response()
    assert feedback.accepted and "not yours" not in await followup_text(answered)
    assert not bot.fake.unknown_routes


async def test_a_member_who_takes_no_dms_is_logged_once_and_the_loop_goes_on(
    bot: Bot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await miss_one(bot.engine, member(bot), bot.place)
    await bot.engine.update_settings(bot.place, timezone="UTC")
    await command(bot, "remind", time="08:00")
    with caplog.at_level(logging.WARNING, "bot.adapters.background"):
        for day in (27, 28):
            clock.now = datetime(2026, 11, day, 9, tzinfo=UTC)
            bot.fake.fail_next("POST", r"/channels/\d+/messages", status=403)
            assert await bot.client.reminders.once() == 0
    assert sum("no reminder for discord user" in r.getMessage() for r in caplog.records) == 1
    assert (await bot.engine.profile(member(bot))).reminded_on == date(2026, 11, 28)  # not retried all day
    clock.now = datetime(2026, 11, 29, 9, tzinfo=UTC)
    assert await bot.client.reminders.once() == 1  # DMs open again: the next day's goes out


async def test_a_scheduler_only_process_sends_the_reminder_over_rest(bot: Bot, clock: FakeClock) -> None:
    """``quizbot run --only scheduler``: no gateway, only a REST login; it still reaches the DM."""
    await miss_one(bot.engine, member(bot), bot.place)
    await bot.engine.update_settings(bot.place, timezone="UTC")
    await command(bot, "remind", time="08:00")
    scheduler = make_client(
        bot.engine, DiscordSettings(token=Secret(bot.fake.token)), serve=False, schedule=True
    )
    clock.now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    dm = bot.fake.dm_channel(bot.fake.member.user.id)
    async with scheduler:
        await scheduler.login(bot.fake.token)  # starts the scheduler's loops: the first tick sends
        await bot.fake.wait_for(lambda: bool(reminders_in(bot, dm.id)), 5)
        assert await scheduler.reminders.once() == 0  # once a day
        assert await bot.client.reminders.once() == 0  # claimed already: the serving client sends nothing
    (reminder,) = reminders_in(bot, dm.id)
    assert "You have 1 review(s) due today" in reminder.content
