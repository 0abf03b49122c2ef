"""`quizbot db copy`: a SQLite deployment moved into an empty database (SQLite or
PostgreSQL) keeps every row, its leaderboards, and goes on taking answers."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.engine import PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import Period
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.copy import SKIPPED
from bot.store.migrate import upgrade
from bot.store.tables import attempts, metadata
from tests.test_backup import quizbot
from tests.test_standings import member, play_round

PLACE = PlaceRef("discord", "guild-move", "general")


async def every_row(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with database.read() as conn:
        return {
            table.name: [
                tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
            if table.name not in SKIPPED
        }


async def sqlite_source(tmp_path: Path, bank: QuestionBank) -> tuple[str, SqlStore, QuizEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    database = Database(url)
    await upgrade(database)
    store = SqlStore(database)
    engine = QuizEngine(store, bank, rng=random.Random(5))
    for _ in range(4):
        await play_round(engine, PLACE, right=[1, 2], wrong=[3])
    await engine.set_daily(PLACE, "08:30", created_by="admin", timezone="America/Sao_Paulo")
    await engine.set_organiser(PLACE, "helper", "admin")
    return url, store, engine


async def test_a_copy_keeps_every_row_and_the_bot_goes_on(
    tmp_path: Path, bank: QuestionBank, database_url: str
) -> None:
    source_url, source_store, source_engine = await sqlite_source(tmp_path, bank)
    try:
        result = quizbot("db", "copy", "--from", source_url, cwd=tmp_path, database_url=database_url)
        assert result.returncode == 0, result.stderr
        assert "attempts: 12 rows" in result.stdout
        target = Database(database_url)
        target_store = SqlStore(target)
        try:
            assert await every_row(target) == await every_row(source_store.db)
            moved = QuizEngine(target_store, bank)
            before = await source_engine.leaderboard(PLACE, member(3), period=Period.ALL)
            assert await moved.leaderboard(PLACE, member(3), period=Period.ALL) == before

            card = await moved.ask(PLACE)  # new ids follow the copied ones: nothing collides
            assert isinstance(card, QuestionCard)
            good = [o.letter for o in card.options if o.correct]
            await moved.answer(card.round_id, member(9), good, place=PLACE)
            async with target.read() as conn:
                assert (await conn.execute(select(func.count()).select_from(attempts))).scalar_one() == 13
        finally:
            await target_store.close()
    finally:
        await source_store.close()


async def test_a_target_with_data_is_refused_and_left_as_it_was(
    tmp_path: Path, bank: QuestionBank, database_url: str
) -> None:
    source_url, source_store, _ = await sqlite_source(tmp_path, bank)
    await source_store.close()
    target = Database(database_url)
    await upgrade(target)
    target_store = SqlStore(target)
    try:
        await play_round(QuizEngine(target_store, bank), PLACE, right=[7], wrong=[])
        kept = await every_row(target)
        result = quizbot("db", "copy", "--from", source_url, cwd=tmp_path, database_url=database_url)
        assert result.returncode == 1
        assert "already holds data" in result.stderr and "nothing was copied" in result.stderr
        assert await every_row(target) == kept
    finally:
        await target_store.close()


def test_copying_a_database_onto_itself_or_from_a_bad_url_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'same.db'}"
    itself = quizbot("db", "copy", "--from", url, cwd=tmp_path, database_url=url)
    assert itself.returncode == 2 and "itself" in itself.stderr
    bad = quizbot("db", "copy", "--from", "mysql://x/y", cwd=tmp_path, database_url=url)
    assert bad.returncode == 2 and "--from must be a SQLite URL" in bad.stderr
    assert not (tmp_path / "same.db").exists()


async def test_an_older_sqlite_file_is_copied_without_being_changed(
    tmp_path: Path, bank: QuestionBank, database_url: str
) -> None:
    from alembic import command
    from sqlalchemy import Connection

    from bot.store.migrate import alembic_config, current_revision

    old = tmp_path / "release-before.db"

    def to_0012(connection: Connection) -> None:  # the schema the previous release wrote
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")

    source = Database(f"sqlite+aiosqlite:///{old}")
    await upgrade(source, to_0012)
    async with source.write() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO learners (platform, user_id, display_name, created_at) "
            "VALUES ('discord', 'u1', 'Old Timer', '2026-01-01 00:00:00.000000')"
        )
    await source.dispose()
    before = old.read_bytes()

    result = quizbot("db", "copy", "--from", f"sqlite:///{old}", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "learners: 1 rows" in result.stdout
    assert old.read_bytes() == before  # not even migrated: the previous release can still open it
    source = Database(f"sqlite+aiosqlite:///{old}")
    try:
        assert await current_revision(source) == "0012"
    finally:
        await source.dispose()
    target = Database(database_url)
    try:
        async with target.read() as conn:
            names = (await conn.exec_driver_sql("SELECT display_name FROM learners")).scalars().all()
        assert names == ["Old Timer"]
    finally:
        await target.dispose()
