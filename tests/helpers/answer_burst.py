"""A separate process that answers one round for many learners, started behind a barrier.

Usage: python -m tests.helpers.answer_burst DB_URL ROUND_ID LEARNERS START_FILE NOW_ISO
Prints one line: recorded=N duplicate=N closed=N
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from bot.bank import load_bank
from bot.engine import AnswerRefused, LearnerRef, QuizEngine
from bot.store import Database, SqlStore


async def main(url: str, round_id: int, learners: int, start_file: Path, now: datetime) -> None:
    store = SqlStore(Database(url))
    engine = QuizEngine(store, load_bank(), clock=lambda: now)  # the test's clock, not the wall's
    round_ = await store.get_round(round_id)
    assert round_ is not None
    question = engine.bank.get(round_.question_id)
    assert question is not None
    letters = ["ABCDEF"[round_.option_order.index(k)] for k in sorted(question.answer)]
    deadline = time.monotonic() + 30
    while not start_file.exists():  # noqa: ASYNC240 - the barrier: both processes fire together
        if time.monotonic() > deadline:
            raise SystemExit("barrier never opened")
        await asyncio.sleep(0.001)
    results = await asyncio.gather(
        *(engine.answer(round_id, LearnerRef("discord", f"u{n}", f"U{n}"), letters) for n in range(learners))
    )
    outcome = Counter(r.reason.value if isinstance(r, AnswerRefused) else "recorded" for r in results)
    print(
        f"recorded={outcome['recorded']} duplicate={outcome['already_answered']} closed={outcome['closed']}"
    )
    await store.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            int(sys.argv[2]),
            int(sys.argv[3]),
            Path(sys.argv[4]),
            datetime.fromisoformat(sys.argv[5]),
        )
    )
