"""Move a deployment's data to another database (SQLite to PostgreSQL when a group
outgrows one machine) without losing a score.

Both databases are first brought to the same schema revision; every table is then copied
in dependency order inside one transaction on the target, so a failure leaves the target
as it was. The target must be empty: merging two histories is not a copy. Heartbeats are
not copied (they describe processes, not data).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Integer, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import Database
from bot.store.migrate import upgrade
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


async def copy_database(
    source: Database, target: Database, progress: Callable[[str, int], None] = lambda table, rows: None
) -> dict[str, int]:
    """Copy every table from ``source`` into the empty ``target``; returns rows per table."""
    await upgrade(source)
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
