"""The composition root: settings → bank → database (migrated) → store → engine.

Every entry point (terminal game, adapters, CLI reports) starts the same way, so a bad
bank or an unmigrated database is caught the same way everywhere.
"""

from __future__ import annotations

import gc
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot.bank import load_bank
from bot.config import Settings
from bot.engine import QuizEngine
from bot.engine.questions import QuestionBank
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade


@dataclass
class App:
    settings: Settings
    bank: QuestionBank
    store: SqlStore
    engine: QuizEngine


GC_YOUNG_THRESHOLD = 10_000  # Python's default is 700


def settle_memory() -> None:
    """Move what start-up built (the bank, imported modules) out of the garbage collector's
    sight: it lives as long as the process, and rescanning it cost the answer path ~13%.

    Then collect the young generation every 10,000 allocations instead of 700: a burst of
    answers allocates a few dozen objects each, nearly all freed by reference counting, and
    the default made collections ~10% of the answer path's time (1,140 collections for
    20,000 answers in ``python -m bench --only answer_path``; 329 at 10,000)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


@asynccontextmanager
async def open_app(settings: Settings, *, rng: random.Random | None = None) -> AsyncIterator[App]:
    bank = load_bank(settings.questions_dirs)  # raises BankError before touching the database
    database = Database(settings.database_url)
    store = SqlStore(database)
    try:
        await upgrade(database)
        engine = QuizEngine(
            store,
            bank,
            rng=rng,
            default_locale=settings.locale,
            daily_grace=timedelta(minutes=settings.daily_grace_minutes),
            retention=timedelta(days=settings.retention_days),
        )
        settle_memory()
        yield App(settings, bank, store, engine)
    finally:
        await store.close()
