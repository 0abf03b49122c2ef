"""SQLite's log is checkpointed by a background task, not inside the answers' commits;
answers and hot reads run on the store's own threads."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.engine import LearnerRef, PlaceRef, QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.checkpoint import BACKSTOP_PAGES
from bot.store.migrate import upgrade
from tests.conftest import FakeClock
from tests.test_standings import play_round


def rows_in_file_alone(path: Path, copy: Path) -> int:
    """How many learners a copy of the database file, without its log, holds."""
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'learners'").fetchall():
            return -1  # not even the schema yet
        return int(conn.execute("SELECT count(*) FROM learners").fetchone()[0])


async def file_alone_holds(path: Path, copy: Path, learners: int) -> bool:
    for _ in range(50):
        if rows_in_file_alone(path, copy) == learners:
            return True
        await asyncio.sleep(0.05)
    return False


async def add_learners(database: Database, first: int, count: int) -> None:
    async with database.write() as conn:
        for n in range(first, first + count):
            await conn.execute(
                text(
                    "INSERT INTO learners (platform, user_id, display_name, created_at) "
                    "VALUES ('discord', :user, 'someone', '2026-11-26 12:00:00.000000')"
                ),
                {"user": f"user-{n}"},
            )


async def test_commits_reach_the_database_file_soon_after_they_are_made(tmp_path: Path) -> None:
    path = tmp_path / "quiz.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(database)
        await add_learners(database, 0, 1)
        assert await file_alone_holds(path, tmp_path / "schema.db", 1)
        await add_learners(database, 1, 49)
        # far below any automatic checkpoint, these rows are only in the log at first
        assert rows_in_file_alone(path, tmp_path / "now.db") == 1
        assert await file_alone_holds(path, tmp_path / "later.db", 50)
        assert database.checkpointer is not None and database.checkpointer.checkpoints >= 1
    finally:
        await database.dispose()


async def test_commits_checkpoint_by_themselves_only_as_a_backstop(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    try:
        async with database.write() as conn:
            pages = (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one()
        assert pages == BACKSTOP_PAGES
    finally:
        await database.dispose()


async def test_a_clean_stop_leaves_no_task_and_every_commit_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "quiz.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database)
    await add_learners(database, 0, 20)
    await database.dispose()
    names = {task.get_name() for task in asyncio.all_tasks()}
    assert "wal-checkpoint" not in names
    assert rows_in_file_alone(path, tmp_path / "copy.db") == 20


async def test_a_failing_checkpoint_is_logged_and_the_writes_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "quiz.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(database)
        assert database.checkpointer is not None
        database.checkpointer.path = str(tmp_path / "missing-folder" / "quiz.db")  # cannot be opened
        await add_learners(database, 0, 5)
        await asyncio.sleep(0.5)
        await add_learners(database, 5, 5)
        async with database.read() as conn:
            assert (await conn.exec_driver_sql("SELECT count(*) FROM learners")).scalar_one() == 10
        assert "WAL checkpoint failed" in caplog.text
    finally:
        await database.dispose()


def test_a_database_used_from_one_event_loop_after_another_checkpoints_and_disposes(tmp_path: Path) -> None:
    path = tmp_path / "quiz.db"
    database = Database(f"sqlite+aiosqlite:///{path}")

    async def write(first: int) -> None:
        await add_learners(database, first, 5)
        assert await file_alone_holds(path, tmp_path / f"copy-{first}.db", first + 5)

    asyncio.run(upgrade(database))
    asyncio.run(write(0))
    asyncio.run(write(5))  # a second loop: the checkpoints go on
    asyncio.run(database.dispose())
    assert rows_in_file_alone(path, tmp_path / "end.db") == 10


async def test_a_write_after_dispose_starts_no_checkpoint_task(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    await upgrade(database)
    await database.dispose()
    try:
        await add_learners(database, 0, 1)
        assert "wal-checkpoint" not in {task.get_name() for task in asyncio.all_tasks()}
    finally:
        await database.dispose()


async def test_boards_read_on_threads_agree_and_a_stop_leaves_no_database_thread(
    tmp_path: Path, bank: QuestionBank, clock: FakeClock
) -> None:
    """Answers are written and hot reads made on the store's own threads: forty boards
    read at once all agree, and closing the store ends every one of those threads."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, clock=clock, rng=random.Random(3))
    place = PlaceRef("discord", "guild-threads", "general")
    try:
        await play_round(engine, place, right=[1, 2, 3], wrong=[4])
        await play_round(engine, place, right=[2], wrong=[1, 3])
        viewer = LearnerRef("discord", "m2", "Member 02")  # right twice: first on the board
        boards = await asyncio.gather(*(engine.leaderboard(place, viewer) for _ in range(40)))
        assert all(board == boards[0] for board in boards)
        first = boards[0].entries[0]
        assert boards[0].total_learners == 4 and (first.display_name, first.score) == ("Member 02", 2)
        assert first.is_viewer and boards[0].viewer_rank == 1
    finally:
        await store.close()
    alive = [t.name for t in threading.enumerate() if t.name.startswith(("sqlite-writer", "sqlite-reader"))]
    assert alive == []
