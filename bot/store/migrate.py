"""Bring a database to the newest schema, safely when several processes start at once.

SQLite: the migration runs inside a ``BEGIN IMMEDIATE`` transaction, which holds the
database's write lock, so a second process waits and then finds nothing to do.
PostgreSQL: a transaction-scoped advisory lock does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.paths import migrations_dir
from bot.store.database import Database

MIGRATION_LOCK_KEY = 0x51_55_49_5A  # "QUIZ"


def alembic_config(directory: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(directory or migrations_dir()))
    return config


def _upgrade_on(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_url(url: str, run: Callable[[Connection], None] | None = None) -> None:
    database = Database(url)
    try:
        await upgrade(database, run)
    finally:
        await database.dispose()


async def upgrade(database: Database, run: Callable[[Connection], None] | None = None) -> None:
    async with database.write() as connection:
        if not database.is_sqlite:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.run_sync(run or _upgrade_on)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database: Database) -> str | None:
    async with database.read() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
