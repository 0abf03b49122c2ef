"""A mock exam that could not reach the member (their DMs are closed) leaves nothing behind:
no exam expires into their stats later."""

from __future__ import annotations

from bot.engine.cards import ExamResultCard
from tests.conftest import FakeClock
from tests.helpers.discord_reply import followup_text
from tests.test_discord_adapter import Bot
from tests.test_discord_exam import bot, stored_exams  # noqa: F401  (the fixture)


async def test_an_exam_the_dm_refused_is_not_left_running(bot: Bot, clock: FakeClock) -> None:  # noqa: F811
    bot.fake.fail_next("POST", r"/channels/\d+/messages$", status=403, times=1)
    record = await bot.fake.slash_command("quiz", {"count": 5}, subcommand="exam")
    reply = await followup_text(record)
    assert "could not send you a direct message" in reply, reply  # told the DM is closed
    clock.advance(minutes=30)
    results = await bot.engine.expire_exams(platform="discord")
    scored = [(r.correct, r.scaled_score) for r in results if isinstance(r, ExamResultCard)]
    assert await stored_exams(bot) == [], f"an exam nobody could see was scored: {scored}"
