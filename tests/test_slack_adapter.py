"""The Slack adapter end to end: the real slack-bolt AsyncApp served over HTTP on
loopback (and through Socket Mode), signed Slack-shaped requests, and a fake Slack Web
API that records every call; a real SQLite database behind the engine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.adapters.slack.runner import SlackAdapter, build_slack, serve_http
from bot.adapters.slack.settings import SlackSettings
from bot.config import Secret
from bot.engine import PlaceRef, QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import attempts, installations, rounds
from tests.fakes.slack_server import FakeSlack, Message, SlackClientSim
from tests.helpers.health import health
from tests.helpers.people import learner_text
from tests.helpers.slack_oauth import install as install_with_oauth
from tests.helpers.slack_oauth import verify_url

SECRET = "test-signing-secret"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Bot:
    fake: FakeSlack
    sim: SlackClientSim
    adapter: SlackAdapter
    engine: QuizEngine
    store: SqlStore
    db_path: Path

    @property
    def place(self) -> PlaceRef:
        return PlaceRef("slack", "T1", self.fake.channel.id)

    def questions(self) -> list[Message]:
        return [m for m in self.fake.messages(self.fake.channel.id) if m.thread_ts is None]

    def thread(self, ts: str) -> list[Message]:
        return [m for m in self.fake.messages(self.fake.channel.id) if m.thread_ts == ts and m.ts != ts]

    async def attempts(self) -> int:
        async with self.store.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(attempts))).scalar_one())

    def private_text(self, user: str) -> str:
        return "\n".join(
            json.dumps(m.blocks, ensure_ascii=False) + m.text
            for m in self.fake.ephemerals(self.fake.channel.id, user)
        )


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, bank: QuestionBank, oauth: bool = False, **settings: Any
) -> AsyncIterator[Bot]:
    db_path = tmp_path / "quizbot.db"
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(17))
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        options = {
            "signing_secret": Secret(SECRET),
            "bot_token": Secret("xoxb-test"),
            "api_url": fake.api_url,
            **settings,
        }
        if oauth:  # installable in many workspaces: no bot token, the fake's app credentials
            options |= {
                "bot_token": None,
                "client_id": fake.client_id,
                "client_secret": Secret(fake.client_secret),
            }
        adapter = build_slack(engine, store, SlackSettings(**options), session, close_interval=0.2)
        adapter.quiz.start()
        runner, port = await serve_http(adapter, "127.0.0.1", 0)
        try:
            async with SlackClientSim(fake, f"http://127.0.0.1:{port}/slack/events", SECRET) as sim:
                yield Bot(fake, sim, adapter, engine, store, db_path)
        finally:
            await adapter.quiz.stop()
            await runner.cleanup()
            await store.close()


@pytest.fixture
async def bot(tmp_path: Path, bank: QuestionBank) -> AsyncIterator[Bot]:
    async with running(tmp_path, bank) as running_bot:
        yield running_bot


async def right_letters(bot: Bot, round_id: int, correct: bool = True) -> list[str]:
    record = await bot.store.get_round(round_id)
    assert record is not None
    question = bot.engine.bank.get(record.question_id)
    assert question is not None
    keys = [k for k in record.option_order if (k in question.answer) == correct][: question.select_count]
    return ["ABCDEF"[record.option_order.index(k)] for k in keys]


async def post_question(bot: Bot, text: str = "question") -> tuple[Message, int]:
    delivery = await bot.sim.slash_command(text, user=bot.fake.admin.id)
    assert delivery.status == 200 and delivery.elapsed < 3
    await bot.fake.wait_for(lambda: bool(bot.questions()), 5)
    message = bot.questions()[-1]
    actions = next(b for b in message.blocks if b["type"] == "actions")
    round_id = int(actions["block_id"].removeprefix("quiz_round_"))
    await bot.fake.wait_for(lambda: "Question posted" in bot.private_text(bot.fake.admin.id), 5)
    return message, round_id


async def submit_modal(bot: Bot, user: str, letters: list[str]) -> Any:
    """Submit the user's own answer form once it is open (opening it is the bot's job)."""
    state = {
        "choice": {"letters": {"type": "checkboxes", "selected_options": [{"value": v} for v in letters]}}
    }
    for _ in range(100):
        try:
            return await bot.sim.view_submission("quiz_multi", state, user=user)
        except LookupError:  # not opened yet
            await asyncio.sleep(0.05)
    raise AssertionError(f"no answer form was opened for {user}")


async def answer(bot: Bot, message: Message, round_id: int, user: str, letters: list[str]) -> Any:
    actions = next(b for b in message.blocks if b["type"] == "actions")
    if actions["elements"][0]["action_id"] == "quiz_answer_multi":
        opened = await bot.sim.block_action(
            "quiz_answer_multi", str(round_id), user=user, message_ts=message.ts
        )
        assert opened.status == 200 and opened.elapsed < 3
        return await submit_modal(bot, user, letters)
    return await bot.sim.block_action(
        f"quiz_answer_{letters[0]}", f"{round_id}:{letters[0]}", user=user, message_ts=message.ts
    )


def add_users(bot: Bot, count: int, prefix: str = "U") -> list[str]:
    ids = []
    for n in range(count):
        user = bot.fake.add_user(f"{prefix}{n:03d}", f"learner{n}")
        bot.fake.channel.members.add(user.id)
        ids.append(user.id)
    return ids


async def test_question_burst_with_a_slow_store(bot: Bot) -> None:
    message, round_id = await post_question(bot, "question 30")
    right = await right_letters(bot, round_id)
    users = add_users(bot, 50)
    lock = sqlite3.connect(bot.db_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another connection holds the write lock: the store is slow
    release = asyncio.get_running_loop().call_later(5, lock.execute, "COMMIT")
    try:
        first = await asyncio.gather(*(answer(bot, message, round_id, u, right) for u in users))
        again = await asyncio.gather(*(answer(bot, message, round_id, u, right) for u in users[:10]))
        assert all(d.status == 200 and d.elapsed < 3 for d in first + again), max(
            d.elapsed for d in first + again
        )
        await bot.fake.wait_for(lambda: all("Correct!" in bot.private_text(u) for u in users), 20)
        await bot.fake.wait_for(
            lambda: all("already answered" in bot.private_text(u) for u in users[:10]), 10
        )
    finally:
        release.cancel()
        with contextlib.suppress(sqlite3.OperationalError):
            lock.execute("COMMIT")
        lock.close()
    reveal = await bot.engine.close(round_id)  # the deadline passes just before the message is updated
    assert reveal is not None
    late = add_users(bot, 3, prefix="L")
    multi = any(
        e["action_id"] == "quiz_answer_multi"
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )
    for user in late:  # the buttons still show; the round is closed: no form opens, a polite note comes
        action = (
            ("quiz_answer_multi", str(round_id))
            if multi
            else (f"quiz_answer_{right[0]}", f"{round_id}:{right[0]}")
        )
        await bot.sim.block_action(*action, user=user, message_ts=message.ts)
    await bot.fake.wait_for(lambda: all("closed" in bot.private_text(u) for u in late), 5)
    await bot.adapter.quiz.publish_reveal(reveal)
    thread = [m for m in bot.fake.messages(bot.fake.channel.id) if m.thread_ts == message.ts]
    assert (
        thread
        and "50 answer(s)" in json.dumps(thread[-1].blocks)
        and "and 40 more" in json.dumps(thread[-1].blocks)
    )
    updated = next(m for m in bot.fake.messages(bot.fake.channel.id) if m.ts == message.ts)
    assert not any(b["type"] == "actions" for b in updated.blocks)  # buttons gone
    assert await bot.attempts() == 50


async def test_multiple_response_through_the_modal(bot: Bot) -> None:
    question = next(q for q in bot.engine.bank if q.type == "multiple")
    card = await bot.engine.ask(bot.place, question_id=question.id)
    from bot.engine import QuestionCard

    assert isinstance(card, QuestionCard)
    client = await bot.adapter.quiz.client_for("T1")
    assert client is not None
    await bot.adapter.quiz.post_question(client, bot.fake.channel.id, card)
    message = bot.questions()[-1]
    right = await right_letters(bot, card.round_id)
    too_few = await answer(bot, message, card.round_id, bot.fake.member.id, right[:1])
    assert too_few.status == 200 and "exactly" in too_few.body  # the modal stays open with an error
    done = await answer(bot, message, card.round_id, bot.fake.member.id, right)
    assert done.status == 200
    await bot.fake.wait_for(lambda: "Correct!" in bot.private_text(bot.fake.member.id), 5)


async def test_practice_runs_to_its_summary(bot: Bot) -> None:
    user = bot.fake.member.id

    def questions_shown() -> list[Message]:
        return [
            m
            for m in bot.fake.ephemerals(bot.fake.channel.id, user)
            if '"quiz_round_' in json.dumps(m.blocks)
        ]

    await bot.sim.slash_command("practice 3.4 2", user=user)
    for step in range(2):
        await bot.fake.wait_for(more_than(step, lambda: len(questions_shown())), 5)  # question step+1 shown
        shown = questions_shown()[-1]
        actions = next(b for b in shown.blocks if b["type"] == "actions")
        round_id = int(actions["block_id"].removeprefix("quiz_round_"))
        letters = await right_letters(bot, round_id)
        before = len(bot.fake.ephemerals(bot.fake.channel.id, user))
        if actions["elements"][0]["action_id"] == "quiz_answer_multi":
            await bot.sim.block_action("quiz_answer_multi", str(round_id), user=user, message_ts=shown.ts)
            await submit_modal(bot, user, letters)
        else:
            await bot.sim.block_action(
                f"quiz_answer_{letters[0]}", f"{round_id}:{letters[0]}", user=user, message_ts=shown.ts
            )
        await bot.fake.wait_for(
            more_than(before, lambda: len(bot.fake.ephemerals(bot.fake.channel.id, user))), 5
        )
        feedback = bot.fake.ephemerals(bot.fake.channel.id, user)[-1]
        assert "Correct!" in feedback.text
        buttons = [e for b in feedback.blocks if b["type"] == "actions" for e in b["elements"]]
        assert {e["action_id"] for e in buttons} == {"quiz_next", "quiz_guessed", "quiz_report"}
        next_button = next(e for e in buttons if e["action_id"] == "quiz_next")
        await bot.sim.block_action("quiz_next", next_button["value"], user=user, message_ts=feedback.ts)
    await bot.fake.wait_for(lambda: "Session finished" in bot.private_text(user), 5)
    assert "Task 3.4: 2/2" in bot.private_text(user)


async def test_leaderboard_stats_and_a_portuguese_user(bot: Bot) -> None:
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    portuguese = bot.fake.add_user("UPT", "bia", locale="pt-BR")
    bot.fake.channel.members.add(portuguese.id)
    await answer(bot, message, round_id, portuguese.id, right)
    await bot.fake.wait_for(lambda: "Correto!" in bot.private_text(portuguese.id), 5)
    await bot.sim.slash_command("leaderboard all", user=portuguese.id)
    await bot.fake.wait_for(lambda: "Classificação" in bot.private_text(portuguese.id), 5)
    assert "Você: posição 1 de 1" in bot.private_text(portuguese.id)
    await bot.sim.slash_command("stats", user=portuguese.id)
    await bot.fake.wait_for(lambda: "Estatísticas de" in bot.private_text(portuguese.id), 5)


async def test_app_home_is_published_once_per_delivery(bot: Bot) -> None:
    event = {"type": "app_home_opened", "user": bot.fake.member.id, "channel": "D1", "tab": "home"}
    first = await bot.sim.event(event, event_id="Ev1")
    retry = await bot.sim.event(event, retry_num=1, event_id="Ev1")  # Slack's retried delivery
    assert first.status == retry.status == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.views_published(bot.fake.member.id)), 5)
    await asyncio.sleep(0.3)
    assert len(bot.fake.views_published(bot.fake.member.id)) == 1
    view = bot.fake.views_published(bot.fake.member.id)[0]
    assert view["type"] == "home" and "quiz_practice_home" in json.dumps(view)


async def test_organiser_commands_are_refused_to_others(bot: Bot) -> None:
    await bot.sim.slash_command("admin feedback at-close", user=bot.fake.member.id)
    await bot.fake.wait_for(lambda: "Only organisers" in bot.private_text(bot.fake.member.id), 5)
    assert (await bot.engine.fresh_settings(bot.place)).feedback.value == "immediate"
    await bot.sim.slash_command(f"admin organisers add <@{bot.fake.member.id}|bob>", user=bot.fake.admin.id)
    await bot.fake.wait_for(lambda: "can now run organiser" in bot.private_text(bot.fake.admin.id), 5)
    await bot.sim.slash_command("admin feedback at-close", user=bot.fake.member.id)
    await bot.fake.wait_for(lambda: "Saved" in bot.private_text(bot.fake.member.id), 5)
    assert (await bot.engine.fresh_settings(bot.place)).feedback.value == "at-close"


async def test_bad_signatures_and_old_requests_change_nothing(bot: Bot) -> None:
    import time

    forged = await bot.sim.slash_command("question", user=bot.fake.admin.id, bad_signature=True)
    stale = await bot.sim.slash_command("question", user=bot.fake.admin.id, timestamp=int(time.time()) - 600)
    assert forged.status == stale.status == 401
    await asyncio.sleep(0.3)
    assert bot.questions() == [] and await bot.store.open_channel_round(bot.place) is None


async def test_rate_limit_is_retried(bot: Bot) -> None:
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await post_question(bot)
    posts = bot.fake.calls_to("chat.postMessage")
    assert [c.status for c in posts][:2] == [429, 200] and len(bot.questions()) == 1


async def test_not_in_channel_is_explained(bot: Bot) -> None:
    outside = bot.fake.add_channel("C2", "elsewhere", bot_member=False)
    outside.members.add(bot.fake.admin.id)
    bot.fake.error_next("chat.postMessage", "not_in_channel")
    await bot.sim.slash_command("question", user=bot.fake.admin.id, channel=outside.id)
    await bot.fake.wait_for(
        lambda: any("/invite" in m.text for m in bot.fake.ephemerals(outside.id, bot.fake.admin.id)), 5
    )
    assert await bot.store.open_channel_round(PlaceRef("slack", "T1", outside.id)) is None


async def install(bot: Bot) -> None:
    """The OAuth flow as a workspace admin meets it: the install page, Slack, the redirect."""
    await install_with_oauth(bot.fake, bot.sim.url)


async def installed_count(bot: Bot) -> int:
    async with bot.store.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(installations))).scalar_one())


async def eventually(check: Any) -> None:
    """Listeners run after the ack: wait (5 s at most) for their effect."""
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_oauth_install_then_revoke_and_uninstall(tmp_path: Path, bank: QuestionBank) -> None:
    async with running(tmp_path, bank, oauth=True) as bot:
        await install(bot)
        assert await installed_count(bot) == 1
        token = await bot.adapter.quiz.token_for("T1")
        assert token and token.startswith("xoxb-")
        await post_question(bot)  # the workspace's own token works
        assert bot.fake.calls_to("chat.postMessage")[-1].token == token
        await bot.sim.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, event_id="EvR")
        await eventually(lambda: _zero(bot))
        await install(bot)
        assert await installed_count(bot) == 1
        await bot.sim.event({"type": "app_uninstalled"}, event_id="EvU")
        await eventually(lambda: _zero(bot))
        assert await bot.adapter.quiz.token_for("T1") is None


async def test_the_bots_own_posts_rotate_an_expiring_token(tmp_path: Path, bank: QuestionBank) -> None:
    """A daily question no request triggered: the stored token has expired, so it is
    rotated first (with the app's own client), and the refresh token is spent once."""
    from datetime import UTC, datetime, timedelta

    async with running(tmp_path, bank, oauth=True) as bot:
        bot.fake.token_rotation, bot.fake.token_lifetime = True, 1  # every token dies within a second
        await install(bot)
        store = bot.adapter.installations
        assert store is not None
        installed = await store.async_find_bot(enterprise_id=None, team_id="T1")
        assert installed is not None and installed.bot_refresh_token
        await asyncio.sleep(1.1)  # the installed token no longer works
        due = datetime.now(UTC) - timedelta(minutes=1)
        await bot.engine.set_daily(bot.place, f"{due:%H:%M}", created_by=bot.fake.admin.id, timezone="UTC")
        await bot.fake.wait_for(lambda: bool(bot.questions()), 10)
        posted = bot.fake.calls_to("chat.postMessage")[-1]
        assert posted.token != installed.bot_token and posted.response and posted.response["ok"]
        refreshes = [
            c for c in bot.fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
        ]
        assert refreshes and all(c.response and c.response["ok"] for c in refreshes)  # never a spent one


async def _zero(bot: Bot) -> bool:
    return await installed_count(bot) == 0


async def test_report_a_question_from_its_feedback(bot: Bot) -> None:
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    user = bot.fake.member.id
    await answer(bot, message, round_id, user, right)
    await bot.fake.wait_for(lambda: "quiz_report" in bot.private_text(user), 5)
    feedback = [
        m for m in bot.fake.ephemerals(bot.fake.channel.id, user) if "quiz_report" in json.dumps(m.blocks)
    ][-1]
    await bot.sim.block_action("quiz_report", str(round_id), user=user, message_ts=feedback.ts)
    state = {"comment": {"text": {"type": "plain_text_input", "value": "the key looks wrong"}}}
    for _ in range(100):
        try:
            await bot.sim.view_submission("quiz_report_view", state, user=user)
            break
        except LookupError:
            await asyncio.sleep(0.05)
    await bot.fake.wait_for(lambda: "is reported" in bot.private_text(user), 5)
    (summary,) = await bot.engine.open_flags()
    assert summary.comments == ("the key looks wrong",)


async def test_reset_scores_asks_first(bot: Bot) -> None:
    admin = bot.fake.admin.id
    await bot.sim.slash_command("admin reset-scores", user=admin)
    await bot.fake.wait_for(lambda: "quiz_reset" in bot.private_text(admin), 5)
    confirm = [
        m for m in bot.fake.ephemerals(bot.fake.channel.id, admin) if "quiz_reset" in json.dumps(m.blocks)
    ][-1]
    assert (await bot.engine.fresh_settings(bot.place)).season == 1
    clicks = await asyncio.gather(  # a double click: both land before the message is replaced
        bot.sim.block_action("quiz_reset", "1", user=admin, message_ts=confirm.ts),
        bot.sim.block_action("quiz_reset", "1", user=admin, message_ts=confirm.ts),
    )
    assert all(c.status == 200 for c in clicks)
    await bot.fake.wait_for(lambda: "Season 2 has started" in bot.private_text(admin), 5)
    await asyncio.sleep(0.3)
    assert (await bot.engine.fresh_settings(bot.place)).season == 2


async def test_socket_mode_takes_a_command(tmp_path: Path, bank: QuestionBank) -> None:
    from bot.adapters.slack.runner import run_slack

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'socket.db'}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(5))
    stop = asyncio.Event()
    try:
        async with FakeSlack() as fake:
            settings = SlackSettings(
                signing_secret=Secret("unused"),
                bot_token=Secret("xoxb-test"),
                app_token=Secret(next(iter(fake.app_tokens))),
                api_url=fake.api_url,
            )
            task = asyncio.create_task(run_slack(engine, store, settings, stop))
            try:
                await fake.wait_for(lambda: fake.socket_connections > 0, 10)
                payload = fake.slash_command_payload("help", user=fake.member.id)
                envelope = await fake.socket_send("slash_commands", payload)
                ack = await fake.socket_ack(envelope)
                assert ack.elapsed < 3
                await fake.wait_for(
                    lambda: any(
                        "/quiz question" in m.text for m in fake.ephemerals(fake.channel.id, fake.member.id)
                    ),
                    5,
                )
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
    finally:
        await store.close()


