""" "I guessed" and the weak-topic drill on Slack end to end: the real slack-bolt app over
HTTP on loopback, signed requests and the fake Slack Web API, a real SQLite database."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from bot.engine import LearnerRef, PlaceRef, QuestionCard
from bot.engine.spacing import Grade
from tests import test_slack_adapter as adapter_tests
from tests.fakes.slack_server import Message
from tests.test_sessions import letters
from tests.test_slack_adapter import Bot, answer, more_than, post_question, right_letters

bot = adapter_tests.bot  # the running bot of the adapter tests, as a fixture here too
NOTED = "Noted: this question comes back sooner."
NOTHING = "Nothing to change"


def learner(user: str) -> LearnerRef:
    return LearnerRef("slack", user, "someone")


async def grade(bot: Bot, user: str, question_id: str) -> Grade | None:
    card = await bot.store.review_card(learner(user), question_id)
    return card.last_grade if card else None


def action_ids(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


async def feedback_of(bot: Bot, user: str, before: int) -> Message:
    """The private feedback the user got after ``before`` private messages."""
    await bot.fake.wait_for(more_than(before, lambda: len(bot.fake.ephemerals(bot.fake.channel.id, user))), 5)
    return bot.fake.ephemerals(bot.fake.channel.id, user)[-1]


async def said(bot: Bot, user: str, text: str, times: int = 1) -> None:
    await bot.fake.wait_for(lambda: bot.private_text(user).count(text) >= times, 5)


async def send(bot: Bot, payload: dict[str, Any]) -> None:
    delivery = await bot.sim.send(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", payload
    )
    assert delivery.status == 200


def questions_shown(bot: Bot, user: str) -> list[Message]:
    shown = bot.fake.ephemerals(bot.fake.channel.id, user)
    return [m for m in shown if '"quiz_round_' in json.dumps(m.blocks)]


async def test_i_guessed_under_a_right_answer_and_forged_clicks(bot: Bot) -> None:
    message, round_id = await post_question(bot)
    round_ = await bot.store.get_round(round_id)
    assert round_ is not None
    member, carla = bot.fake.member.id, bot.fake.add_user("UCARLA", "carla").id
    bot.fake.channel.members.add(carla)
    await answer(bot, message, round_id, member, await right_letters(bot, round_id))
    right = await feedback_of(bot, member, 0)
    await answer(bot, message, round_id, carla, await right_letters(bot, round_id, correct=False))
    wrong = await feedback_of(bot, carla, 0)
    assert "quiz_guessed" in action_ids(right) and "quiz_guessed" not in action_ids(wrong)
    assert "I guessed" in json.dumps(right.blocks)

    stale = bot.fake.block_action_payload("quiz_guessed", user=member, message_ts=right.ts)
    await bot.sim.block_action("quiz_guessed", user=member, message_ts=right.ts)
    await said(bot, member, NOTED)
    assert await grade(bot, member, round_.question_id) is Grade.HARD
    await send(bot, stale)  # the same click again
    await said(bot, member, NOTHING)

    forged = bot.fake.block_action_payload("quiz_guessed", user=member, message_ts=right.ts)
    forged["user"] = {"id": carla, "username": "carla", "team_id": "T1"}  # carla, on member's round
    await send(bot, forged)
    await said(bot, member, NOTHING, times=2)
    unknown = bot.fake.block_action_payload("quiz_guessed", user=member, message_ts=right.ts)
    unknown["actions"][0]["value"] = "987654321"  # a round that never existed
    await send(bot, unknown)
    garbage = bot.fake.block_action_payload("quiz_guessed", user=member, message_ts=right.ts)
    garbage["actions"][0]["value"] = "not-a-round"
    await send(bot, garbage)
    await said(bot, member, NOTHING, times=4)
    assert "went wrong" not in bot.private_text(member)
    assert await grade(bot, carla, round_.question_id) is Grade.AGAIN
    assert await grade(bot, member, round_.question_id) is Grade.HARD


async def test_practice_weak_drills_the_weakest_with_i_guessed(bot: Bot) -> None:
    member = bot.fake.member.id
    seed_place = PlaceRef("slack", "T1", "CSEED")
    seeded = {"3.2.d": 3, "3.4.b": 2, "3.3.c": 1}  # misses: the three weakest objectives
    for objective, misses in seeded.items():
        for question_id in sorted(q.id for q in bot.engine.bank if q.objective == objective)[:misses]:
            card = await bot.engine.ask(seed_place, question_id=question_id)
            assert isinstance(card, QuestionCard)
            await bot.engine.answer(card.round_id, learner(member), letters(card, False), place=seed_place)
            await bot.engine.close(card.round_id)

    await bot.sim.slash_command("practice weak 2", user=member)
    for step in range(2):
        await bot.fake.wait_for(more_than(step, lambda: len(questions_shown(bot, member))), 5)
        shown = questions_shown(bot, member)[-1]
        actions = next(b for b in shown.blocks if b["type"] == "actions")
        round_id = int(actions["block_id"].removeprefix("quiz_round_"))
        served = await bot.store.get_round(round_id)
        question = bot.engine.bank.get(served.question_id) if served else None
        assert question is not None and question.objective in seeded  # the weakest only
        before = len(bot.fake.ephemerals(bot.fake.channel.id, member))
        await answer(bot, shown, round_id, member, await right_letters(bot, round_id))
        feedback = await feedback_of(bot, member, before)
        assert {"quiz_next", "quiz_guessed", "quiz_report"} == set(action_ids(feedback))
        if step == 0:
            await bot.sim.block_action("quiz_guessed", user=member, message_ts=feedback.ts)
            await said(bot, member, NOTED)
            assert await grade(bot, member, question.id) is Grade.HARD
        next_value = next(
            e["value"]
            for b in feedback.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "quiz_next"
        )
        await bot.sim.block_action("quiz_next", next_value, user=member, message_ts=feedback.ts)
    await said(bot, member, "Your weakest objectives (last 100 answers):")
    text = bot.private_text(member)
    spots = await bot.engine.weak_spots(learner(member))
    assert {s.objective for s in spots} <= set(seeded)
    for spot in spots:
        assert f"- {spot.objective} " in text and f"{spot.reference}" in text


PENDING = "Noted: if that answer is right, the question comes back sooner."


async def test_i_guessed_under_an_at_close_acknowledgement_gives_nothing_away(bot: Bot) -> None:
    """At-close feedback: every answer is only acknowledged, so "I guessed" is offered under
    right and wrong ones alike, and its reply is the same for both until the round closes.
    Only the right answer becomes Hard; the wrong one stays Again."""
    admin = bot.fake.admin.id
    await bot.sim.slash_command("admin feedback at-close", user=admin)
    await said(bot, admin, "Saved")
    message, round_id = await post_question(bot)
    round_ = await bot.store.get_round(round_id)
    assert round_ is not None
    member, carla = bot.fake.member.id, bot.fake.add_user("UCARLA", "carla").id
    bot.fake.channel.members.add(carla)
    await answer(bot, message, round_id, member, await right_letters(bot, round_id))
    right = await feedback_of(bot, member, 0)
    await answer(bot, message, round_id, carla, await right_letters(bot, round_id, correct=False))
    wrong = await feedback_of(bot, carla, 0)
    for acknowledgement in (right, wrong):
        assert "recorded" in acknowledgement.text and action_ids(acknowledgement) == ["quiz_guessed"]
        assert "I guessed" in json.dumps(acknowledgement.blocks)

    await bot.sim.block_action("quiz_guessed", user=member, message_ts=right.ts)
    await bot.sim.block_action("quiz_guessed", user=carla, message_ts=wrong.ts)
    await said(bot, member, PENDING)
    await said(bot, carla, PENDING)  # the same words: nothing given away
    assert NOTHING not in bot.private_text(carla)
    assert await grade(bot, member, round_.question_id) is Grade.HARD
    assert await grade(bot, carla, round_.question_id) is Grade.AGAIN
    outsider = bot.fake.block_action_payload("quiz_guessed", user=member, message_ts=right.ts)
    outsider["user"] = {"id": bot.fake.admin.id, "username": "admin", "team_id": "T1"}  # no answer here
    await send(bot, outsider)
    await said(bot, member, NOTHING)  # through the response URL of the message clicked

    await bot.sim.slash_command("admin close", user=admin)
    await bot.fake.wait_for(lambda: bool(bot.thread(message.ts)), 5)  # the reveal: the result is out
    await bot.sim.block_action("quiz_guessed", user=carla, message_ts=wrong.ts)
    await said(bot, carla, NOTHING)
    assert await grade(bot, carla, round_.question_id) is Grade.AGAIN
