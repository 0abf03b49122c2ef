"""/quiz exam on Slack end to end: the real slack-bolt app over HTTP, signed requests,
the fake Slack Web API, a real SQLite database, and a settable clock for the time limit."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.engine.questions import QuestionBank
from bot.store.tables import mock_exams
from tests.conftest import FakeClock
from tests.fakes.slack_server import Message
from tests.test_slack_adapter import Bot, _zero, eventually, install, running


@pytest.fixture
async def bot(tmp_path: Path, bank: QuestionBank) -> AsyncIterator[Bot]:
    async with running(tmp_path, bank) as running_bot:
        yield running_bot


@pytest.fixture
def clock(bot: Bot) -> FakeClock:
    """The engine's time, moved by the test (the closing loop reads it too)."""
    fake = FakeClock(datetime.now(UTC))
    bot.engine.clock = fake
    return fake


def exam_message(bot: Bot, dm: str) -> Message:
    return next(m for m in bot.fake.messages(dm) if any(b["type"] == "actions" for b in m.blocks))


def shown(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


async def wait_for_text(bot: Bot, dm: str, needle: str) -> Message:
    await bot.fake.wait_for(lambda: any(needle in shown(m) for m in bot.fake.messages(dm)), 5)
    return next(m for m in bot.fake.messages(dm) if needle in shown(m))


async def start_exam(bot: Bot, count: int) -> tuple[str, Message]:
    user = bot.fake.member.id
    delivery = await bot.sim.slash_command(f"exam {count}", user=user)
    assert delivery.status == 200 and delivery.elapsed < 3
    await bot.fake.wait_for(lambda: "Your mock exam is in your direct messages" in bot.private_text(user), 5)
    dm = bot.fake.dm(user).id
    message = await wait_for_text(bot, dm, f"question 1 of {count}")
    assert any("Mock exam:" in m.text for m in bot.fake.messages(dm))
    return dm, message


async def answer_shown(bot: Bot, dm: str, message: Message) -> None:
    """Answer the question on the exam message with its first letter(s); wait for the update."""
    edits = len(message.edits)
    if "quiz_exam_multi" in shown(message):
        count = int(re.search(r"Choose (\d) answers", shown(message))[1])  # type: ignore[index]
        await bot.sim.block_action(
            "quiz_exam_multi", user=bot.fake.member.id, channel=dm, message_ts=message.ts
        )
        state = {
            "choice": {
                "letters": {
                    "type": "checkboxes",
                    "selected_options": [{"value": v} for v in "ABCDEF"[:count]],
                }
            }
        }
        for _ in range(100):
            try:
                await bot.sim.view_submission("quiz_exam_multi", state, user=bot.fake.member.id)
                break
            except LookupError:  # the form is not open yet
                await asyncio.sleep(0.05)
    else:
        await bot.sim.block_action(
            "quiz_exam_answer_A", user=bot.fake.member.id, channel=dm, message_ts=message.ts
        )
    await bot.fake.wait_for(lambda: len(message.edits) > edits, 5)


async def exam_rows(bot: Bot) -> list[Any]:
    async with bot.store.db.read() as conn:
        return list(await conn.execute(select(mock_exams).order_by(mock_exams.c.id)))


async def until_sent(bot: Bot) -> Any:
    for _ in range(100):
        (row,) = await exam_rows(bot)
        if row.result_sent_at is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the result was never recorded as sent")


async def test_an_exam_runs_in_the_app_dm_and_its_result_arrives_there(bot: Bot) -> None:
    dm, message = await start_exam(bot, 3)
    for step in range(3):
        await answer_shown(bot, dm, message)
        assert f"question {min(step + 2, 3)} of 3 · {step + 1} answered" in shown(message)
        assert "Correct" not in shown(message) and "Why:" not in shown(message)  # no feedback yet
    assert "Your answer:" in shown(message)
    await bot.sim.block_action(
        "quiz_exam_previous", user=bot.fake.member.id, channel=dm, message_ts=message.ts
    )
    await bot.fake.wait_for(lambda: "question 2 of 3" in shown(message), 5)

    # someone else clicks the buttons of this exam: a private refusal, nothing changes
    admin = bot.fake.admin.id
    await bot.sim.block_action("quiz_exam_submit", user=admin, channel=dm, message_ts=message.ts)
    await bot.fake.wait_for(lambda: any("not yours" in m.text for m in bot.fake.ephemerals(dm, admin)), 5)
    assert (await exam_rows(bot))[0].finished_at is None

    await bot.sim.block_action("quiz_exam_submit", user=bot.fake.member.id, channel=dm, message_ts=message.ts)
    await bot.fake.wait_for(lambda: "Mock exam result" in shown(message), 5)
    row = await until_sent(bot)
    head = shown(message)
    assert (
        f"{row.correct} of 3 correct" in head
        and f"Estimated scaled score: {row.scaled_score} of 1000" in head
    )
    assert "AWS publishes no mapping" in head and "actions" not in head  # the buttons are gone
    reviews = [m for m in bot.fake.messages(dm) if "Why:" in shown(m)]
    assert sum(shown(m).count("Why:") for m in reviews) == 3 - row.correct
    assert all("Learn more: https://" in shown(m) for m in reviews)
    assert not bot.fake.unknown_calls


async def test_the_time_limit_submits_the_exam_and_posts_the_result(bot: Bot, clock: FakeClock) -> None:
    dm, message = await start_exam(bot, 2)
    await answer_shown(bot, dm, message)
    clock.advance(minutes=3)  # 2 × 1.5 minutes
    result = await wait_for_text(bot, dm, "Time is up")
    row = await until_sent(bot)
    assert row.finished_at is not None and "1 answered" in shown(result)
    assert (await bot.engine.leaderboard(bot.place, None)).total_learners == 0  # not on any board
    # the old exam message's buttons now get a polite private answer
    await bot.sim.block_action(
        "quiz_exam_previous", user=bot.fake.member.id, channel=dm, message_ts=message.ts
    )
    member = bot.fake.member.id
    await bot.fake.wait_for(
        lambda: any("already finished" in m.text for m in bot.fake.ephemerals(dm, member)), 5
    )
    stats = await bot.sim.slash_command("stats", user=member)
    assert stats.status == 200
    await bot.fake.wait_for(
        lambda: f"Mock exams: 1 · last estimate {row.scaled_score}" in bot.private_text(member), 5
    )


async def test_a_result_slack_refused_is_posted_on_a_later_pass(bot: Bot, clock: FakeClock) -> None:
    dm, _ = await start_exam(bot, 1)
    bot.fake.error_next("chat.postMessage", "internal_error")  # the first try of the result fails
    clock.advance(minutes=2)
    await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("chat.postMessage")[2:]), 5)
    await asyncio.sleep(0.5)  # a few closing passes: not offered again before 30 s
    assert not any("Time is up" in shown(m) for m in bot.fake.messages(dm))
    (row,) = await exam_rows(bot)
    assert row.finished_at is not None and row.result_sent_at is None
    clock.advance(seconds=31)
    await wait_for_text(bot, dm, "Time is up")
    assert (await until_sent(bot)).result_sent_at is not None
    assert sum("Time is up" in shown(m) for m in bot.fake.messages(dm)) == 1


