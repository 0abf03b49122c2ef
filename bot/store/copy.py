"""Move a deployment's data to another database (SQLite to PostgreSQL when a group
outgrows one machine) without losing a score.

The source is never changed: an older SQLite file is read through an upgraded copy of it,
so the release that wrote it can still open it. Every table is then copied
in dependency order inside one transaction on the target, so a failure leaves the target
as it was. The target must be empty: merging two histories is not a copy. Heartbeats are
not copied (they describe processes, not data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Integer, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.backup import backup_sqlite, sqlite_file
from bot.store.database import Database
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.store.tables import heartbeats, metadata

BATCH_ROWS = 2_000
SKIPPED = {heartbeats.name}


class CopyRefused(Exception):
    """The copy would mix or overwrite data; nothing was written."""


def _tables() -> list[Table]:
    return [table for table in metadata.sorted_tables if table.name not in SKIPPED]


async def _rows_in(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def _restart_sequences(connection: AsyncConnection, table: Table) -> None:
    """PostgreSQL hands out ids from a sequence that inserting explicit ids does not move:
    start it after the copied ids, or the next answer would collide with an old one."""
    for column in table.primary_key.columns:
        if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f'COALESCE(MAX("{column.name}"), 0) + 1, false) FROM "{table.name}"'
                )
            )


async def current_copy_of(url: str, workdir: Path) -> str:
    """A URL to copy from that is at the current schema without touching ``url``: an older
    SQLite file is first copied into ``workdir`` (SQLite's online backup) and the copy is
    upgraded, so the original stays usable by the release that wrote it."""
    source = Database(url)
    try:
        behind = await current_revision(source) != head_revision()
    finally:
        await source.dispose()
    path = sqlite_file(url)
    if not behind or path is None:
        return url
    copy = workdir / "source.db"
    await asyncio.to_thread(backup_sqlite, path, copy)
    upgraded = f"sqlite+aiosqlite:///{copy}"
    database = Database(upgraded)
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    return upgraded


async def copy_database(
    source: Database, target: Database, progress: Callable[[str, int], None] = lambda table, rows: None
) -> dict[str, int]:
    """Copy every table from ``source`` (at the current schema, never changed here) into
    the empty ``target``; returns rows per table."""
    found, newest = await current_revision(source), head_revision()
    if found != newest:
        raise CopyRefused(f"the source database is at schema revision {found}, not the current {newest}")
    await upgrade(target)
    copied: dict[str, int] = {}
    async with target.write() as into, source.read() as out:
        busy = [table.name for table in _tables() if await _rows_in(into, table)]
        if busy:
            raise CopyRefused(f"the target database already holds data (tables: {', '.join(busy)})")
        for table in _tables():
            count = 0
            order = list(table.primary_key.columns)
            result = await out.stream(select(table).order_by(*order))
            async for batch in result.partitions(BATCH_ROWS):
                await into.execute(table.insert(), [dict(row._mapping) for row in batch])
                count += len(batch)
            if not target.is_sqlite:
                await _restart_sequences(into, table)
            copied[table.name] = count
            progress(table.name, count)
    return copied
