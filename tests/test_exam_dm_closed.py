"""A mock exam that could not reach the member (their DMs are closed) leaves nothing behind:
no exam expires into their stats later."""

from __future__ import annotations

import asyncio

import pytest

from bot.engine.cards import ExamResultCard
from tests.conftest import FakeClock
from tests.helpers.discord_reply import followup_text
from tests.test_discord_adapter import Bot
from tests.test_discord_exam import answer_shown, bot, sent_exam, start_exam, stored_exams  # noqa: F401


async def test_an_exam_the_dm_refused_is_not_left_running(bot: Bot, clock: FakeClock) -> None:  # noqa: F811
    bot.fake.fail_next("POST", r"/channels/\d+/messages$", status=403, times=1)
    record = await bot.fake.slash_command("quiz", {"count": 5}, subcommand="exam")
    reply = await followup_text(record)
    assert "could not send you a direct message" in reply, reply  # told the DM is closed
    clock.advance(minutes=30)
    results = await bot.engine.expire_exams(platform="discord")
    scored = [(r.correct, r.scaled_score) for r in results if isinstance(r, ExamResultCard)]
    assert await stored_exams(bot) == [], f"an exam nobody could see was scored: {scored}"


async def test_a_result_the_dm_refuses_for_good_is_given_up_at_once(
    bot: Bot,  # noqa: F811
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message, dm_id = await start_exam(bot, 2)
    await answer_shown(bot, message, "first")
    posts = rf"/channels/{dm_id}/messages"
    before = len(bot.fake.requests_to("POST", posts))  # the exam itself was posted there
    bot.fake.fail_next("POST", posts, status=403, times=100)  # the member closed their DMs meanwhile
    clock.advance(minutes=3)  # past the time limit: the closing loop submits the exam
    row = await sent_exam(bot)
    assert row.finished_at is not None and row.result_sent_at is not None  # given up, not pending
    tries = len(bot.fake.requests_to("POST", posts))
    assert tries == before + 1, (before, tries)
    await asyncio.sleep(1.0)  # several more passes of the closing loop
    assert len(bot.fake.requests_to("POST", posts)) == tries  # never tried again
    gave_up = [r.getMessage() for r in caplog.records if "cannot be sent to its DM" in r.getMessage()]
    assert len(gave_up) == 1 and "403" in gave_up[0]
    stats = await bot.fake.slash_command("quiz", subcommand="stats")
    assert f"last estimate {row.scaled_score}" in await followup_text(stats)  # kept in the stats
