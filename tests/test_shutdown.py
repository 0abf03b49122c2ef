"""Stopping without losing an answer: the engine's gate, then a real `quizbot run` taking
SIGTERM in the middle of a burst of 200 answers."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine import AnswerRefused, FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.cards import RefusalReason
from bot.store import Database
from bot.store.migrate import upgrade
from bot.store.tables import attempts, learners, rounds
from tests.fakes.discord_server import FakeDiscord
from tests.helpers.health import health
from tests.helpers.running import discord_env, start_run, stop_run
from tests.test_run_roles import learner_click, quiz_messages

PLACE = PlaceRef("discord", "guild-1", "chan-1")


def right_letters(card: QuestionCard) -> list[str]:
    return [o.letter for o in card.options if o.correct]


async def test_shutting_down_lets_answers_in_flight_commit_and_refuses_later_ones(
    engine: QuizEngine,
) -> None:
    card = await engine.ask(PLACE)
    assert isinstance(card, QuestionCard)
    early = LearnerRef("discord", "early", "Early")
    in_flight = asyncio.create_task(engine.answer(card.round_id, early, right_letters(card), place=PLACE))
    await asyncio.sleep(0)  # admitted: it is now waiting on the database
    assert engine.inflight.running == 1
    assert await engine.shut_down(10) == 0
    assert in_flight.done()  # the stop waited for it
    assert isinstance(in_flight.result(), FeedbackCard)

    late = await engine.answer(card.round_id, LearnerRef("discord", "late", "Late"), right_letters(card))
    assert isinstance(late, AnswerRefused) and late.reason is RefusalReason.RESTARTING
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.total_answers == 1  # the early one, and only it


async def test_a_stuck_answer_bounds_the_wait(engine: QuizEngine, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer holds the answer up")
    card = await engine.ask(PLACE)
    assert isinstance(card, QuestionCard)
    lock = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        stuck = asyncio.create_task(
            engine.answer(card.round_id, LearnerRef("discord", "u", "U"), right_letters(card), place=PLACE)
        )
        await asyncio.sleep(0.05)
        assert await engine.shut_down(0.3) == 1  # gave up waiting, and says so
        assert not stuck.done()
    finally:
        lock.execute("COMMIT")
        lock.close()
    assert isinstance(await asyncio.wait_for(stuck, 10), FeedbackCard)  # it was never cut off


async def test_sigterm_during_a_burst_keeps_every_answer_that_got_a_reply(tmp_path: Path) -> None:
    db_path = tmp_path / "quizbot.db"
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(database)
    await database.dispose()
    async with FakeDiscord() as fake:
        learners_ = [fake.add_member(fake.guild.id, f"learner{n}") for n in range(200)]
        env = discord_env(fake, f"sqlite:///{db_path}")
        process = await start_run(env, tmp_path)
        try:
            for _ in range(100):
                if (await health(env, tmp_path))[0] == 0:
                    break
                await asyncio.sleep(0.2)
            asked = await fake.slash_command(
                "quiz", {"minutes": 60}, subcommand="question", user_id=fake.admin.user.id
            )
            assert (await asked.response(timeout=5)).accepted
            await fake.wait_for(lambda: bool(quiz_messages(fake)), 10)
            question = quiz_messages(fake)[0]

            async def answer(user_id: int) -> str:
                try:
                    return await learner_click(fake, question, user_id)
                except Exception as error:  # the gateway closed before this click got through
                    return f"no reply: {type(error).__name__}"

            replies = [asyncio.create_task(answer(learner.user.id)) for learner in learners_[:120]]
            await fake.wait_for(lambda: len(fake.interactions) > 60, 10)
            process.send_signal(signal.SIGTERM)  # mid-burst, as a service manager would
            replies += [asyncio.create_task(answer(learner.user.id)) for learner in learners_[120:]]
            said = dict(zip((m.user.id for m in learners_), await asyncio.gather(*replies), strict=True))
        finally:
            status, output = await stop_run(process)
    assert status == 0, output
    assert "Traceback" not in output, output
    assert "new answers are refused" in output  # the stop went through the gate, not around it

    database = Database(f"sqlite+aiosqlite:///{db_path}")
    try:
        async with database.read() as conn:
            stored = set(
                (
                    await conn.execute(
                        select(learners.c.user_id).join(attempts, attempts.c.learner_id == learners.c.id)
                    )
                ).scalars()
            )
            open_rounds = (await conn.execute(select(rounds.c.closed_at))).scalars().all()
    finally:
        await database.dispose()
    replied = {str(user) for user, text in said.items() if "Correct!" in text or "Not quite" in text}
    refused = {str(user) for user, text in said.items() if "restarting" in text}
    assert replied, said  # the burst really was under way
    assert replied <= stored  # every answer that was acknowledged is in the database
    assert not refused & stored  # and "not recorded" meant it
    assert open_rounds == [None]  # the round stays open for the next start
