"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that
reads and then writes fails at once with "database is locked" under concurrency, and
the busy timeout does not help it. Reads use a second engine with plain ``BEGIN`` so
they never take the write lock; WAL lets them run beside a writer.

The answers' group commit (``run_write``) runs on SQLite as plain synchronous code on a
thread and connection of its own: aiosqlite hands every statement to its thread and
back, and with the event loop busy each hand-off waited about a millisecond; a batch
sends a dozen statements. One hand-off per transaction took that out of every answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer

BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


def _prepare_sqlite(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # see bot.store.checkpoint
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)


def _sqlite_engine(url: str, begin: str, pool_size: int) -> AsyncEngine:
    # hide_parameters: a failed statement's error must not carry names or comments into logs
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=4, hide_parameters=True)
    _prepare_sqlite(engine.sync_engine, begin)
    return engine


class Database:
    """One database, two doors: ``write()`` for changes, ``read()`` for queries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.checkpointer: WalCheckpointer | None = None
        self._sync_writer: Engine | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=2)
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size=4)
            parsed = make_url(url)
            path = parsed.database
            if path and path != ":memory:":  # a memory database is not shared between connections
                self.checkpointer = WalCheckpointer(path)
                self._sync_writer = create_engine(
                    parsed.set(drivername="sqlite"), pool_size=1, max_overflow=0, hide_parameters=True
                )
                _prepare_sqlite(self._sync_writer, "BEGIN IMMEDIATE")
        else:
            self.write_engine = create_async_engine(
                url, pool_size=8, max_overflow=8, pool_pre_ping=True, hide_parameters=True
            )
            self.read_engine = self.write_engine

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

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        """``work(connection, *args)`` in one write transaction, as synchronous code: on a
        thread of its own for SQLite, through the async connection for PostgreSQL."""
        if self._sync_writer is None:
            async with self.write() as conn:
                return await conn.run_sync(work, *args)
        if self._writer_thread is None:
            self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._writer_thread, self._in_transaction, work, args)
        if self.checkpointer is not None:
            self.checkpointer.wrote()
        return result

    def _in_transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._sync_writer is not None
        with self._sync_writer.begin() as conn:
            return work(conn, *args)

    async def dispose(self) -> None:
        try:
            if self.checkpointer is not None:
                await self.checkpointer.stop()
            if self._writer_thread is not None and self._sync_writer is not None:
                thread, self._writer_thread = self._writer_thread, None
                # the connection belongs to that thread: it is closed there
                await asyncio.get_running_loop().run_in_executor(thread, self._sync_writer.dispose)
                thread.shutdown(wait=True)
        finally:
            await self.write_engine.dispose()
            if self.read_engine is not self.write_engine:
                await self.read_engine.dispose()
