"""Races that real chats produce: double clicks across processes, answers racing the close."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.engine import AnswerRefused, FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.cards import RefusalReason
from bot.store import SqlStore
from bot.store.tables import attempts
from tests.helpers.recount import histogram_matches, recount

PLACE = PlaceRef("discord", "guild-1", "chan-1")
REPO = Path(__file__).resolve().parent.parent


def right_letters(card: QuestionCard) -> list[str]:
    return [o.letter for o in card.options if o.correct]


async def test_duplicate_answers_from_two_processes(
    engine: QuizEngine, store: SqlStore, database_url: str, tmp_path: Path
) -> None:
    card = await engine.ask(PLACE, minutes=60)
    assert isinstance(card, QuestionCard)
    learners = 150
    start = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "tests.helpers.answer_burst",
        database_url,
        str(card.round_id),
        str(learners),
        str(start),
        engine.clock().isoformat(),
    ]
    processes = [
        subprocess.Popen(  # noqa: ASYNC220 - plain Popen: the barrier, not asyncio, sets the start
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
        )
        for _ in range(2)
    ]
    await asyncio.sleep(1.5)  # both processes import and connect, then wait at the barrier
    start.touch()
    outputs = [p.communicate(timeout=90) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    recorded = sum(count_in(out, "recorded") for out, _ in outputs)
    duplicates = sum(count_in(out, "duplicate") for out, _ in outputs)
    assert recorded == learners and duplicates == learners
    async with store.db.read() as conn:
        rows = (
            await conn.execute(select(attempts.c.learner_id, func.count()).group_by(attempts.c.learner_id))
        ).all()
    assert len(rows) == learners and all(n == 1 for _, n in rows)
    expected, actual = await recount(store.db)
    assert actual == expected
    assert await histogram_matches(store.db)


async def test_answers_racing_the_close_are_counted_in_both_or_neither(
    engine: QuizEngine, store: SqlStore
) -> None:
    """Twenty answers land before the close, twenty race it, twenty come after it. Whatever
    the race decides, each answer is in both the database and the reveal, or in neither."""
    for attempt in range(4):
        place = PlaceRef("discord", "guild-1", f"race-{attempt}")
        card = await engine.ask(place, minutes=60)
        assert isinstance(card, QuestionCard)
        letters = right_letters(card)

        async def answer(
            n: int, card: QuestionCard = card, place: PlaceRef = place, letters: list[str] = letters
        ) -> object:
            return await engine.answer(
                card.round_id, LearnerRef("slack", f"u{n}", f"U{n}"), letters, place=place
            )

        before = await asyncio.gather(*(answer(n) for n in range(20)))
        racing = [asyncio.ensure_future(answer(n)) for n in range(20, 40)]
        reveal = await engine.close(card.round_id)
        after = await asyncio.gather(*(answer(n) for n in range(40, 60)))
        results = [*before, *await asyncio.gather(*racing), *after]
        accepted = {f"U{n}" for n, r in enumerate(results) if isinstance(r, FeedbackCard)}
        refused = [r for r in results if isinstance(r, AnswerRefused)]
        assert all(isinstance(r, FeedbackCard) for r in before)
        assert all(isinstance(r, AnswerRefused) and r.reason is RefusalReason.CLOSED for r in after)
        assert all(r.reason is RefusalReason.CLOSED for r in refused)
        assert len(accepted) + len(refused) == 60
        assert reveal is not None
        async with store.db.read() as conn:
            stored = (
                await conn.execute(
                    select(func.count()).select_from(attempts).where(attempts.c.round_id == card.round_id)
                )
            ).scalar_one()
        assert reveal.total_answers == stored == len(accepted)
        assert reveal.more_right + len(reveal.right_names) == len(accepted)
        assert set(reveal.right_names) <= accepted
    expected, actual = await recount(store.db)
    assert actual == expected


def count_in(output: str, name: str) -> int:
    """A ``name=N`` figure a child process printed."""
    found = re.search(rf"{name}=(\d+)", output)
    assert found is not None, output
    return int(found.group(1))


async def test_an_answer_whose_caller_gave_up_is_still_written_and_counted(
    engine: QuizEngine, store: SqlStore
) -> None:
    """A handler cancelled after submitting (the platform's deadline passed, the process is
    stopping) cancels only its wait: the queued answer is committed and counted."""
    place = PlaceRef("discord", "guild-1", "gave-up")
    card = await engine.ask(place, minutes=60)
    assert isinstance(card, QuestionCard)
    waiting = [
        asyncio.ensure_future(
            engine.answer(card.round_id, LearnerRef("discord", f"u{n}", f"U{n}"), right_letters(card), place)
        )
        for n in range(5)
    ]
    await asyncio.sleep(0)  # each answer is now queued for the writer
    for task in waiting[:3]:
        task.cancel()
    kept = await asyncio.gather(*waiting, return_exceptions=True)
    assert [isinstance(r, asyncio.CancelledError) for r in kept] == [True] * 3 + [False] * 2
    await store.writer.drain()
    async with store.db.read() as conn:
        stored = (
            await conn.execute(
                select(func.count()).select_from(attempts).where(attempts.c.round_id == card.round_id)
            )
        ).scalar_one()
    assert stored == 5
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.total_answers == 5
    expected, actual = await recount(store.db)
    assert actual == expected
