"""A process that claims 200 daily posts as fast as it can, after a shared barrier.

Usage: python -m tests.helpers.daily_claim DB_URL SCHEDULE_ID START_FILE NAME
Prints the local dates it won, one per line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.store import Database, SqlStore


async def main(url: str, schedule_id: int, start_file: Path, name: str) -> None:
    store = SqlStore(Database(url))
    now = datetime(2026, 11, 26, tzinfo=UTC)
    days = [(date(2026, 1, 1) + timedelta(days=n)).isoformat() for n in range(200)]
    await store.enabled_schedules("discord")  # connect before the barrier
    deadline = time.monotonic() + 30
    while not start_file.exists():  # noqa: ASYNC240 - the barrier: both processes start together
        if time.monotonic() > deadline:
            raise SystemExit("barrier never opened")
        await asyncio.sleep(0.001)
    won = [day for day in days if await store.claim_daily(schedule_id, day, "claimed", name, now)]
    print("\n".join(won))
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]))
