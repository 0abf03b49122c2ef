"""One of two processes racing for the same 200 daily posts, in lock-step.

Both wait at a shared barrier before every claim, so each post is truly contested (run
free, the process that starts first wins everything and nothing is tested).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.store import Database, SqlStore

POSTS = 200


def race(url: str, schedule_id: int, name: str, barrier: Any, results: Any) -> None:
    """Process entry point: puts (name, dates won) on ``results``."""
    results.put((name, asyncio.run(claim_all(url, schedule_id, name, barrier))))


async def claim_all(url: str, schedule_id: int, name: str, barrier: Any) -> list[str]:
    store = SqlStore(Database(url))
    now = datetime(2026, 11, 26, tzinfo=UTC)
    await store.enabled_schedules("discord")  # connect before the first barrier
    won = []
    for n in range(POSTS):
        day = (date(2026, 1, 1) + timedelta(days=n)).isoformat()
        barrier.wait(30)  # both are here: go
        if await store.claim_daily(schedule_id, day, "claimed", name, now):
            won.append(day)
    await store.close()
    return won
