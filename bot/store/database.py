"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that
reads and then writes fails at once with "database is locked" under concurrency, and
the busy timeout does not help it. Reads use a second engine with plain ``BEGIN`` so
they never take the write lock; WAL lets them run beside a writer.

The answers' group commit (``run_write``) runs on SQLite as plain synchronous code on a
thread and connection of its own: aiosqlite hands every statement to its thread and
back, and with the event loop busy each hand-off waited about a millisecond; a batch
sends a dozen statements. One hand-off per transaction took that out of every answer. Hot reads of
several statements (a leaderboard card) take the same way (``run_read``).
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


class _SyncSide:
    """A synchronous engine and the threads its transactions run on (SQLite only)."""

    def __init__(self, engine: Engine, threads: int, name: str) -> None:
        self.engine = engine
        self._threads = threads
        self._name = name
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=self._name)
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, work, args)

    def _transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as conn:
            return work(conn, *args)

    async def dispose(self) -> None:
        if self._executor is not None:
            executor, self._executor = self._executor, None
            # a connection is closed on a thread that used it
            await asyncio.get_running_loop().run_in_executor(executor, self.engine.dispose)
            executor.shutdown(wait=True)


class Database:
    """One database, two doors: ``write()`` for changes, ``read()`` for queries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.checkpointer: WalCheckpointer | None = None
        self._sync_writer: _SyncSide | None = None
        self._sync_reader: _SyncSide | None = None
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=2)
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size=4)
            parsed = make_url(url)
            path = parsed.database
            if path and path != ":memory:":  # a memory database is not shared between connections
                self.checkpointer = WalCheckpointer(path)
                sync_url = parsed.set(drivername="sqlite")
                writer = create_engine(sync_url, pool_size=1, max_overflow=0, hide_parameters=True)
                _prepare_sqlite(writer, "BEGIN IMMEDIATE")
                self._sync_writer = _SyncSide(writer, 1, "sqlite-writer")
                reader = create_engine(
                    sync_url,
                    pool_size=2,
                    max_overflow=0,
                    hide_parameters=True,
                    connect_args={"check_same_thread": False},  # two threads share the pool
                )
                _prepare_sqlite(reader, "BEGIN")
                self._sync_reader = _SyncSide(reader, 2, "sqlite-reader")
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
        result = await self._sync_writer.run(work, args)
        if self.checkpointer is not None:
            self.checkpointer.wrote()
        return result

    async def run_read(self, work: Callable[..., T], *args: Any) -> T:
        """``work(connection, *args)`` in one read transaction, the same way: for hot reads
        of several statements (a leaderboard card sends four)."""
        if self._sync_reader is None:
            async with self.read() as conn:
                return await conn.run_sync(work, *args)
        return await self._sync_reader.run(work, args)

    async def dispose(self) -> None:
        try:
            if self.checkpointer is not None:
                await self.checkpointer.stop()
            for side in (self._sync_writer, self._sync_reader):
                if side is not None:
                    await side.dispose()
        finally:
            await self.write_engine.dispose()
            if self.read_engine is not self.write_engine:
                await self.read_engine.dispose()
