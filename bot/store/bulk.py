"""Multi-row INSERT … ON CONFLICT statements sent straight to the driver.

The answer path writes a few thousand rows per group-commit transaction. Through
SQLAlchemy's executemany each value passes its type's bind processing in Python (seven
timestamps per answer), which made the main thread, not the database, the bottleneck.
Here one statement carries many rows and values are prepared once; table and column
names are constants of this module's callers, never user input.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy.engine import Connection

MAX_PARAMETERS = 30_000  # both SQLite (32,766) and PostgreSQL (32,767) allow a little more


class BulkWriter:
    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    def timestamp(self, value: datetime) -> Any:
        """SQLite keeps naive UTC text in SQLAlchemy's format; PostgreSQL takes the datetime."""
        return _sqlite_text(value) if self.sqlite else value

    def _values(self, rows: int, width: int) -> str:
        if self.sqlite:
            row = "(" + ", ".join("?" * width) + ")"
            return ", ".join([row] * rows)
        groups = []
        for r in range(rows):
            start = r * width + 1
            groups.append("(" + ", ".join(f"${n}" for n in range(start, start + width)) + ")")
        return ", ".join(groups)

    def upsert(
        self,
        conn: Connection,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        conflict: Sequence[str],
        update: str | None = None,
        returning: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """``INSERT … ON CONFLICT (conflict) DO UPDATE SET update | DO NOTHING [RETURNING …]``."""
        found: list[tuple[Any, ...]] = []
        per_statement = max(1, MAX_PARAMETERS // len(columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {self._values(len(chunk), len(columns))} "
                f"ON CONFLICT ({', '.join(conflict)}) "
                + (f"DO UPDATE SET {update}" if update else "DO NOTHING")
                + (f" RETURNING {', '.join(returning)}" if returning else "")
            )
            result = conn.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))
            if returning:
                found.extend(result.fetchall())  # rows unpack like tuples
        return found

    def select_in(
        self, conn: Connection, query: str, column: str, values: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """``query WHERE column IN (values)``: the answer path checks hundreds of cached
        learner ids per batch, and SQLAlchemy's expanding IN costs more than the query."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(values), MAX_PARAMETERS):
            chunk = values[start : start + MAX_PARAMETERS]
            if self.sqlite:
                sql, params = f"{query} WHERE {column} IN ({', '.join('?' * len(chunk))})", tuple(chunk)
            else:
                sql, params = f"{query} WHERE {column} = ANY($1)", (list(chunk),)
            found.extend(tuple(row) for row in conn.exec_driver_sql(sql, params))
        return found


@lru_cache(maxsize=8192)
def _sqlite_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