async def test_quizbot_run_serves_slack_over_http(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeSlack() as fake:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "QUIZBOT_HTTP_PORT": str(port),
            "QUIZBOT_LOG_LEVEL": "DEBUG",  # libraries log bodies at debug: no secret may show
            "QUIZBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        }
        env.pop("DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            async with SlackClientSim(fake, f"http://127.0.0.1:{port}/slack/events", SECRET) as sim:
                await verify_url(sim)
                delivery = await sim.slash_command("help", user=fake.member.id)
                assert delivery.status == 200
                await fake.wait_for(
                    lambda: any(
                        "/quiz question" in m.text for m in fake.ephemerals(fake.channel.id, fake.member.id)
                    ),
                    5,
                )
                for _ in range(50):  # the heartbeat says so as soon as Slack is served
                    healthy = await health(env, tmp_path)
                    if healthy[0] == 0:
                        break
                    await asyncio.sleep(0.1)
                assert healthy[0] == 0 and "ok: pid" in healthy[1], healthy
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(f"http://127.0.0.1:{port}/healthz") as response,
                ):
                    assert response.status == 200 and (await response.json())["healthy"] is True
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    assert "slack adapter ready" in err.decode()
    assert "xoxb-test" not in err.decode() and SECRET not in err.decode()
    stopped = await health(env, tmp_path)
    assert stopped[0] == 1 and "no bot is running" in stopped[1], stopped


async def test_a_lost_reply_does_not_post_the_question_twice(bot: Bot) -> None:
    bot.fake.drop_after_store_next("chat.postMessage")  # stored, but the answer never arrives
    await post_question(bot)
    assert len(bot.questions()) == 1
    round_ = await bot.store.open_channel_round(bot.place)
    assert round_ is not None and round_.message_ref == f"slack:{bot.fake.channel.id}:{bot.questions()[0].ts}"


async def test_a_reveal_whose_reply_was_lost_is_found_not_posted_twice(bot: Bot) -> None:
    from datetime import timedelta

    question, round_id = await post_question(bot)
    record = await bot.store.get_round(round_id)
    assert record is not None and record.deadline is not None
    deadline = record.deadline
    bot.fake.drop_after_store_next("chat.postMessage")  # the reveal arrives; its reply does not
    bot.engine.clock = lambda: deadline
    await bot.fake.wait_for(lambda: len(bot.thread(question.ts)) >= 1, 5)
    await asyncio.sleep(0.5)
    async with bot.store.db.read() as conn:
        query = select(rounds.c.revealed_at).where(rounds.c.id == round_id)
        assert (await conn.execute(query)).scalar_one() is None  # the bot could not know
    bot.engine.clock = lambda: deadline + timedelta(minutes=1)
    await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("conversations.replies")), 5)
    await asyncio.sleep(0.6)
    assert len(bot.thread(question.ts)) == 1
    async with bot.store.db.read() as conn:
        assert (await conn.execute(query)).scalar_one() is not None


