"""Admit work until shutdown, then let what was admitted finish.

A learner's answer is acknowledged only after it is committed; a stop that closed the
database under an answer in flight would break that promise. On SIGTERM the process
closes this gate first: answers already admitted finish and reply, later ones are refused
with "restarting, answer again in a minute" (nothing recorded, and the learner knows it),
and only then are the connections closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    def __init__(self) -> None:
        self.closed = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        return self._running

    @contextmanager
    def admit(self) -> Iterator[bool]:
        """Yields False once closed: the caller refuses the work instead of starting it."""
        if self.closed:
            yield False
            return
        self._running += 1
        self._idle.clear()
        try:
            yield True
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def close(self, timeout: float) -> int:  # noqa: ASYNC109 - a bound, not a cancellation scope
        """Refuse new work and wait up to ``timeout`` seconds for admitted work; returns how
        much was still running when the time ran out (0 when everything finished)."""
        self.closed = True
        deadline = time.monotonic() + timeout
        while self._running and (left := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._idle.wait(), left)
            except TimeoutError:
                break
        return self._running
