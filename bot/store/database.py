"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that
reads and then writes fails at once with "database is locked" under concurrency, and
the busy timeout does not help it. Reads use a second engine with plain ``BEGIN`` so
they never take the write lock; WAL lets them run beside a writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer

BUSY_TIMEOUT_MS = 30_000


def _sqlite_engine(url: str, begin: str, pool_size: int) -> AsyncEngine:
    # hide_parameters: a failed statement's error must not carry names or comments into logs
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=4, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # see bot.store.checkpoint
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


class Database:
    """One database, two doors: ``write()`` for changes, ``read()`` for queries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=2)
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size=4)
            path = make_url(url).database
            self.checkpointer = WalCheckpointer(path) if path and path != ":memory:" else None
        else:
            self.write_engine = create_async_engine(
                url, pool_size=8, max_overflow=8, pool_pre_ping=True, hide_parameters=True
            )
            self.read_engine = self.write_engine
            self.checkpointer = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.write_engine.begin() as connection:
            yield connection
        if self.checkpointer is not None:
            self.checkpointer.wrote()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.read_engine.begin() as connection:
            yield connection

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
