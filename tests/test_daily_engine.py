"""Daily questions through the engine and a real database: posted once, on time, with streaks."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.service import SettingRejected
from bot.store import Database, SqlStore
from tests.conftest import FakeClock

CHANNEL = PlaceRef("discord", "guild-d", "daily")
REPO = Path(__file__).resolve().parent.parent


def learner(n: int) -> LearnerRef:
    return LearnerRef("discord", f"d{n}", f"Daily {n}")


def right(card: QuestionCard) -> list[str]:
    return [o.letter for o in card.options if o.correct]


def wrong(card: QuestionCard) -> list[str]:
    return [o.letter for o in card.options if not o.correct][: card.select_count]


async def test_schedule_validation_and_defaults(engine: QuizEngine) -> None:
    await engine.update_settings(CHANNEL, timezone="America/Sao_Paulo")
    schedule = await engine.set_daily(CHANNEL, "8:05", created_by="U1")
    assert (schedule.at.hour, schedule.at.minute, schedule.timezone) == (8, 5, "America/Sao_Paulo")
    assert schedule.days == frozenset(range(7)) and schedule.enabled
    for field, kwargs in [
        ("time", {"at": "25:00"}),
        ("timezone", {"at": "08:00", "timezone": "Mars/Base"}),
        ("days", {"at": "08:00", "days": "funday"}),
        ("task", {"at": "08:00", "task": "9.9"}),
    ]:
        with pytest.raises(SettingRejected, match=field):
            await engine.set_daily(CHANNEL, created_by="U1", **kwargs)  # type: ignore[arg-type]
    assert (await engine.daily_schedule(CHANNEL)) == schedule  # a refused change changes nothing
    assert await engine.stop_daily(CHANNEL) and not await engine.stop_daily(CHANNEL)
    assert await engine.run_daily("discord", "p1") == []


async def test_posts_once_at_the_local_minute_and_closes_at_the_next(
    engine: QuizEngine, clock: FakeClock
) -> None:
    await engine.set_daily(CHANNEL, "09:00", created_by="U1", timezone="America/Sao_Paulo", task="3.2")
    clock.now = datetime(2026, 11, 26, 11, 59, tzinfo=UTC)
    assert await engine.run_daily("discord", "p1") == []  # 08:59 local
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    (card,) = await engine.run_daily("discord", "p1")
    assert card.daily_date == "2026-11-26" and card.task == "3.2"
    assert card.deadline == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # until the next post
    assert await engine.run_daily("discord", "p1") == []  # claimed: never twice
    clock.advance(minutes=5)
    assert await engine.run_daily("discord", "p2") == []
    clock.now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    (tomorrow,) = await engine.run_daily("discord", "p1")
    assert tomorrow.daily_date == "2026-11-27"
    assert tomorrow.previous_reveal is not None and tomorrow.previous_reveal.round_id == card.round_id


async def test_catch_up_within_grace_and_skip_beyond(
    engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await engine.set_daily(CHANNEL, "08:00", created_by="U1", timezone="UTC")
    clock.now = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # the bot was down at 08:00
    (late,) = await engine.run_daily("discord", "p1", grace=timedelta(hours=2))
    assert late.daily_date == "2026-11-26"
    clock.now = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)  # down again, past the grace window
    with caplog.at_level(logging.INFO, logger="bot.engine.service"):
        assert await engine.run_daily("discord", "p1", grace=timedelta(hours=2)) == []
    assert "for 2026-11-27 skipped" in caplog.text
    clock.now = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert await engine.run_daily("discord", "p1", grace=timedelta(hours=3)) == []  # skipped stays skipped


async def test_two_processes_racing_for_the_same_post(
    database_url: str, store: SqlStore, bank: object, clock: FakeClock
) -> None:
    first = QuizEngine(store, bank, clock=clock, rng=random.Random(1))  # type: ignore[arg-type]
    other_store = SqlStore(Database(database_url))
    second = QuizEngine(other_store, bank, clock=clock, rng=random.Random(2))  # type: ignore[arg-type]
    try:
        await first.set_daily(CHANNEL, "06:00", created_by="U1", timezone="UTC")
        posted = 0
        for day in range(60):
            clock.now = datetime(2026, 1, 1, 6, 0, tzinfo=UTC) + timedelta(days=day)
            results = await asyncio.gather(
                first.run_daily("discord", "p1"), second.run_daily("discord", "p2")
            )
            assert sum(len(r) for r in results) == 1, f"day {day}: {results}"
            posted += 1
        assert posted == 60
    finally:
        await other_store.close()


async def test_streaks_grow_survive_quiet_days_and_reset_after_a_miss(
    engine: QuizEngine, clock: FakeClock
) -> None:
    await engine.set_daily(CHANNEL, "07:00", created_by="U1", timezone="UTC", days="mon-fri")

    async def day(date: datetime, answers: dict[int, bool]) -> None:
        clock.now = date
        cards = await engine.run_daily("discord", "p1")
        if not cards:
            return
        (card,) = cards
        for n, correct in answers.items():
            result = await engine.answer(
                card.round_id, learner(n), right(card) if correct else wrong(card), CHANNEL
            )
            assert isinstance(result, FeedbackCard)

    monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    await day(monday, {1: True, 2: True})
    await day(monday + timedelta(days=1), {1: False, 2: True})
    await day(monday + timedelta(days=2), {1: True})  # 2 misses Wednesday
    await day(monday + timedelta(days=3), {1: True, 2: True})
    await day(monday + timedelta(days=4), {1: True, 2: True})
    await day(monday + timedelta(days=5), {1: True, 2: True})  # Saturday: no post, nobody's streak breaks
    clock.now = monday + timedelta(days=7, hours=1)  # Monday's question posted, still open, 1 answers
    (card,) = await engine.run_daily("discord", "p1")
    await engine.answer(card.round_id, learner(1), right(card), CHANNEL)
    board = await engine.streaks(CHANNEL, learner(2))
    by_name = {e.display_name: e for e in board.entries}
    assert by_name["Daily 1"].streak == 6 and by_name["Daily 1"].correct_days == 5  # Tuesday was wrong
    assert by_name["Daily 2"].streak == 2  # reset by Wednesday; Monday's open question does not break it yet
    assert (board.viewer_streak, board.viewer_best) == (2, 2)
    assert [e.rank for e in board.entries] == [1, 2]


async def test_two_processes_claim_each_post_once(engine: QuizEngine, database_url: str) -> None:
    """Two real processes race for the same 200 posts, meeting at a barrier before each
    claim: every post is won exactly once."""
    import multiprocessing

    from tests.helpers.daily_claim import POSTS, race

    schedule = await engine.set_daily(CHANNEL, "06:00", created_by="U1", timezone="UTC")
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as two deployments
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=race, args=(database_url, schedule.id, name, barrier, results))
        for name in ("one", "two")
    ]
    for process in processes:
        process.start()
    won = dict(await asyncio.to_thread(lambda: [results.get(timeout=120) for _ in processes]))
    for process in processes:
        await asyncio.to_thread(process.join, 30)
        assert process.exitcode == 0
    assert set(won["one"]).isdisjoint(won["two"]) and len(won["one"]) + len(won["two"]) == POSTS
    assert won["one"] and won["two"], "the two processes never actually raced"


async def test_an_open_daily_round_survives_a_restart(
    database_url: str, engine: QuizEngine, bank: object, clock: FakeClock
) -> None:
    await engine.set_daily(CHANNEL, "07:00", created_by="U1", timezone="UTC")
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    (card,) = await engine.run_daily("discord", "p1")
    restarted_store = SqlStore(Database(database_url))
    try:
        restarted = QuizEngine(restarted_store, bank, clock=clock)  # type: ignore[arg-type]
        clock.advance(hours=3)
        result = await restarted.answer(card.round_id, learner(1), right(card), CHANNEL)
        assert isinstance(result, FeedbackCard) and result.correct
        clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # its window ends at the next post
        (reveal,) = await restarted.close_due(platform="discord")
        assert reveal.round_id == card.round_id and reveal.total_answers == 1
    finally:
        await restarted_store.close()


async def test_streaks_show_in_stats_and_in_the_daily_reveal(engine: QuizEngine, clock: FakeClock) -> None:
    await engine.set_daily(CHANNEL, "07:00", created_by="U1", timezone="UTC")
    start = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    for day in range(4):
        clock.now = start + timedelta(days=day)
        (card,) = await engine.run_daily("discord", "p1")
        await engine.answer(card.round_id, learner(1), right(card), CHANNEL)
        if day >= 2:
            await engine.answer(card.round_id, learner(2), right(card), CHANNEL)
    reveal = await engine.close(card.round_id)
    assert reveal is not None and reveal.streaks == (("Daily 1", 4), ("Daily 2", 2))
    stats = await engine.stats(learner(1), CHANNEL)
    assert (stats.daily_streak, stats.best_daily_streak) == (4, 4)
    from bot.adapters import plaintext

    assert "🔥 Daily 1: 4-day streak" in plaintext.reveal(reveal)
    assert "Daily question streak: 4 day(s)" in plaintext.stats(stats)


async def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(
    engine: QuizEngine, clock: FakeClock
) -> None:
    from bot.engine.service import STALE_CLAIM

    schedule = await engine.set_daily(CHANNEL, "09:00", created_by="U1", timezone="UTC")
    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert await engine.store.claim_daily(schedule.id, "2026-11-26", "claimed", "died", clock.now)
    clock.advance(minutes=1)
    assert await engine.run_daily("discord", "alive") == []  # the claimer may still be at work
    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC) + STALE_CLAIM + timedelta(seconds=1)
    (card,) = await engine.run_daily("discord", "alive")
    assert card.daily_date == "2026-11-26"
    assert await engine.run_daily("discord", "another") == []  # the round is open: taken for good


async def test_an_idle_tick_does_not_wait_for_the_write_lock(
    engine: QuizEngine, clock: FakeClock, database_url: str
) -> None:
    """Ticks come every few seconds for every schedule; one that has nothing to do must
    not queue for SQLite's single writer behind the answers."""
    import sqlite3

    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer")
    for n in range(20):
        place = PlaceRef("discord", "guild-d", f"c{n}")
        await engine.set_daily(place, "09:00", created_by="U1", timezone="UTC")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert await engine.run_daily("discord", "p1") == []  # yesterday's posts: skipped, once
    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert len(await engine.run_daily("discord", "p1")) == 20
    lock = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another connection is writing, and takes its time
    try:
        for minutes in (1, 2, 6 * 60):
            clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
            assert await asyncio.wait_for(engine.run_daily("discord", "p2"), 2) == []
    finally:
        lock.execute("COMMIT")
        lock.close()
