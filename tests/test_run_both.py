"""One `quizbot run` process serving Discord and Slack at once, as a study group that uses
both runs it: one engine, one database, a round answered on each platform."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select

from bot.engine import QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import attempts, learners, places, rounds
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack, SlackClientSim
from tests.helpers.running import discord_env, start_run, stop_run
from tests.test_run_roles import healthy, learner_click, quiz_messages
from tests.test_slack_adapter import SECRET, Bot, answer, post_question, right_letters


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_one_process_serves_both_platforms_into_one_database(
    tmp_path: Path, bank: QuestionBank
) -> None:
    db_path = tmp_path / "both.db"
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(database)
    store = SqlStore(database)
    port = free_port()
    try:
        async with FakeDiscord() as discord_fake, FakeSlack() as slack_fake:
            env = discord_env(
                discord_fake,
                f"sqlite:///{db_path}",
                SLACK_BOT_TOKEN="xoxb-test",  # the token the fake workspace issued
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=slack_fake.api_url,
                QUIZBOT_HTTP_PORT=str(port),
            )
            process = await start_run(env, tmp_path)
            try:
                said = await healthy(env, tmp_path, "discord", "slack")
                assert said.count("pid") == 1  # one process, both parts

                asked = await discord_fake.slash_command(
                    "quiz", {}, subcommand="question", user_id=discord_fake.admin.user.id
                )
                assert (await asked.response(timeout=5)).accepted
                await discord_fake.wait_for(lambda: bool(quiz_messages(discord_fake)), 10)
                question = quiz_messages(discord_fake)[0]
                await learner_click(discord_fake, question, discord_fake.member.user.id)

                async with SlackClientSim(slack_fake, f"http://127.0.0.1:{port}/slack/events", SECRET) as sim:
                    slack = Bot(slack_fake, sim, cast(Any, None), QuizEngine(store, bank), store, db_path)
                    message, round_id = await post_question(slack)
                    learner = slack_fake.member.id
                    await answer(slack, message, round_id, learner, await right_letters(slack, round_id))
                    await slack_fake.wait_for(lambda: "Correct!" in slack.private_text(learner), 10)
            finally:
                status, output = await stop_run(process)
        assert status == 0, output
        assert "discord adapter ready" in output and "slack adapter ready" in output
        async with database.read() as conn:
            answered = (
                await conn.execute(
                    select(learners.c.platform, learners.c.user_id, places.c.platform)
                    .join(attempts, attempts.c.learner_id == learners.c.id)
                    .join(rounds, rounds.c.id == attempts.c.round_id)
                    .join(places, places.c.id == rounds.c.place_id)
                    .order_by(learners.c.platform)
                )
            ).all()
        assert [tuple(row) for row in answered] == [
            ("discord", str(discord_fake.member.user.id), "discord"),
            ("slack", slack_fake.member.id, "slack"),
        ]
    finally:
        await store.close()