async def test_answer_form_opens_even_when_slack_is_slow_to_say_who_clicked(bot: Bot) -> None:
    question = next(q for q in bot.engine.bank if q.type == "multiple")
    from bot.engine import QuestionCard

    card = await bot.engine.ask(bot.place, question_id=question.id)
    assert isinstance(card, QuestionCard)
    client = await bot.adapter.quiz.client_for("T1")
    assert client is not None
    await bot.adapter.quiz.post_question(client, bot.fake.channel.id, card)
    newcomer = add_users(bot, 1, prefix="N")[0]
    bot.fake.fail_next("users.info", status=429, retry_after=3)  # a cold cache meets a rate limit
    message = bot.questions()[-1]
    await bot.sim.block_action("quiz_answer_multi", str(card.round_id), user=newcomer, message_ts=message.ts)
    await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("views.open")), 5)
    assert bot.fake.calls_to("views.open")[-1].ok  # the trigger had not expired


async def test_form_feedback_reaches_a_learner_outside_the_bots_channels(bot: Bot) -> None:
    question = next(q for q in bot.engine.bank if q.type == "multiple")
    hidden = bot.fake.add_channel("G1", "study-group", is_private=True, bot_member=False)
    hidden.members.add(bot.fake.member.id)
    user = bot.fake.member.id
    await bot.sim.slash_command("practice 1", user=user, channel=hidden.id)
    await bot.fake.wait_for(lambda: bool(bot.fake.ephemerals(hidden.id, user)), 5)
    shown = bot.fake.ephemerals(hidden.id, user)[-1]
    actions = next(b for b in shown.blocks if b["type"] == "actions")
    round_id = int(actions["block_id"].removeprefix("quiz_round_"))
    if actions["elements"][0]["action_id"] != "quiz_answer_multi":
        pytest.skip(f"the practice question was single-answer; {question.id} needs the form path")
    letters = await right_letters(bot, round_id)
    await bot.sim.block_action(
        "quiz_answer_multi", str(round_id), user=user, channel=hidden.id, message_ts=shown.ts
    )
    await submit_modal(bot, user, letters)
    await bot.fake.wait_for(
        lambda: any("Correct!" in m.text for m in bot.fake.ephemerals(hidden.id, user)), 5
    )


