"""Shared fixtures: real databases (a SQLite file, a PostgreSQL server), a settable
clock and a seeded random generator.

PostgreSQL cases run when QUIZBOT_TEST_POSTGRES_URL names a server (``.ci/run`` starts
one); without it they skip with a reason, unless QUIZBOT_REQUIRE_POSTGRES=1 makes the
skip a failure so CI can never pass without having run them.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bank import load_bank
from bot.engine import QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade

POSTGRES_URL = os.environ.get("QUIZBOT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("QUIZBOT_REQUIRE_POSTGRES") == "1"


def _asyncpg_url(url: str, database: str) -> str:
    base = url.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


def need_postgres() -> str:
    if not POSTGRES_URL:
        message = "PostgreSQL cases need QUIZBOT_TEST_POSTGRES_URL (.ci/run starts a server and sets it)"
        if REQUIRE_POSTGRES:
            pytest.fail(message + "; QUIZBOT_REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(message)
    return POSTGRES_URL


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
async def fresh_postgres_url() -> AsyncIterator[str]:
    need_postgres()
    name = f"quizbot_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _asyncpg_url(POSTGRES_URL, name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every storage and engine test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}"
    else:
        need_postgres()
        name = f"quizbot_test_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            yield _asyncpg_url(POSTGRES_URL, name)
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def bank() -> QuestionBank:
    return load_bank()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    database = Database(database_url)
    await upgrade(database)
    sql_store = SqlStore(database)
    try:
        yield sql_store
    finally:
        await sql_store.close()


@pytest.fixture
def engine(store: SqlStore, bank: QuestionBank, clock: FakeClock) -> QuizEngine:
    return QuizEngine(store, bank, clock=clock, rng=random.Random(1234))


@pytest.fixture
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
