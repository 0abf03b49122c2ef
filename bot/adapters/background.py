"""Background work every adapter runs: close due rounds, post daily questions.

One loop shape for all of them: do the work, log (never raise) what failed, wait, again.
A failing item must not stop the items after it, nor the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def repeat(interval: float, work: Callable[[], Awaitable[None]], what: str) -> None:
    """Run ``work`` every ``interval`` seconds until cancelled."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; trying again shortly", what)
        await asyncio.sleep(interval)


async def each(items: Iterable[T], action: Callable[[T], Awaitable[None]], what: Callable[[T], str]) -> None:
    """Apply ``action`` to every item; one failing is logged and the others still run."""
    for item in items:
        try:
            await action(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what(item))