async def test_practice_now_from_app_home_runs_once_in_the_dm(bot: Bot) -> None:
    user = bot.fake.member.id
    await bot.sim.event(
        {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}, event_id="EvH"
    )
    await bot.fake.wait_for(lambda: bool(bot.fake.views_published(user)), 5)
    published = bot.fake.calls_to("views.publish")[-1].response
    assert published is not None
    view_id = published["view"]["id"]
    clicks = await asyncio.gather(
        *(
            bot.sim.block_action("quiz_practice_home", "10", user=user, container="view", view_id=view_id)
            for _ in range(2)
        )
    )
    assert all(c.status == 200 for c in clicks)
    dm = bot.fake.dm(user)
    await bot.fake.wait_for(lambda: bool(bot.fake.messages(dm.id)), 5)
    await asyncio.sleep(0.3)
    assert len(bot.fake.messages(dm.id)) == 1  # one session, one question
    assert not bot.fake.unknown_calls


async def test_rounds_close_by_themselves_and_reveal_in_the_thread(bot: Bot) -> None:
    message, round_id = await post_question(bot, "question 1")
    record = await bot.store.get_round(round_id)
    assert record is not None and record.deadline is not None
    deadline = record.deadline
    bot.engine.clock = lambda: deadline
    await bot.fake.wait_for(
        lambda: any(m.thread_ts == message.ts for m in bot.fake.messages(bot.fake.channel.id)), 5
    )
    assert (
        "Round closed"
        in next(m for m in bot.fake.messages(bot.fake.channel.id) if m.thread_ts == message.ts).text
    )