async def test_an_exam_the_dm_cannot_take_is_not_left_running(bot: Bot) -> None:
    bot.fake.error_next("chat.postMessage", "cannot_dm_bot")
    delivery = await bot.sim.slash_command("exam 5", user=bot.fake.member.id)
    assert delivery.status == 200
    await bot.fake.wait_for(lambda: "could not start the exam" in bot.private_text(bot.fake.member.id), 5)
    async with bot.store.db.read() as conn:
        assert (await conn.execute(select(mock_exams.c.id))).all() == []  # nothing to expire later


async def test_a_result_for_a_workspace_without_a_token_is_given_up_at_once(
    tmp_path: Path, bank: QuestionBank, caplog: pytest.LogCaptureFixture
) -> None:
    """The app was uninstalled while an exam ran: its tokens are gone, so the result can
    never be posted. It is marked at once (not retried for a day) with one log line."""
    async with running(tmp_path, bank, oauth=True) as bot:
        await install(bot)
        token = await bot.adapter.quiz.token_for("T1")
        assert token
        clock = FakeClock(datetime.now(UTC))
        bot.engine.clock = clock
        await start_exam(bot, 1)
        await bot.sim.event({"type": "app_uninstalled"}, event_id="EvGone")
        await eventually(lambda: _zero(bot))
        posts = len(bot.fake.calls_to("chat.postMessage"))
        with caplog.at_level(logging.INFO, "bot"):
            clock.advance(minutes=2)
            row = await until_sent(bot)
            clock.advance(seconds=31)  # a later pass would offer an unmarked result again
            await asyncio.sleep(0.6)
        assert row.finished_at is not None
        lines = [r.getMessage() for r in caplog.records if f"mock exam {row.id}" in r.getMessage()]
        assert len(lines) == 1 and "no bot token" in lines[0], lines
        assert not any(token in r.getMessage() for r in caplog.records)
        assert len(bot.fake.calls_to("chat.postMessage")) == posts  # nothing was tried without a token


async def test_a_result_slack_will_never_take_is_given_up(bot: Bot, clock: FakeClock) -> None:
    dm, _ = await start_exam(bot, 1)
    bot.fake.error_next("chat.postMessage", "account_inactive")  # the token no longer works
    clock.advance(minutes=2)
    row = await until_sent(bot)  # given up on: never offered again
    assert row.finished_at is not None
    assert not any("Time is up" in shown(m) for m in bot.fake.messages(dm))
