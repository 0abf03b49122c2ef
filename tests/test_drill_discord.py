""" "I guessed" and the weak-topic drill on Discord end to end: the real discord.py client
over sockets against the fake Discord, a real SQLite database."""

from __future__ import annotations

from typing import Any

import discord

from bot.engine import LearnerRef, PlaceRef, QuestionCard
from bot.engine.spacing import Grade
from tests import test_discord_adapter as adapter_tests
from tests.fakes.discord_server import EPHEMERAL, StoredMessage
from tests.helpers.discord_reply import followup_text
from tests.test_discord_adapter import Bot, buttons, post_question, right_letters
from tests.test_sessions import letters

bot = adapter_tests.bot  # the running bot of the adapter tests, as a fixture here too
NOTED = "Noted: this question comes back sooner."
NOTHING = "Nothing to change"


def learner(user_id: int) -> LearnerRef:
    return LearnerRef("discord", str(user_id), "someone")


async def answer(bot: Bot, message: StoredMessage, round_id: int, user_id: int, right: bool) -> StoredMessage:
    """Answer a question message as ``user_id``; returns the private feedback message."""
    control = buttons(message)[0]
    chosen = await right_letters(bot, round_id, right)
    if control["custom_id"].startswith("quiz:m:"):
        record = await bot.fake.select(control["custom_id"], chosen, message.id, user_id=user_id)
    else:
        record = await bot.fake.click(f"quiz:a:{round_id}:{chosen[0]}", message.id, user_id=user_id)
    callback = await record.response(timeout=3)
    feedback = record.original if callback.type == 4 else (await record.wait_followups(1))[0]
    assert feedback is not None and feedback.flags & EPHEMERAL
    return feedback


async def click_text(bot: Bot, custom_id: str, message: StoredMessage, user_id: int) -> str:
    record = await bot.fake.click(custom_id, message.id, user_id=user_id)
    text = await followup_text(record)
    assert (await record.response()).ephemeral
    return text


async def grade(bot: Bot, user_id: int, question_id: str) -> Grade | None:
    card = await bot.store.review_card(learner(user_id), question_id)
    return card.last_grade if card else None


async def test_i_guessed_under_a_right_answer_in_a_channel_round(bot: Bot) -> None:
    message, round_id = await post_question(bot, minutes=30)
    question_id = (await bot.store.get_round(round_id)).question_id  # type: ignore[union-attr]
    ana, bob = bot.fake.member.user.id, bot.fake.add_member(bot.fake.guild.id, "bob").user.id
    right = await answer(bot, message, round_id, ana, right=True)
    wrong = await answer(bot, message, round_id, bob, right=False)
    guess = f"quiz:g:{round_id}"
    assert guess in [b["custom_id"] for b in buttons(right)]
    assert "I guessed" in [b.get("label") for b in buttons(right)]
    assert all(not b["custom_id"].startswith("quiz:g:") for b in buttons(wrong))  # right answers only
    assert await grade(bot, ana, question_id) is Grade.GOOD

    assert NOTED in await click_text(bot, guess, right, ana)
    assert await grade(bot, ana, question_id) is Grade.HARD
    assert NOTHING in await click_text(bot, guess, right, ana)  # said twice
    assert NOTHING in await click_text(bot, guess, right, bob)  # someone else's right answer
    assert await grade(bot, bob, question_id) is Grade.AGAIN
    assert await grade(bot, ana, question_id) is Grade.HARD


async def test_a_forged_or_stale_i_guessed_gets_a_polite_answer(bot: Bot) -> None:
    from bot.adapters.discord.components import GuessedButton

    other = bot.fake.add_channel(bot.fake.guild.id, "elsewhere")
    elsewhere = await bot.engine.ask(PlaceRef("discord", str(bot.fake.guild.id), str(other.id)))
    assert isinstance(elsewhere, QuestionCard)
    carla = bot.fake.add_member(bot.fake.guild.id, "carla").user.id
    await bot.engine.answer(elsewhere.round_id, learner(carla), letters(elsewhere, True))
    view = discord.ui.View(timeout=None)
    view.add_item(GuessedButton(elsewhere.round_id))  # carla's right answer, clicked by another
    view.add_item(GuessedButton(987654321))  # a round that never existed
    channel = bot.client.get_partial_messageable(bot.fake.channel.id)  # type: ignore[attr-defined]
    posted = await channel.send("forged", view=view)
    stored = bot.fake.message(posted.id)
    for custom_id in (f"quiz:g:{elsewhere.round_id}", "quiz:g:987654321"):
        text = await click_text(bot, custom_id, stored, bot.fake.member.user.id)
        assert NOTHING in text and "wrong" not in text.casefold()
    assert await grade(bot, carla, elsewhere.question_id) is Grade.GOOD  # untouched


def option(command: dict[str, Any], *path: str) -> dict[str, Any]:
    for name in path:
        command = next(o for o in command["options"] if o["name"] == name)
    return command