async def test_a_non_organiser_cannot_confirm_a_reset(bot: Bot) -> None:
    admin, member = bot.fake.admin.id, bot.fake.member.id
    await bot.sim.slash_command("admin reset-scores", user=admin)
    await bot.fake.wait_for(lambda: "quiz_reset" in bot.private_text(admin), 5)
    payload = bot.fake.block_action_payload("quiz_reset", "1", user=admin)
    payload["user"] = {"id": member, "username": "bob", "team_id": "T1"}  # a forged click
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)})
    delivery = await bot.sim.send(body, "application/x-www-form-urlencoded", payload)
    assert delivery.status == 200
    await asyncio.sleep(0.3)
    assert (await bot.engine.fresh_settings(bot.place)).season == 1


async def test_errors_speak_the_learners_language(bot: Bot) -> None:
    portuguese = bot.fake.add_user("UPT2", "caio", locale="pt-BR")
    bot.fake.channel.members.add(portuguese.id)
    await bot.sim.slash_command("question 5000", user=portuguese.id)
    await bot.fake.wait_for(
        lambda: "Uma rodada dura de 1 a 1440 minutos" in bot.private_text(portuguese.id), 5
    )
    await bot.sim.slash_command("admin timezone Mars/Base", user=bot.fake.admin.id)
    await bot.fake.wait_for(lambda: "IANA" in bot.private_text(bot.fake.admin.id), 5)


