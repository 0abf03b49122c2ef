"""Migrations: upgrade from empty, match the declared tables, and run once under a race."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.store import Database
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.store.tables import metadata

REPO = Path(__file__).resolve().parent.parent


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_matches_the_declared_tables(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await current_revision(database) is None
        await upgrade(database)
        assert await current_revision(database) == head_revision()
        async with database.read() as connection:
            assert await connection.run_sync(_tables) >= set(metadata.tables)
            assert await connection.run_sync(_diff) == []
        await upgrade(database)  # a second upgrade is a no-op
        assert await current_revision(database) == head_revision()
    finally:
        await database.dispose()


async def test_two_processes_upgrading_at_once(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "QUIZBOT_DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
    runs = [
        asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "db",
            "upgrade",
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    processes = await asyncio.gather(*runs)
    results = [await p.communicate() for p in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err.decode()
    database = Database(database_url)
    try:
        assert await current_revision(database) == head_revision()
        async with database.read() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await database.dispose()