async def test_practice_focus_weak_drills_the_weakest_and_offers_i_guessed(bot: Bot) -> None:
    quiz = next(c for c in bot.fake.registered_commands() if c["name"] == "quiz")
    focus = option(quiz, "practice", "focus")
    assert [c["value"] for c in focus["choices"]] == ["weak"]
    assert focus["choices"][0]["name_localizations"]["pt-BR"] == "Pontos fracos"
    ana = bot.fake.member.user.id
    seed_place = PlaceRef("discord", str(bot.fake.guild.id), "seed")
    seeded = {"3.2.d": 3, "3.4.b": 2, "3.3.c": 1}  # misses: the three weakest objectives
    for objective, misses in seeded.items():
        chosen = sorted(q.id for q in bot.engine.bank if q.objective == objective)[:misses]
        for question_id in chosen:
            card = await bot.engine.ask(seed_place, question_id=question_id)
            assert isinstance(card, QuestionCard)
            await bot.engine.answer(card.round_id, learner(ana), letters(card, False), place=seed_place)
            await bot.engine.close(card.round_id)

    record = await bot.fake.slash_command("quiz", {"count": 2, "focus": "weak"}, subcommand="practice")
    await record.response(timeout=3)
    shown = record.original
    for step in range(2):
        assert shown is not None and shown.ephemeral
        round_id = int(buttons(shown)[0]["custom_id"].split(":")[2])
        served = await bot.store.get_round(round_id)
        assert served is not None
        question = bot.engine.bank.get(served.question_id)
        assert question is not None and question.objective in seeded  # from the weakest only
        feedback = await answer(bot, shown, round_id, ana, right=True)
        ids = [b["custom_id"] for b in buttons(feedback)]
        assert f"quiz:g:{round_id}" in ids and any(i.startswith("quiz:n:") for i in ids)
        if step == 0:  # practice feedback takes "I guessed" too
            assert NOTED in await click_text(bot, f"quiz:g:{round_id}", feedback, ana)
            assert await grade(bot, ana, question.id) is Grade.HARD
        next_id = next(i for i in ids if i.startswith("quiz:n:"))
        record = await bot.fake.click(next_id, feedback.id)
        await record.response(timeout=3)
        shown = record.original
    assert shown is not None
    summary = shown.embeds[0]["description"]
    assert "Your weakest objectives (last 100 answers):" in summary
    expected = await bot.engine.weak_spots(learner(ana))
    assert {s.objective for s in expected} <= set(seeded)
    for spot in expected:
        row = next(line for line in summary.splitlines() if line.startswith(f"- {spot.objective} "))
        assert f"{spot.reference}" in row and row.count("https://") == 1


PENDING = "Noted: if that answer is right, the question comes back sooner."


async def test_i_guessed_under_an_at_close_acknowledgement_gives_nothing_away(bot: Bot) -> None:
    """At-close feedback: every answer is only acknowledged, so "I guessed" is offered under
    right and wrong ones alike, and its reply is the same for both until the round closes.
    Only the right answer becomes Hard; the wrong one stays Again."""
    admin = bot.fake.admin.user.id
    setting = await bot.fake.slash_command(
        "quizadmin", {"mode": "at-close"}, subcommand="feedback", user_id=admin
    )
    assert "Saved" in await followup_text(setting)
    message, round_id = await post_question(bot, minutes=30)
    question_id = (await bot.store.get_round(round_id)).question_id  # type: ignore[union-attr]
    ana, bob = bot.fake.member.user.id, bot.fake.add_member(bot.fake.guild.id, "bob").user.id
    carla = bot.fake.add_member(bot.fake.guild.id, "carla").user.id
    right = await answer(bot, message, round_id, ana, right=True)
    wrong = await answer(bot, message, round_id, bob, right=False)
    guess = f"quiz:g:{round_id}"
    for acknowledgement in (right, wrong):
        assert "recorded" in (acknowledgement.content or "")
        assert [b["custom_id"] for b in buttons(acknowledgement)] == [guess]
        assert [b.get("label") for b in buttons(acknowledgement)] == ["I guessed"]

    said_right = await click_text(bot, guess, right, ana)
    said_wrong = await click_text(bot, guess, wrong, bob)
    assert said_right == said_wrong and PENDING in said_right  # nothing given away
    assert await grade(bot, ana, question_id) is Grade.HARD
    assert await grade(bot, bob, question_id) is Grade.AGAIN
    assert PENDING in await click_text(bot, guess, wrong, bob)  # again: the same words
    assert NOTHING in await click_text(bot, guess, right, carla)  # no answer of hers here

    close = await bot.fake.slash_command("quizadmin", subcommand="close", user_id=admin)
    await followup_text(close)
    assert NOTHING in await click_text(bot, guess, wrong, bob)  # closed: the result is out
    assert await grade(bot, bob, question_id) is Grade.AGAIN