async def test_quizbot_run_names_the_part_that_failed(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:  # the port is already in use
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "QUIZBOT_HTTP_PORT": str(port),
            "QUIZBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'busy.db'}",
        }
        env.pop("DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "the slack adapter stopped" in err.decode() and "database" not in err.decode().lower()


async def test_daily_question_posts_once_and_reveals_once_in_its_thread(bot: Bot) -> None:
    from datetime import UTC, datetime

    admin = bot.fake.admin.id
    await bot.sim.slash_command(
        "admin daily set 09:00 America/Sao_Paulo mon-fri <!subteam^S123|@studiers>", user=admin
    )
    await bot.fake.wait_for(lambda: "Daily question set" in bot.private_text(admin), 5)
    bot.engine.clock = lambda: datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: bool(bot.questions()), 5)
    await asyncio.sleep(0.6)
    (post,) = bot.questions()
    assert "Question of the day · 2026-11-26" in json.dumps(
        post.blocks, ensure_ascii=False
    ) and post.text.startswith("<!subteam^S123>")
    assert post.metadata and post.metadata["event_payload"]["round_id"]
    bot.engine.clock = lambda: datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: len(bot.questions()) >= 2, 5)
    await asyncio.sleep(0.6)
    reveals = [m for m in bot.fake.messages(bot.fake.channel.id) if m.thread_ts == post.ts]
    assert len(reveals) == 1 and len(bot.questions()) == 2
    await bot.sim.slash_command("admin daily show", user=admin)
    await bot.fake.wait_for(lambda: "09:00 (America/Sao_Paulo)" in bot.private_text(admin), 5)


async def test_an_unrecorded_daily_post_is_found_not_posted_again(bot: Bot) -> None:
    from datetime import UTC, datetime

    await bot.adapter.quiz.stop()  # the bot is down while we play the process that crashed
    bot.engine.clock = lambda: datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
    await bot.engine.set_daily(bot.place, "09:00", created_by=bot.fake.admin.id, timezone="America/Sao_Paulo")
    (card,) = await bot.engine.run_daily("slack", "crashed")
    crashed = await bot.adapter.quiz.client_for("T1")
    assert crashed is not None
    await crashed.chat_postMessage(
        channel=bot.fake.channel.id,
        text="posted before the crash",
        metadata={"event_type": "quiz_round", "event_payload": {"round_id": card.round_id}},
    )
    bot.engine.clock = lambda: datetime(2026, 11, 26, 12, 5, tzinfo=UTC)
    bot.adapter.quiz.start()
    for _ in range(100):
        round_ = await bot.store.get_round(card.round_id)
        if round_ is not None and round_.message_ref:
            break
        await asyncio.sleep(0.05)
    assert round_ is not None and round_.message_ref == f"slack:{bot.fake.channel.id}:{bot.questions()[0].ts}"
    await asyncio.sleep(0.5)
    assert len(bot.questions()) == 1


