"""/quiz exam on Discord end to end: the real discord.py client over sockets against the
fake Discord, a real SQLite database and a settable clock for the time limit."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.engine import QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import mock_exams
from tests.conftest import FakeClock
from tests.fakes.discord_server import FakeDiscord, StoredMessage, pointed_at
from tests.helpers.discord_reply import followup_text
from tests.test_discord_adapter import Bot, buttons, running_client


@pytest.fixture
async def bot(tmp_path: Path, bank: QuestionBank, clock: FakeClock) -> AsyncIterator[Bot]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(5))
    try:
        async with FakeDiscord() as fake:
            with pointed_at(fake):
                async with running_client(fake, engine) as client:
                    yield Bot(fake, client, engine, store, tmp_path / "quizbot.db")
    finally:
        await store.close()


def controls(message: StoredMessage) -> dict[str, dict[str, Any]]:
    return {c["custom_id"]: c for c in buttons(message)}


async def start_exam(bot: Bot, count: int) -> tuple[StoredMessage, int]:
    record = await bot.fake.slash_command("quiz", {"count": count}, subcommand="exam")
    reply = await followup_text(record)
    callback = await record.response()
    assert callback.ephemeral and "Your mock exam is in your direct messages" in reply
    dm = bot.fake.dm_channel(bot.fake.member.user.id)
    assert f"/channels/@me/{dm.id}" in reply
    (message,) = [m for m in bot.fake.messages(dm.id) if m.components]
    assert "Mock exam:" in message.content and "question 1 of" in message.embeds[0]["title"]
    return message, dm.id


async def answer_shown(bot: Bot, message: StoredMessage, pick: str) -> None:
    """Answer the question the exam message shows: ``pick`` "first" letters or "last" ones."""
    shown = controls(message)
    select_id = next((c for c in shown if c.startswith("quiz:xm:")), None)
    if select_id is not None:
        values = [o["value"] for o in shown[select_id]["options"]]
        count = shown[select_id]["min_values"]
        record = await bot.fake.select(
            select_id, values[:count] if pick == "first" else values[-count:], message.id
        )
    else:
        letters = sorted(c for c in shown if c.startswith("quiz:xa:"))
        record = await bot.fake.click(letters[0] if pick == "first" else letters[-1], message.id)
    callback = await record.response()
    assert callback.accepted and callback.type == 7  # the exam message is edited in place: no feedback


async def stored_exams(bot: Bot) -> list[Any]:
    async with bot.store.db.read() as conn:
        return list(await conn.execute(select(mock_exams).order_by(mock_exams.c.id)))


async def sent_exam(bot: Bot) -> Any:
    """The (only) exam once its result is recorded as sent (the bot does that after sending)."""
    for _ in range(100):
        (row,) = await stored_exams(bot)
        if row.result_sent_at is not None:
            break
        await asyncio.sleep(0.05)
    return row


async def test_an_exam_runs_in_the_dm_and_its_result_arrives_there(bot: Bot) -> None:
    message, dm_id = await start_exam(bot, 3)
    exam_id = int(next(iter(controls(message))).split(":")[2])
    for step in range(3):
        await answer_shown(bot, message, "first")
        message = bot.fake.message(message.id)
        title = message.embeds[0]["title"]
        assert f"question {min(step + 2, 3)} of 3 · {step + 1} answered" in title
        assert "Correct" not in str(message.data) and "Why:" not in str(message.data)
    assert any(f["name"] == "✎" for f in message.embeds[0].get("fields", []))  # the answer given
    # back to question 1 and change the answer
    back = await bot.fake.click(f"quiz:xg:{exam_id}:2", message.id)
    await back.response()
    back = await bot.fake.click(f"quiz:xg:{exam_id}:1", message.id)
    await back.response()
    message = bot.fake.message(message.id)
    assert "question 1 of 3 · 3 answered" in message.embeds[0]["title"]
    await answer_shown(bot, message, "last")

    # someone else clicks a forged copy of these buttons: refused politely, nothing changes
    forged = discord.ui.View(timeout=None)
    forged.add_item(discord.ui.Button(label="A", custom_id=f"quiz:xa:{exam_id}:1:A"))
    forged.add_item(discord.ui.Button(label="Submit", custom_id=f"quiz:xs:{exam_id}"))
    channel = bot.client.get_partial_messageable(bot.fake.channel.id)  # type: ignore[attr-defined]
    posted = await channel.send("forged", view=forged)
    for custom_id in (f"quiz:xa:{exam_id}:1:A", f"quiz:xs:{exam_id}"):
        record = await bot.fake.click(custom_id, posted.id, user_id=bot.fake.admin.user.id)
        assert "not yours" in await followup_text(record)
        assert (await record.response()).ephemeral
    assert (await stored_exams(bot))[0].finished_at is None

    submit = await bot.fake.click(f"quiz:xs:{exam_id}", message.id)
    assert (await submit.response()).type == 7
    result = bot.fake.message(message.id)
    assert result.components == [] and result.embeds[0]["title"] == "Mock exam result"
    (row,) = await stored_exams(bot)
    head = result.embeds[0]["description"]
    assert (
        f"{row.correct} of 3 correct" in head
        and f"Estimated scaled score: {row.scaled_score} of 1000" in head
    )
    assert "AWS publishes no mapping" in head and "Task 3." in head
    assert (await sent_exam(bot)).result_sent_at is not None  # marked once every review was sent
    reviews = [e for m in bot.fake.messages(dm_id) if m.id != message.id for e in m.embeds]
    assert len(reviews) == 3 - row.correct
    assert all("Why:" in e["description"] and "Learn more: https://" in e["description"] for e in reviews)
    # a stale click on the finished exam
    again = await bot.fake.click(f"quiz:xs:{exam_id}", posted.id)
    assert "already finished" in await followup_text(again)
    assert not bot.fake.unknown_routes


async def test_the_time_limit_submits_the_exam_and_sends_the_result(bot: Bot, clock: FakeClock) -> None:
    message, dm_id = await start_exam(bot, 2)
    await answer_shown(bot, message, "first")
    clock.advance(minutes=3)  # 2 × 1.5 minutes
    await bot.fake.wait_for(lambda: any("Time is up" in str(m.embeds) for m in bot.fake.messages(dm_id)), 10)
    row = await sent_exam(bot)
    assert row.finished_at is not None and row.result_sent_at is not None
    head = next(m for m in bot.fake.messages(dm_id) if "Time is up" in str(m.embeds)).embeds[0]
    assert "2 answered" not in head["description"] and "1 answered" in head["description"]
    assert (await bot.engine.leaderboard(bot.place, None)).total_learners == 0  # not on any board
    stats = await bot.fake.slash_command("quiz", subcommand="stats")
    assert f"Mock exams: 1 · last estimate {row.scaled_score}" in await followup_text(stats)
    # a click on the expired exam's old message
    late = await bot.fake.click(next(iter(controls(bot.fake.message(message.id)))), message.id)
    assert "already finished" in await followup_text(late)
