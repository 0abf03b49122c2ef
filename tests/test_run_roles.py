"""`quizbot run --only`: roles split across processes that share one database.

The plan is checked directly; the split itself with two real `quizbot run` processes on
one PostgreSQL against the fake Discord: the serving process takes the clicks, the
scheduler posts the daily question and closes the round, and neither does the other's job.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.adapters.discord.client import CLOSE_INTERVAL_SECONDS
from bot.engine import PlaceRef, QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import rounds
from bot.supervisor import Part, RoleError, plan_parts
from tests.fakes.discord_server import FakeDiscord, StoredMessage
from tests.helpers.health import health
from tests.helpers.running import REPO, discord_env, identified, start_run, stop_run

BOTH = {"discord": object(), "slack": object()}


def test_by_default_every_configured_platform_serves_and_schedules() -> None:
    assert plan_parts(BOTH) == [Part("discord", True, True), Part("slack", True, True)]
    assert plan_parts({"discord": None, "slack": object()}) == [Part("slack", True, True)]


def test_only_scheduler_schedules_every_platform_and_serves_none() -> None:
    parts = plan_parts(BOTH, ["scheduler"])
    assert parts == [Part("discord", False, True), Part("slack", False, True)]
    assert [p.name for p in parts] == ["discord scheduler", "slack scheduler"]


def test_only_a_platform_leaves_the_other_and_the_scheduler_out() -> None:
    assert plan_parts(BOTH, ["discord"]) == [Part("discord", True, False)]
    assert plan_parts(BOTH, ["slack", "scheduler"]) == [
        Part("discord", False, True),
        Part("slack", True, True),
    ]


def test_only_an_unconfigured_platform_is_refused_with_what_to_set() -> None:
    with pytest.raises(RoleError, match="SLACK_BOT_TOKEN"):
        plan_parts({"discord": object(), "slack": None}, ["slack"])


def test_the_command_refuses_an_unconfigured_role_with_status_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz0123456789",
        "QUIZBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--only", "slack"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--only slack" in done.stderr and "SLACK_BOT_TOKEN" in done.stderr
    assert not (tmp_path / "q.db").exists()  # refused before touching anything


def quiz_messages(fake: FakeDiscord) -> list[StoredMessage]:
    return [m for m in fake.messages(fake.channel.id) if m.embeds]


async def healthy(env: dict[str, str], cwd: Path, *names: str) -> str:
    """Wait until `quizbot health` is true and names every part; returns what it said."""
    said: tuple[int | None, str] = (None, "")
    for _ in range(100):
        said = await health(env, cwd)
        if said[0] == 0 and all(name in said[1] for name in names):
            return said[1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"never healthy with {names}: {said}")


async def test_a_serving_process_and_a_scheduler_serve_one_round_on_postgres(
    tmp_path: Path, bank: QuestionBank, fresh_postgres_url: str
) -> None:
    database = Database(fresh_postgres_url)
    await upgrade(database)
    store = SqlStore(database)
    try:
        async with FakeDiscord() as fake:
            place = PlaceRef("discord", str(fake.guild.id), str(fake.channel.id))
            due = datetime.now(UTC) - timedelta(minutes=1)
            engine = QuizEngine(store, bank)
            await engine.set_daily(
                place,
                f"{due:%H:%M}",
                created_by=str(fake.admin.user.id),
                timezone="UTC",
                close_after_minutes=60,
            )
            learners = [fake.add_member(fake.guild.id, f"learner{n}") for n in range(3)]
            env = discord_env(fake, fresh_postgres_url)
            serving = await start_run(env, tmp_path, "--only", "discord")
            scheduler = None
            try:
                await healthy(env, tmp_path, "discord")
                await asyncio.sleep(CLOSE_INTERVAL_SECONDS + 1)  # a tick of the daily loop, were it running
                assert quiz_messages(fake) == []  # serving only: the daily question waits for a scheduler

                scheduler = await start_run(env, tmp_path, "--only", "scheduler")
                await fake.wait_for(lambda: bool(quiz_messages(fake)), 20)
                question = quiz_messages(fake)[0]
                custom_id = question.components[0]["components"][0]["custom_id"]
                round_id = int(custom_id.split(":")[2])
                said = await healthy(env, tmp_path, "discord scheduler", "discord")
                assert said.count("pid") == 2  # two processes, each beating for its own parts

                for learner in learners:  # the serving process takes every click
                    record = await learner_click(fake, question, learner.user.id)
                    assert record
                async with database.write() as conn:  # the round's time is up
                    await conn.execute(
                        update(rounds)
                        .where(rounds.c.id == round_id)
                        .values(deadline=datetime.now(UTC) - timedelta(seconds=1))
                    )
                await fake.wait_for(lambda: len(quiz_messages(fake)) >= 2, 20)  # the scheduler reveals
                reveal = quiz_messages(fake)[-1].embeds[0]
                assert "Round closed" in reveal["title"]
                assert "3 answer(s)" in reveal["description"]
                assert identified(fake) == 1  # the scheduler never opened a gateway session
            finally:
                outcomes = [await stop_run(serving)]
                if scheduler is not None:
                    outcomes.append(await stop_run(scheduler))
        for status, output in outcomes:
            assert status == 0, output
        assert "discord scheduler ready" in outcomes[1][1]
        assert "run `quizbot run --only scheduler` beside it" in outcomes[0][1]
    finally:
        await store.close()


async def learner_click(fake: FakeDiscord, question: StoredMessage, user_id: int) -> str:
    """One learner presses the first button (or picks the first options) and reads the reply."""
    component = question.components[0]["components"][0]
    if component["type"] == 2:
        record = await fake.click(component["custom_id"], question.id, user_id=user_id)
    else:
        picks = [o["value"] for o in component["options"][: component["min_values"]]]
        record = await fake.select(component["custom_id"], picks, question.id, user_id=user_id)
    callback = await record.response(timeout=5)
    if callback.type == 4:
        return str(callback.data.get("content") or callback.data.get("embeds"))
    (message,) = await record.wait_followups(1, timeout=15)
    return message.content or str(message.embeds)