async def test_a_daily_post_survives_a_rate_limit_and_a_server_error(bot: Bot) -> None:
    """A 429 is waited out by the client; a 500 leaves the round unposted, and a later
    tick posts it (after looking for it in the channel's history) exactly once."""
    from datetime import UTC, datetime

    await bot.engine.set_daily(bot.place, "09:00", created_by=bot.fake.admin.id, timezone="UTC")
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    bot.fake.fail_next("chat.postMessage", error="internal_error", status=500)
    bot.engine.clock = lambda: datetime(2026, 11, 26, 9, 0, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: len(bot.fake.calls_to("chat.postMessage")) >= 2, 5)
    await asyncio.sleep(0.5)
    assert bot.questions() == []
    round_ = await bot.store.open_channel_round(bot.place)
    assert round_ is not None and round_.message_ref is None  # claimed, not lost
    bot.engine.clock = lambda: datetime(2026, 11, 26, 9, 1, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: bool(bot.questions()), 5)
    await asyncio.sleep(0.6)
    (post,) = bot.questions()
    assert [c.status for c in bot.fake.calls_to("chat.postMessage")] == [429, 500, 200]
    assert bot.fake.calls_to("conversations.history")  # looked before posting again
    round_ = await bot.store.open_channel_round(bot.place)
    assert round_ is not None and round_.message_ref == f"slack:{bot.fake.channel.id}:{post.ts}"


async def test_a_channel_the_bot_cannot_post_to_turns_its_schedule_off(bot: Bot) -> None:
    from datetime import UTC, datetime

    await bot.engine.set_daily(bot.place, "09:00", created_by=bot.fake.admin.id, timezone="UTC")
    bot.fake.error_next("chat.postMessage", "is_archived")
    bot.engine.clock = lambda: datetime(2026, 11, 26, 9, 0, 30, tzinfo=UTC)
    dm = bot.fake.dm(bot.fake.admin.id)
    await bot.fake.wait_for(lambda: any("turned off" in m.text for m in bot.fake.messages(dm.id)), 5)
    schedule = await bot.engine.daily_schedule(bot.place)
    assert schedule is not None and not schedule.enabled
    assert await bot.store.open_channel_round(bot.place) is None


def more_than(count: int, current: Callable[[], int]) -> Callable[[], bool]:
    """A wait condition bound to this loop turn's count."""
    return lambda: current() > count


async def answered_round(bot: Bot, *users: str) -> int:
    """A round posted by the admin and answered rightly by these users."""
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    for user in users:
        await answer(bot, message, round_id, user, right)
        await bot.fake.wait_for(lambda user=user: "Correct" in bot.private_text(user), 5)  # type: ignore[misc]
    return round_id


async def test_privacy_export_comes_as_private_messages(bot: Bot) -> None:
    member = bot.fake.member.id
    carla = bot.fake.add_user("UCARLA", "carla").id
    round_id = await answered_round(bot, member, carla)
    await bot.sim.slash_command("privacy export", user=member)
    await bot.fake.wait_for(lambda: "Only you can see this" in bot.private_text(member), 5)
    (export,) = [m for m in bot.fake.ephemerals(bot.fake.channel.id, member) if "```" in m.text]
    assert export.visible_to == member and not [m for m in bot.questions() if "```" in m.text]
    data = json.loads(export.text.split("```")[1])
    assert data["user_id"] == member and data["learner"]["display_name"] == "Bob"
    assert [a["round_id"] for a in data["attempts"]] == [round_id]
    assert carla not in export.text and "Carla" not in export.text
    await bot.sim.slash_command("privacy export", user=bot.fake.add_user("UDORA", "dora").id)
    await bot.fake.wait_for(lambda: "stores nothing about you" in bot.private_text("UDORA"), 5)
    await bot.sim.slash_command("privacy", user=member)
    await bot.fake.wait_for(lambda: "/quiz privacy forget" in bot.private_text(member), 5)


def test_a_large_export_is_cut_into_messages_that_fit() -> None:
    from bot.adapters.slack.blocks import EXPORT_MESSAGE_LIMIT, export_parts

    text = json.dumps({"attempts": [{"n": n, "why": "a < b & c"} for n in range(2500)]}, indent=1)
    parts = export_parts(text)
    assert parts is not None and 1 < len(parts) <= 4
    assert all(len(p) <= EXPORT_MESSAGE_LIMIT + 6 and p.startswith("```") for p in parts)
    joined = "".join(p.strip("`") for p in parts)
    assert json.loads(joined.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")) == json.loads(
        text
    )
    assert export_parts(text * 3) is None  # more than four messages: the operator's command instead


