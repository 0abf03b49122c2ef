"""Draw progress charts in a short-lived process of their own.

matplotlib (with numpy) adds about 55 MB to whatever process imports it, and never gives
it back. A bot that drew one chart in-process would carry that for months; a worker that
exits after the chart keeps ``quizbot run`` at its start-up size. Starting one costs about
half a second, which a stats reply (already deferred on Discord, sent to the DM on Slack)
absorbs. At most ``WORKERS`` charts are drawn at once, so a burst of stats commands
cannot start a process per learner.

Run as ``python -m bot.adapters.chart_worker``: a ProgressCard as JSON on stdin, the PNG
on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import weakref
from dataclasses import asdict
from datetime import date
from typing import Any

from bot.engine.cards import Accuracy, DayCount, ProgressCard

WORKERS = 2
TIMEOUT_SECONDS = 60.0
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class ChartFailed(RuntimeError):
    """The worker could not draw the chart; the caller sends the stats without it."""


def card_to_json(card: ProgressCard) -> str:
    return json.dumps(asdict(card), default=lambda value: value.isoformat())


def card_from_json(text: str) -> ProgressCard:
    data: dict[str, Any] = json.loads(text)
    return ProgressCard(
        display_name=data["display_name"],
        by_task=tuple(Accuracy(**task) for task in data["by_task"]),
        days=tuple(
            DayCount(date.fromisoformat(day["day"]), day["answered"], day["correct"]) for day in data["days"]
        ),
        timezone=data["timezone"],
        locale=data["locale"],
    )


async def draw_png(card: ProgressCard) -> bytes:
    """The chart's PNG, drawn by a worker process (never in this one)."""
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(WORKERS))  # a semaphore belongs to one loop
    async with slots:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            png, error = await asyncio.wait_for(
                process.communicate(card_to_json(card).encode()), TIMEOUT_SECONDS
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ChartFailed(f"the chart worker took more than {TIMEOUT_SECONDS:.0f} s") from None
    if process.returncode != 0 or not png.startswith(b"\x89PNG"):
        raise ChartFailed(f"the chart worker failed ({process.returncode}): {error.decode()[-500:]}")
    return png


def main() -> None:
    from bot.adapters.charts import render_png

    sys.stdout.buffer.write(render_png(card_from_json(sys.stdin.read())))


if __name__ == "__main__":
    main()
