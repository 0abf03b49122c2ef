"""What a search of the database would find about people: for the privacy tests."""

from __future__ import annotations

from sqlalchemy import String, Text, select

from bot.store import SqlStore
from bot.store.tables import learners, metadata


async def learner_text(store: SqlStore) -> str:
    """Every learner's platform id and display name, space-separated."""
    async with store.db.read() as conn:
        rows = (await conn.execute(select(learners.c.user_id, learners.c.display_name))).all()
    return " ".join(f"{user_id} {name}" for user_id, name in rows)


async def text_values(store: SqlStore) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in every table."""
    found = []
    async with store.db.read() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in await conn.execute(select(*columns)):
                found += [(table.name, c.name, v) for c, v in zip(columns, row, strict=True) if v]
    return found