async def test_privacy_forget_asks_first_and_only_the_asker_can_confirm(bot: Bot) -> None:
    member, carla = bot.fake.member.id, bot.fake.add_user("UCARLA", "carla").id
    round_id = await answered_round(bot, member, carla)
    await bot.sim.slash_command("privacy forget", user=member)
    await bot.fake.wait_for(lambda: "quiz_privacy_forget" in bot.private_text(member), 5)
    assert "UBOB" in await learner_text(bot.store)  # nothing happens before the confirmation
    assert bot.adapter.quiz.people.peek("T1", member) is not None
    stale = bot.fake.block_action_payload("quiz_privacy_forget", member, user=member)
    forged = bot.fake.block_action_payload("quiz_privacy_forget", member, user=member)
    forged["user"] = {"id": carla, "username": "carla", "team_id": "T1"}
    from urllib.parse import urlencode

    delivery = await bot.sim.send(
        urlencode({"payload": json.dumps(forged)}), "application/x-www-form-urlencoded", forged
    )
    assert delivery.status == 200
    await bot.fake.wait_for(lambda: "someone else's request" in bot.private_text(member), 5)
    assert "UBOB" in await learner_text(bot.store)

    await bot.sim.block_action("quiz_privacy_forget", member, user=member)
    await bot.fake.wait_for(lambda: "no longer stores your id" in bot.private_text(member), 5)
    names = await learner_text(bot.store)
    assert "UBOB" not in names and "Bob" not in names and "UCARLA Carla" in names
    assert bot.adapter.quiz.people.peek("T1", member) is None  # not even in memory
    assert "quiz_privacy_forget" not in bot.private_text(member)  # the prompt was replaced
    assert await bot.attempts() == 2
    reveal = await bot.engine.close(round_id)
    assert reveal is not None and reveal.total_answers == 2 and reveal.right_names == ("Carla",)

    delivery = await bot.sim.send(
        urlencode({"payload": json.dumps(stale)}), "application/x-www-form-urlencoded", stale
    )
    assert delivery.status == 200
    await bot.fake.wait_for(lambda: "nothing to erase" in bot.private_text(member), 5)


async def test_uninstall_records_a_departure_and_a_new_installation_cancels_it(
    tmp_path: Path, bank: QuestionBank
) -> None:
    async with running(tmp_path, bank, oauth=True) as bot:
        await install(bot)
        await bot.sim.event({"type": "app_uninstalled"}, event_id="EvU1")
        await eventually(lambda: _departed(bot, {("slack", "T1")}))
        assert await installed_count(bot) == 0  # the tokens went at once
        await bot.sim.event({"type": "app_uninstalled"}, event_id="EvU2")  # a repeat changes nothing
        await install(bot)
        await eventually(lambda: _departed(bot, set()))


async def test_uninstall_of_a_single_workspace_app_records_a_departure(bot: Bot) -> None:
    from bot.adapters.slack.runner import still_installed

    await bot.sim.event({"type": "app_uninstalled"}, event_id="EvU3")
    await eventually(lambda: _departed(bot, {("slack", "T1")}))
    await still_installed(bot.adapter.app, bot.engine)  # what quizbot run does at start
    assert await bot.engine.store.departed_workspaces() == []


async def _departed(bot: Bot, expected: set[tuple[str, str]]) -> bool:
    return {(p, w) for p, w, _ in await bot.engine.store.departed_workspaces()} == expected


async def test_stats_send_the_progress_chart_to_the_learners_dm(bot: Bot) -> None:
    from bot.adapters.charts import FILENAME, HEIGHT_PX, WIDTH_PX

    bot.fake.team.scopes.add("files:write")
    member = bot.fake.member.id
    await answered_round(bot, member)
    await bot.sim.slash_command("stats", user=member)
    dm = bot.fake.dm(member).id
    await bot.fake.wait_for(lambda: "direct messages" in bot.private_text(member), 10)
    assert "Stats for" in bot.private_text(member)
    (chart,) = bot.fake.files_in(dm)
    assert chart.filename == FILENAME and chart.content is not None
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    size = int.from_bytes(chart.content[16:20], "big"), int.from_bytes(chart.content[20:24], "big")
    assert size == (WIDTH_PX, HEIGHT_PX)
    assert "accuracy per task statement" in chart.alt_txt
    (message,) = bot.fake.messages(dm)
    assert message.files == [chart.id] and "progress chart" in message.text
    (completed,) = bot.fake.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"] == dm
    assert bot.fake.files_in(bot.fake.channel.id) == []  # never where others could see it


async def test_stats_explain_politely_when_the_workspace_lacks_files_write(bot: Bot) -> None:
    member = bot.fake.member.id
    await answered_round(bot, member)
    await bot.sim.slash_command("stats", user=member)
    await bot.fake.wait_for(lambda: "files:write" in bot.private_text(member), 10)
    text = bot.private_text(member)
    assert "Stats for" in text and "something went wrong" not in text
    assert bot.fake.files_in(bot.fake.dm(member).id) == []
    assert bot.fake.calls_to("files.completeUploadExternal") == []
