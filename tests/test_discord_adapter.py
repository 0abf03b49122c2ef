"""The Discord adapter end to end: the real discord.py client of the bot, over real
sockets, against the fake Discord in tests/fakes, with a real SQLite database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import func, select

from bot.adapters.discord.client import QuizClientMixin, make_client
from bot.adapters.discord.settings import DiscordSettings
from bot.config import Secret
from bot.engine import PlaceRef, QuestionCard, QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import attempts, rounds
from tests.fakes.discord_server import (
    EPHEMERAL,
    FakeDiscord,
    InteractionRecord,
    Perm,
    StoredMessage,
    pointed_at,
)
from tests.helpers.discord_reply import followup_text
from tests.helpers.extreme import extreme_question
from tests.helpers.health import health
from tests.helpers.people import learner_text

REPO = Path(__file__).resolve().parent.parent
MESSAGES = r"/channels/\d+/messages"


@dataclass
class Bot:
    fake: FakeDiscord
    client: QuizClientMixin
    engine: QuizEngine
    store: SqlStore
    db_path: Path

    @property
    def place(self) -> PlaceRef:
        return PlaceRef("discord", str(self.fake.guild.id), str(self.fake.channel.id))

    def channel_messages(self) -> list[StoredMessage]:
        return self.fake.messages(self.fake.channel.id)

    async def attempts(self) -> int:
        async with self.store.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(attempts))).scalar_one())


@contextlib.asynccontextmanager
async def running_client(fake: FakeDiscord, engine: QuizEngine) -> AsyncIterator[QuizClientMixin]:
    client = make_client(
        engine, DiscordSettings(token=Secret(fake.token)), close_interval=0.2, guild_ready_timeout=0.05
    )
    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(client.ready.wait(), 10)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


@pytest.fixture
async def bot(tmp_path: Path, bank: QuestionBank) -> AsyncIterator[Bot]:
    db_path = tmp_path / "quizbot.db"
    database = Database(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(11))
    try:
        async with FakeDiscord() as fake:
            with pointed_at(fake):
                async with running_client(fake, engine) as client:
                    yield Bot(fake, client, engine, store, db_path)
    finally:
        await store.close()


def buttons(message: StoredMessage) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", [])]


async def right_letters(bot: Bot, round_id: int, correct: bool = True) -> list[str]:
    record = await bot.store.get_round(round_id)
    assert record is not None
    question = bot.engine.bank.get(record.question_id)
    assert question is not None
    keys = [k for k in record.option_order if (k in question.answer) == correct][: question.select_count]
    return ["ABCDEF"[record.option_order.index(k)] for k in keys]


async def post_question(bot: Bot, **options: Any) -> tuple[StoredMessage, int]:
    record = await bot.fake.slash_command(
        "quiz", options, subcommand="question", user_id=bot.fake.admin.user.id
    )
    callback = await record.response(timeout=3)
    assert callback.accepted
    assert "Question posted" in await followup_text(record)  # the command finished its work
    message = next(m for m in bot.channel_messages() if m.embeds)
    round_id = int(buttons(message)[0]["custom_id"].split(":")[2])
    return message, round_id


async def test_login_and_command_sync(bot: Bot) -> None:
    commands = {c["name"]: c for c in bot.fake.registered_commands()}
    assert set(commands) == {"quiz", "quizadmin"}
    quiz = {o["name"]: o for o in commands["quiz"]["options"]}
    assert set(quiz) == {
        "question",
        "practice",
        "exam",
        "leaderboard",
        "stats",
        "streaks",
        "privacy",
        "help",
        "exam-date",
        "remind",
    }
    admin = {o["name"] for o in commands["quizadmin"]["options"]}
    assert admin == {
        "close",
        "reset-scores",
        "language",
        "timezone",
        "feedback",
        "round-length",
        "role",
        "daily",
    }
    assert int(commands["quizadmin"]["default_member_permissions"]) == Perm.MANAGE_GUILD.value
    assert commands["quiz"]["description_localizations"]["pt-BR"].startswith("Pratique")
    question = {o["name"]: o for o in quiz["question"]["options"]}
    assert question["task"]["choices"][0]["name_localizations"]["pt-BR"].startswith("3.1")
    assert question["minutes"]["min_value"] == 1 and question["minutes"]["max_value"] == 1440
    assert not bot.fake.unknown_routes


async def test_question_burst_with_a_slow_store(bot: Bot) -> None:
    message, round_id = await post_question(bot, minutes=30)
    embed = message.embeds[0]
    assert "<t:" in embed["fields"][0]["value"]  # a Discord countdown
    assert len(buttons(message)) in (4, 1)  # buttons A–D, or one select for multiple response
    members = [bot.fake.add_member(bot.fake.guild.id, f"m{n}") for n in range(50)]
    right = await right_letters(bot, round_id)
    single = len(buttons(message)) == 4

    async def click(member_id: int) -> Any:
        if single:
            return await bot.fake.click(f"quiz:a:{round_id}:{right[0]}", message.id, user_id=member_id)
        return await bot.fake.select(f"quiz:m:{round_id}", right, message.id, user_id=member_id)

    # another connection holds SQLite's write lock for 5 s: the store is slow
    lock = sqlite3.connect(bot.db_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    release = asyncio.get_running_loop().call_later(5, lock.execute, "COMMIT")
    try:
        first = await asyncio.gather(*(click(m.user.id) for m in members))
        again = await asyncio.gather(*(click(m.user.id) for m in members[:10]))  # double clicks
        for record in first + again:
            await record.response(timeout=3.5)
            assert record.acked_after is not None and record.acked_after < 3, record.acked_after
        texts = await asyncio.gather(*(followup_text(r) for r in first + again))
    finally:
        release.cancel()
        with contextlib.suppress(sqlite3.OperationalError):
            lock.execute("COMMIT")
        lock.close()
    assert all("Correct!" in text for text in texts[:50])
    assert all("already answered" in text for text in texts[50:])
    # the round closes (its deadline passed) just before the bot edits the message: clicks
    # that land in between are refused politely
    reveal_card = await bot.engine.close(round_id)
    assert reveal_card is not None
    late = await asyncio.gather(
        *(click(bot.fake.add_member(bot.fake.guild.id, f"late{n}").user.id) for n in range(5))
    )
    for record in late:
        assert "closed" in await followup_text(record)
    await bot.client.publish_reveal(reveal_card)
    reveal = [m for m in bot.channel_messages() if m.embeds][-1]
    assert "50 answer(s)" in reveal.embeds[0]["description"]
    assert "…and 40 more" in reveal.embeds[0]["description"]  # ten names, then a count: no pings
    assert await bot.attempts() == 50
    edited = bot.fake.message(message.id)
    assert all(b.get("disabled") for b in buttons(edited))


async def test_multiple_response_through_the_select(bot: Bot) -> None:
    question = next(q for q in bot.engine.bank if q.type == "multiple")
    card = await bot.engine.ask(bot.place, question_id=question.id)
    assert isinstance(card, QuestionCard)
    await bot.client.post_question(bot.fake.channel.id, card)
    message = next(m for m in bot.channel_messages() if m.embeds)
    (select_menu,) = buttons(message)
    assert select_menu["min_values"] == select_menu["max_values"] == card.select_count
    assert all(len(o["label"]) <= 100 for o in select_menu["options"])
    right = await right_letters(bot, card.round_id)
    wrong = await right_letters(bot, card.round_id, correct=False)
    ok = await bot.fake.select(f"quiz:m:{card.round_id}", right, message.id, user_id=bot.fake.member.user.id)
    partial = [*right[:-1], wrong[0]]
    off = await bot.fake.select(
        f"quiz:m:{card.round_id}", partial, message.id, user_id=bot.fake.admin.user.id
    )
    assert "Correct!" in await followup_text(ok)
    assert "Not quite." in await followup_text(off)


async def test_practice_runs_to_its_summary(bot: Bot) -> None:
    record = await bot.fake.slash_command("quiz", {"count": 2, "task": "3.3"}, subcommand="practice")
    await record.response(timeout=3)
    for step in range(2):
        shown = (
            record.original if step == 0 else record.followups[-1] if record.followups else record.original
        )
        assert shown is not None and shown.ephemeral
        controls = buttons(shown)
        custom_id = controls[0]["custom_id"]
        if custom_id.startswith("quiz:m:"):
            answer = await bot.fake.select(
                custom_id, [o["value"] for o in controls[0]["options"]][: controls[0]["min_values"]], shown.id
            )
        else:
            answer = await bot.fake.click(custom_id, shown.id)
        feedback = await answer.response(timeout=3)
        assert feedback.accepted
        message = answer.original if feedback.type == 4 else (await answer.wait_followups(1))[0]
        assert message is not None and message.flags & EPHEMERAL
        next_button = next(b for b in buttons(message) if b["custom_id"].startswith("quiz:n:"))
        assert any(b["custom_id"].startswith("quiz:f:") for b in buttons(message))  # Report question
        record = await bot.fake.click(next_button["custom_id"], message.id)
        await record.response(timeout=3)
    summary = record.original
    assert summary is not None and "Session finished" in summary.embeds[0]["title"]
    assert "Task 3.3" in summary.embeds[0]["description"]


async def test_leaderboard_shows_the_caller_outside_the_top_ten(bot: Bot) -> None:
    from bot.engine import LearnerRef

    card = await bot.engine.ask(bot.place)
    assert isinstance(card, QuestionCard)
    right = await right_letters(bot, card.round_id)
    wrong = await right_letters(bot, card.round_id, correct=False)
    for n in range(12):
        await bot.engine.answer(
            card.round_id, LearnerRef("discord", str(9000 + n), f"Learner {n}"), right, bot.place
        )
    caller = bot.fake.member.user
    await bot.engine.answer(card.round_id, LearnerRef("discord", str(caller.id), "Bob"), wrong, bot.place)
    record = await bot.fake.slash_command("quiz", {"period": "all"}, subcommand="leaderboard")
    text = await followup_text(record)
    assert "1. Learner" in text and "You: rank 13 of 13, 0 point(s)" in text
    assert "…and 2 more tied at rank 1" in text


async def test_portuguese_client_gets_portuguese(bot: Bot) -> None:
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    custom = buttons(message)[0]["custom_id"]
    if custom.startswith("quiz:m:"):
        record = await bot.fake.select(custom, right, message.id, locale="pt-BR")
    else:
        record = await bot.fake.click(f"quiz:a:{round_id}:{right[0]}", message.id, locale="pt-BR")
    assert "Correto!" in await followup_text(record)
    stats = await bot.fake.slash_command("quiz", subcommand="stats", locale="pt-BR")
    assert "Estatísticas de" in await followup_text(stats)
    callback = await (await bot.fake.slash_command("quiz", subcommand="help", locale="pt-BR")).response()
    assert "publica uma questão" in callback.content


async def test_organiser_commands_are_refused_to_others(bot: Bot) -> None:
    with pytest.raises(PermissionError):  # Discord hides /quizadmin from plain members
        await bot.fake.slash_command("quizadmin", {"mode": "at-close"}, subcommand="feedback")
    bot.fake.open_command_to_everyone("quizadmin")  # a server admin overrode that
    record = await bot.fake.slash_command("quizadmin", {"mode": "at-close"}, subcommand="feedback")
    assert "Only organisers" in await followup_text(record)
    assert (await bot.engine.fresh_settings(bot.place)).feedback.value == "immediate"
    role = bot.fake.add_role(bot.fake.guild.id, "quiz organiser")
    await bot.fake.dispatch(
        "GUILD_ROLE_CREATE",
        {"guild_id": str(bot.fake.guild.id), "role": role.to_dict()},
        guild_id=bot.fake.guild.id,
    )  # as Discord tells the bot of a new role
    setting = await bot.fake.slash_command(
        "quizadmin", {"role": str(role.id)}, subcommand="role", user_id=bot.fake.admin.user.id
    )
    assert "can now run /quizadmin" in await followup_text(setting)
    organiser = bot.fake.add_member(bot.fake.guild.id, "carol", roles=[role.id])
    allowed = await bot.fake.slash_command(
        "quizadmin", {"mode": "at-close"}, subcommand="feedback", user_id=organiser.user.id
    )
    assert "Saved" in await followup_text(allowed)
    assert (await bot.engine.fresh_settings(bot.place)).feedback.value == "at-close"


async def test_reset_scores_asks_first_and_a_second_click_changes_nothing(bot: Bot) -> None:
    admin = bot.fake.admin.user.id
    record = await bot.fake.slash_command("quizadmin", subcommand="reset-scores", user_id=admin)
    assert "new season" in (await followup_text(record)).lower()
    (confirm,) = record.followups
    custom_id = buttons(confirm)[0]["custom_id"]
    clicks = await asyncio.gather(*(bot.fake.click(custom_id, confirm.id, user_id=admin) for _ in range(2)))
    texts = [await followup_text(click) for click in clicks]
    assert all("Season 2 has started" in text for text in texts)
    again = await bot.fake.click(custom_id, confirm.id, user_id=admin)  # later, on the same stale button
    assert "Season 2 has started" in await followup_text(again)
    assert (await bot.engine.fresh_settings(bot.place)).season == 2
    outsider = await bot.fake.click(custom_id, confirm.id)  # a member who is no organiser
    assert "Only organisers" in await followup_text(outsider)


async def test_forged_and_stale_buttons_get_a_polite_answer(bot: Bot) -> None:
    from bot.adapters.discord.components import AnswerButton

    other_channel = bot.fake.add_channel(bot.fake.guild.id, "elsewhere")
    elsewhere = await bot.engine.ask(PlaceRef("discord", str(bot.fake.guild.id), str(other_channel.id)))
    assert isinstance(elsewhere, QuestionCard)
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(elsewhere.round_id, "A"))  # a round of another channel
    view.add_item(AnswerButton(987654321, "B"))  # a round that never existed
    channel = bot.client.get_partial_messageable(bot.fake.channel.id)  # type: ignore[attr-defined]
    posted = await channel.send("stale", view=view)
    for custom_id in (f"quiz:a:{elsewhere.round_id}:A", "quiz:a:987654321:B"):
        record = await bot.fake.click(custom_id, posted.id)
        text = await followup_text(record)
        assert "no longer available" in text
        callback = await record.response()
        assert callback.ephemeral
    assert await bot.attempts() == 0


async def test_reveal_retried_after_429_and_question_posted_once_after_500(bot: Bot) -> None:
    bot.fake.fail_after_store_next("POST", MESSAGES, status=500)
    await post_question(bot)
    assert len([m for m in bot.channel_messages() if m.embeds]) == 1  # the retry did not post twice
    bot.fake.fail_next("POST", MESSAGES, status=429, retry_after=0.2)
    close = await bot.fake.slash_command("quizadmin", subcommand="close", user_id=bot.fake.admin.user.id)
    assert "Round closed" in await followup_text(close)
    posts = [r.status for r in bot.fake.requests_to("POST", MESSAGES)]
    assert posts[-2:] == [429, 200]
    assert len([m for m in bot.channel_messages() if m.embeds]) == 2


async def test_a_reveal_that_never_got_posted_is_posted_once_later(bot: Bot) -> None:
    """A process closed the round and died before posting its reveal: the closing loop
    (of this or any process) posts it once, a little later."""
    from datetime import UTC, datetime, timedelta

    _, round_id = await post_question(bot)
    closed_at = datetime.now(UTC)
    bot.engine.clock = lambda: closed_at
    assert await bot.engine.close(round_id) is not None  # closed, reveal not posted
    await asyncio.sleep(0.5)
    assert len([m for m in bot.channel_messages() if m.embeds]) == 1  # it may still be on its way
    bot.engine.clock = lambda: closed_at + timedelta(minutes=1)
    await bot.fake.wait_for(lambda: len([m for m in bot.channel_messages() if m.embeds]) >= 2, 5)
    await asyncio.sleep(0.6)
    posted = [m for m in bot.channel_messages() if m.embeds]
    assert len(posted) == 2 and "Round closed" in posted[-1].embeds[0]["title"]
    assert await revealed_at(bot.store, round_id) is not None


async def test_missing_permission_is_named_to_the_invoker(bot: Bot) -> None:
    bot.fake.set_overwrite(bot.fake.channel.id, bot.fake.bot_user.id, deny=Perm.EMBED_LINKS)
    record = await bot.fake.slash_command("quiz", subcommand="question", user_id=bot.fake.admin.user.id)
    text = await followup_text(record)
    assert "Embed Links" in text and (await record.response()).ephemeral
    assert bot.channel_messages() == []


async def test_a_failing_handler_apologises(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.engine, "stats_and_progress", broken)
    record = await bot.fake.slash_command("quiz", subcommand="stats")
    assert "something went wrong" in await followup_text(record)


async def test_rounds_close_on_time_by_themselves(bot: Bot) -> None:
    _, round_id = await post_question(bot, minutes=1)
    record = await bot.store.get_round(round_id)
    assert record is not None and record.deadline is not None
    deadline = record.deadline
    bot.engine.clock = lambda: deadline
    await bot.fake.wait_for(lambda: len([m for m in bot.channel_messages() if m.embeds]) >= 2, 5)
    assert "Round closed" in bot.channel_messages()[-1].embeds[0]["title"]


async def test_a_restarted_adapter_takes_clicks_on_old_messages(bot: Bot) -> None:
    message, round_id = await post_question(bot, minutes=60)
    right = await right_letters(bot, round_id)
    await bot.client.close()  # the first process stops
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DISCORD_TOKEN": bot.fake.token,
        "DISCORD_API_BASE_URL": f"{bot.fake.url}/api/v10",
        "DISCORD_GATEWAY_URL": bot.fake.gateway_url,
        "QUIZBOT_DATABASE_URL": f"sqlite:///{bot.db_path}",
    }
    identified = len([p for p in bot.fake.gateway_received if p.get("op") == 2])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=bot.db_path.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        await bot.fake.wait_for(
            lambda: len([p for p in bot.fake.gateway_received if p.get("op") == 2]) > identified, 20
        )
        await asyncio.sleep(0.5)
        custom = buttons(message)[0]["custom_id"]
        if custom.startswith("quiz:m:"):
            record = await bot.fake.select(custom, right, message.id)
        else:
            record = await bot.fake.click(f"quiz:a:{round_id}:{right[0]}", message.id)
        assert "Correct!" in await followup_text(record)
        for _ in range(50):  # connected to the gateway: the heartbeat says so
            healthy = await health(env, bot.db_path.parent)
            if healthy[0] == 0:
                break
            await asyncio.sleep(0.1)
        assert healthy[0] == 0 and "discord" in healthy[1], healthy
    finally:
        process.terminate()
        _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert await bot.attempts() == 1
    stopped = await health(env, bot.db_path.parent)
    assert stopped[0] == 1 and "no bot is running" in stopped[1], stopped


def test_every_question_renders_within_discord_limits(bank: QuestionBank) -> None:
    from datetime import UTC, datetime

    from bot.adapters.discord import render
    from bot.engine.cards import FeedbackCard, OptionTally, RevealCard, ShownOption

    deadline = datetime(2026, 11, 26, tzinfo=UTC)
    for question in bank.all_including_retired():
        for locale in ("en", "pt-BR"):
            text = question.text(locale)
            order = question.option_keys
            options = tuple(
                ShownOption("ABCDEF"[i], text.options[k], k in question.answer, text.why_wrong.get(k))
                for i, k in enumerate(order)
            )
            card = QuestionCard(
                10**17,
                question.id,
                question.task,
                question.objective,
                text.stem,
                options,
                question.select_count,
                deadline,
                locale,
            )
            embed = render.question_embed(card)
            assert len(embed.description or "") <= 4096 and len(embed) <= 6000, question.id
            view = render.question_view(card)
            for item in view.children:
                assert len(item.custom_id or "") <= 100  # type: ignore[attr-defined]
                if isinstance(item, discord.ui.Button):
                    assert len(item.label or "") <= 80
                if isinstance(item, discord.ui.Select):
                    assert all(len(o.label) <= 100 for o in item.options)
            letters = tuple(o.letter for o in options if o.correct)
            feedback = render.feedback_embed(
                FeedbackCard(
                    1, question.id, True, letters, letters, options, text.why, question.references, locale
                )
            )
            assert len(feedback) <= 6000 and len(feedback.fields) <= 25, question.id
            assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in feedback.fields)
            reveal = render.reveal_embed(
                RevealCard(
                    1,
                    question.id,
                    text.stem,
                    tuple(OptionTally(o.letter, o.text, o.correct, 3) for o in options),
                    letters,
                    30,
                    tuple(f"Learner {n}" for n in range(10)),
                    20,
                    text.why,
                    tuple((o.letter, o.why_wrong) for o in options if o.why_wrong),
                    question.references,
                    None,
                    locale,
                )
            )
            assert len(reveal) <= 6000 and len(reveal.description or "") <= 4096, question.id
            assert all(len(f.value or "") <= 1024 for f in reveal.fields)


async def test_sharded_client_serves_the_guild(
    tmp_path: Path, bank: QuestionBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.discord.client import ShardedQuizClient

    async def no_wait(self: object, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # Discord asks for 5 s between identifies; the fake does not

    monkeypatch.setattr(ShardedQuizClient, "before_identify_hook", no_wait)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'shards.db'}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(3))
    try:
        async with FakeDiscord(shard_count=2) as fake:
            with pointed_at(fake):
                settings = DiscordSettings(token=Secret(fake.token), shard_count=2)
                client = make_client(engine, settings, close_interval=0.2, guild_ready_timeout=0.05)
                assert isinstance(client, ShardedQuizClient)
                task = asyncio.create_task(client.start(fake.token))
                try:
                    await asyncio.wait_for(client.ready.wait(), 15)
                    assert client.shard_count == 2
                    record = await fake.slash_command("quiz", subcommand="help")
                    assert "/quiz question" in (await record.response()).content
                finally:
                    await client.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait_for(task, 10)
    finally:
        await store.close()


def test_discord_settings_and_invite_url(tmp_path: Path) -> None:
    import base64

    from bot.adapters.discord.settings import load_discord_settings
    from bot.config import SettingsError

    token = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".x.y"
    settings = load_discord_settings(
        {
            "DISCORD_TOKEN": token,
            "DISCORD_GUILD_IDS": "1, 2",
            "DISCORD_SHARD_COUNT": "4",
            "DISCORD_SHARD_IDS": "0,1",
        }
    )
    assert settings is not None and settings.guild_ids == (1, 2) and settings.shard_ids == (0, 1)
    assert token not in repr(settings)
    assert load_discord_settings({}) is None
    for bad in (
        {"DISCORD_GUILD_IDS": "abc"},
        {"DISCORD_SHARD_IDS": "5", "DISCORD_SHARD_COUNT": "2"},
        {"DISCORD_API_BASE_URL": "ftp://x"},
        {"DISCORD_GATEWAY_URL": "http://x"},
    ):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            load_discord_settings({"DISCORD_TOKEN": token, **bad})
    env = {**os.environ, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "discord", "invite-url"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert "client_id=123456789012345678" in url and "applications.commands" in url
    assert "permissions=84992" in url  # view channel, send messages, embed links, read history
    assert token not in done.stdout + done.stderr


async def test_organiser_commands_answer_in_time_with_a_slow_store(bot: Bot) -> None:
    role = bot.fake.add_role(bot.fake.guild.id, "quiz organiser")
    await bot.fake.dispatch(
        "GUILD_ROLE_CREATE",
        {"guild_id": str(bot.fake.guild.id), "role": role.to_dict()},
        guild_id=bot.fake.guild.id,
    )
    await bot.engine.update_settings(bot.place, organiser_role=str(role.id))
    organiser = bot.fake.add_member(bot.fake.guild.id, "dana", roles=[role.id])
    bot.fake.open_command_to_everyone("quizadmin")
    lock = sqlite3.connect(bot.db_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    release = asyncio.get_running_loop().call_later(4, lock.execute, "COMMIT")
    try:
        record = await bot.fake.slash_command(
            "quizadmin", {"mode": "at-close"}, subcommand="feedback", user_id=organiser.user.id
        )
        await record.response(timeout=3)
        assert record.acked_after is not None and record.acked_after < 3
        assert "Saved" in await followup_text(record)
    finally:
        release.cancel()
        with contextlib.suppress(sqlite3.OperationalError):
            lock.execute("COMMIT")
        lock.close()


async def test_two_members_report_the_same_round(bot: Bot) -> None:
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    carol = bot.fake.add_member(bot.fake.guild.id, "carol")
    feedbacks = []
    for member_id in (bot.fake.member.user.id, carol.user.id):
        custom = buttons(message)[0]["custom_id"]
        record = (
            await bot.fake.select(custom, right, message.id, user_id=member_id)
            if custom.startswith("quiz:m:")
            else await bot.fake.click(f"quiz:a:{round_id}:{right[0]}", message.id, user_id=member_id)
        )
        await followup_text(record)
        shown = record.original if (await record.response()).type == 4 else record.followups[0]
        assert shown is not None
        feedbacks.append((member_id, shown))
    opened = []
    for member_id, shown in feedbacks:  # both open the form before either sends it
        report = next(b for b in buttons(shown) if b["custom_id"].startswith("quiz:f:"))
        record = await bot.fake.click(report["custom_id"], shown.id, user_id=member_id)
        callback = await record.response()
        assert callback.type == 9  # a modal
        opened.append((member_id, callback.data["custom_id"]))
    assert opened[0][1] != opened[1][1]
    for member_id, custom_id in opened:
        sent = await bot.fake.submit_modal(custom_id, {"comment": f"from {member_id}"}, user_id=member_id)
        assert "is reported" in await followup_text(sent)
    (summary,) = await bot.engine.open_flags()
    assert summary.flags == 2


@pytest.mark.parametrize("question_type", ["single", "multiple"])
def test_a_question_at_every_schema_maximum_still_renders(bank: QuestionBank, question_type: str) -> None:
    from datetime import UTC, datetime

    from bot.adapters.discord import render
    from bot.engine.cards import FeedbackCard, OptionTally, RevealCard, ShownOption

    question = extreme_question(bank, question_type)
    text = question.text("en")
    options = tuple(
        ShownOption("ABCDEF"[i], text.options[k], k in question.answer, text.why_wrong.get(k))
        for i, k in enumerate(question.option_keys)
    )
    letters = tuple(o.letter for o in options if o.correct)
    card = QuestionCard(
        1,
        question.id,
        question.task,
        question.objective,
        text.stem,
        options,
        question.select_count,
        datetime(2026, 1, 1, tzinfo=UTC),
        "en",
    )
    assert len(render.question_embed(card)) <= 6000
    feedback = render.feedback_embed(
        FeedbackCard(1, question.id, False, letters, letters, options, text.why, question.references, "en")
    )
    reveal = render.reveal_embed(
        RevealCard(
            1,
            question.id,
            text.stem,
            tuple(OptionTally(o.letter, o.text, o.correct, 9) for o in options),
            letters,
            99,
            tuple("N" * 32 for _ in range(10)),
            89,
            text.why,
            tuple((o.letter, o.why_wrong) for o in options if o.why_wrong),
            question.references,
            None,
            "en",
        )
    )
    for embed in (feedback, reveal):
        assert len(embed) <= 6000 and all(len(f.value or "") <= 1024 for f in embed.fields)


async def test_daily_question_posts_once_and_reveals_once(bot: Bot) -> None:
    from datetime import UTC, datetime

    role = bot.fake.add_role(bot.fake.guild.id, "studiers")
    await bot.fake.dispatch(
        "GUILD_ROLE_CREATE",
        {"guild_id": str(bot.fake.guild.id), "role": role.to_dict()},
        guild_id=bot.fake.guild.id,
    )
    record = await bot.fake.slash_command(
        "quizadmin",
        {
            "channel": str(bot.fake.channel.id),
            "time": "09:00",
            "timezone": "America/Sao_Paulo",
            "mention": str(role.id),
        },
        subcommand="daily set",
        user_id=bot.fake.admin.user.id,
    )
    assert "Daily question set" in await followup_text(record)
    bot.engine.clock = lambda: datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: any(m.embeds for m in bot.channel_messages()), 5)
    await asyncio.sleep(0.6)  # several more ticks of the loop
    posts = [m for m in bot.channel_messages() if m.embeds]
    assert len(posts) == 1 and "Question of the day · 2026-11-26" in posts[0].embeds[0]["title"]
    assert posts[0].content == f"<@&{role.id}>"
    bot.engine.clock = lambda: datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)
    await bot.fake.wait_for(lambda: len([m for m in bot.channel_messages() if m.embeds]) >= 3, 5)
    await asyncio.sleep(0.6)
    titles = [m.embeds[0]["title"] for m in bot.channel_messages() if m.embeds]
    assert sum("Round closed" in title for title in titles) == 1  # yesterday's reveal, once
    assert sum("Question of the day · 2026-11-27" in title for title in titles) == 1
    show = await bot.fake.slash_command("quizadmin", subcommand="daily show", user_id=bot.fake.admin.user.id)
    assert "09:00 (America/Sao_Paulo)" in await followup_text(show)


async def test_a_post_whose_record_was_lost_is_not_posted_twice(bot: Bot) -> None:
    """A process posted the daily question and died before recording it: the next one
    posts again with the same nonce, and Discord returns the first message."""
    from datetime import UTC, datetime

    await bot.client.close()  # the bot is down while we play the crashed process
    clock_at = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
    bot.engine.clock = lambda: clock_at
    await bot.engine.set_daily(
        bot.place, "09:00", created_by=str(bot.fake.admin.user.id), timezone="America/Sao_Paulo"
    )
    (card,) = await bot.engine.run_daily("discord", "crashed-process")
    async with running_client(bot.fake, bot.engine) as crashed:
        channel = crashed.get_partial_messageable(bot.fake.channel.id)  # type: ignore[attr-defined]
        await channel.send("the crashed process's post", nonce=f"q{card.round_id}")
        await crashed.close()
    assert (await bot.store.get_round(card.round_id)).message_ref is None  # type: ignore[union-attr]
    later = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)
    bot.engine.clock = lambda: later
    async with running_client(bot.fake, bot.engine):
        await bot.fake.wait_for(
            lambda: bot.engine.store is not None and bool(bot.fake.requests_to("POST", MESSAGES)), 5
        )
        for _ in range(50):
            round_ = await bot.store.get_round(card.round_id)
            if round_ is not None and round_.message_ref:
                break
            await asyncio.sleep(0.1)
    assert len(bot.channel_messages()) == 1  # the nonce returned the first post
    assert (
        round_ is not None
        and round_.message_ref == f"discord:{bot.fake.channel.id}:{bot.channel_messages()[0].id}"
    )


async def test_a_daily_post_survives_a_rate_limit_and_a_lost_500_reply(bot: Bot) -> None:
    from datetime import UTC, datetime

    await bot.engine.set_daily(bot.place, "09:00", created_by=str(bot.fake.admin.user.id), timezone="UTC")
    bot.fake.fail_next("POST", MESSAGES, status=429, retry_after=0.2)
    bot.fake.fail_after_store_next("POST", MESSAGES, status=500)  # stored, then the reply is an error
    bot.engine.clock = lambda: datetime(2026, 11, 26, 9, 0, 30, tzinfo=UTC)
    for _ in range(100):
        round_ = await bot.store.open_channel_round(bot.place)
        if round_ is not None and round_.message_ref:
            break
        await asyncio.sleep(0.1)
    assert [r.status for r in bot.fake.requests_to("POST", MESSAGES)][:3] == [429, 500, 200]
    (post,) = bot.channel_messages()  # the retry carried the same nonce: no second post
    assert round_ is not None and round_.message_ref == f"discord:{bot.fake.channel.id}:{post.id}"


async def test_a_channel_the_bot_cannot_post_to_turns_its_schedule_off(bot: Bot) -> None:
    from datetime import UTC, datetime

    admin = bot.fake.admin.user.id
    await bot.engine.set_daily(bot.place, "09:00", created_by=str(admin), timezone="UTC")
    bot.fake.set_overwrite(bot.fake.channel.id, bot.fake.bot_user.id, deny=Perm.SEND_MESSAGES)
    bot.engine.clock = lambda: datetime(2026, 11, 26, 9, 0, 30, tzinfo=UTC)
    dm = bot.fake.dm_channel(admin)
    await bot.fake.wait_for(lambda: any("turned off" in m.content for m in bot.fake.messages(dm.id)), 5)
    schedule = await bot.engine.daily_schedule(bot.place)
    assert schedule is not None and not schedule.enabled
    assert await bot.store.open_channel_round(bot.place) is None
    assert bot.channel_messages() == []


async def revealed_at(store: SqlStore, round_id: int) -> Any:
    async with store.db.read() as conn:
        return (await conn.execute(select(rounds.c.revealed_at).where(rounds.c.id == round_id))).scalar_one()


async def answered_by(bot: Bot, *members: Any) -> int:
    """A round posted by the admin and answered (rightly) by these members."""
    message, round_id = await post_question(bot)
    right = await right_letters(bot, round_id)
    for member in members:
        if len(buttons(message)) == 4:
            click = await bot.fake.click(f"quiz:a:{round_id}:{right[0]}", message.id, user_id=member.user.id)
        else:
            click = await bot.fake.select(f"quiz:m:{round_id}", right, message.id, user_id=member.user.id)
        assert "Correct!" in await followup_text(click)
    return round_id


async def test_privacy_export_is_a_private_json_file(bot: Bot) -> None:
    member, other = bot.fake.member, bot.fake.add_member(bot.fake.guild.id, "carla", global_name="Carla")
    round_id = await answered_by(bot, member, other)
    record = await bot.fake.slash_command("quiz", {"action": "export"}, subcommand="privacy")
    assert "Only you can see this" in await followup_text(record)
    (message,) = record.followups
    assert message.ephemeral
    data = json.loads(message.files["quizbot-data.json"])
    assert data["platform"] == "discord" and data["user_id"] == str(member.user.id)
    assert data["learner"]["display_name"] == "Bob"
    assert [a["round_id"] for a in data["attempts"]] == [round_id]
    assert str(other.user.id) not in message.files["quizbot-data.json"].decode()
    assert "Carla" not in message.files["quizbot-data.json"].decode()
    stranger = bot.fake.add_member(bot.fake.guild.id, "dora")
    nothing = await bot.fake.slash_command(
        "quiz", {"action": "export"}, subcommand="privacy", user_id=stranger.user.id
    )
    assert "stores nothing about you" in await followup_text(nothing)


async def test_privacy_forget_asks_first_and_only_the_asker_can_confirm(bot: Bot) -> None:
    member, other = bot.fake.member, bot.fake.add_member(bot.fake.guild.id, "carla", global_name="Carla")
    round_id = await answered_by(bot, member, other)
    record = await bot.fake.slash_command("quiz", {"action": "forget"}, subcommand="privacy")
    assert "cannot be undone" in await followup_text(record)
    confirm = record.original
    assert confirm is not None and confirm.ephemeral
    (button,) = buttons(confirm)
    assert button["custom_id"] == f"quiz:forget:{member.user.id}"
    assert "Bob" in await learner_text(bot.store)  # nothing happens before the confirmation

    forged = await bot.fake.click(button["custom_id"], confirm.id, user_id=other.user.id)
    assert "someone else's request" in await followup_text(forged)
    assert (await forged.response()).ephemeral
    assert "Bob" in await learner_text(bot.store)

    done = await bot.fake.click(button["custom_id"], confirm.id, user_id=member.user.id)
    assert "no longer stores your id" in await followup_text(done)
    remaining = await learner_text(bot.store)
    assert "Bob" not in remaining and str(member.user.id) not in remaining and "Carla" in remaining
    assert await bot.attempts() == 2  # the round's tally keeps both answers
    reveal = await bot.engine.close(round_id)
    assert reveal is not None and reveal.total_answers == 2 and reveal.right_names == ("Carla",)

    stale = await bot.fake.click(button["custom_id"], confirm.id, user_id=member.user.id)
    assert "nothing to erase" in await followup_text(stale)


async def test_removal_from_a_server_records_a_departure_and_rejoining_cancels_it(bot: Bot) -> None:
    guild = bot.fake.guild
    await bot.fake.dispatch("GUILD_DELETE", {"id": str(guild.id), "unavailable": True}, guild_id=guild.id)
    await asyncio.sleep(0.3)  # an outage is not a departure
    assert await bot.engine.store.departed_workspaces() == []
    await bot.fake.dispatch("GUILD_CREATE", bot.fake._guild_create(guild, 0), guild_id=guild.id)
    await bot.fake.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id)
    for _ in range(200):  # a loaded machine: up to 10 s
        if await bot.engine.store.departed_workspaces():
            break
        await asyncio.sleep(0.05)
    ((platform, workspace, _),) = await bot.engine.store.departed_workspaces()
    assert (platform, workspace) == ("discord", str(guild.id))
    await bot.fake.dispatch("GUILD_CREATE", bot.fake._guild_create(guild, 0), guild_id=guild.id)
    for _ in range(200):  # a loaded machine: up to 10 s
        if not await bot.engine.store.departed_workspaces():
            break
        await asyncio.sleep(0.05)
    assert await bot.engine.store.departed_workspaces() == []


async def private_reply(record: InteractionRecord) -> StoredMessage:
    """The private message a command got: its first response, or the follow-up after a deferral."""
    callback = await record.response()
    reply = record.original if callback.type == 4 else (await record.wait_followups(1))[0]
    assert reply is not None
    return reply


async def test_stats_come_with_a_private_progress_chart(bot: Bot) -> None:
    from bot.adapters.charts import FILENAME, HEIGHT_PX, WIDTH_PX

    await answered_by(bot, bot.fake.member)
    # a reply to an interaction needs no channel permission, not even to carry a file
    bot.fake.set_overwrite(
        bot.fake.channel.id, bot.fake.bot_user.id, deny=Perm.ATTACH_FILES | Perm.SEND_MESSAGES
    )
    record = await bot.fake.slash_command("quiz", subcommand="stats", locale="pt-BR")
    assert "Estatísticas de Bob" in await followup_text(record)
    reply = await private_reply(record)
    assert reply.ephemeral
    png = reply.files[FILENAME]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == WIDTH_PX and int.from_bytes(png[20:24], "big") == HEIGHT_PX
    (embed,) = reply.embeds
    assert embed["image"]["url"] == f"attachment://{FILENAME}"  # the chart shows inside the stats
    assert bot.channel_messages()[1:] == []  # nothing reached the channel besides the question


async def test_stats_still_come_when_the_chart_cannot_be_drawn(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.chart_worker import ChartFailed
    from bot.adapters.discord import commands

    async def broken(card: object) -> bytes:
        raise ChartFailed("the chart worker failed (1): no fonts")

    monkeypatch.setattr(commands, "draw_png", broken)
    await answered_by(bot, bot.fake.member)
    record = await bot.fake.slash_command("quiz", subcommand="stats")
    assert "Stats for Bob" in await followup_text(record)
    reply = await private_reply(record)
    assert reply.files == {} and "image" not in reply.embeds[0]


async def test_stats_without_any_answer_come_without_a_chart(bot: Bot) -> None:
    record = await bot.fake.slash_command("quiz", subcommand="stats")
    assert "No answers yet" in await followup_text(record)
    reply = await private_reply(record)
    assert reply.ephemeral and reply.files == {}


async def test_a_server_that_removed_the_bot_while_it_was_down_is_noticed_at_start(
    tmp_path: Path, bank: QuestionBank
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(3))
    try:
        async with FakeDiscord() as fake:
            gone_server = str(fake.guild.id + 1)
            for guild in (str(fake.guild.id), gone_server):  # data from before the bot went down
                await engine.update_settings(PlaceRef("discord", guild, "1"), locale="en")
            with pointed_at(fake):
                async with running_client(fake, engine):
                    for _ in range(200):
                        if await store.departed_workspaces():
                            break
                        await asyncio.sleep(0.05)
        departed = [(p, w) for p, w, _ in await store.departed_workspaces()]
        assert departed == [("discord", gone_server)]  # the server it is still in is kept
    finally:
        await store.close()
