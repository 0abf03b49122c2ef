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
from types import TracebackType


class InFlight:
    def __init__(self) -> None:
        self.closed = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        return self._running

    def admit(self) -> _Admission:
        """``with gate.admit() as admitted``: False once closed, and the caller refuses the
        work instead of starting it. A class, not a generator: every answer passes here."""
        return _Admission(self)

    def _enter(self) -> bool:
        if self.closed:
            return False
        self._running += 1
        self._idle.clear()
        return True

    def _leave(self) -> None:
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


class _Admission:
    __slots__ = ("_admitted", "_gate")

    def __init__(self, gate: InFlight) -> None:
        self._gate = gate
        self._admitted = False

    def __enter__(self) -> bool:
        self._admitted = self._gate._enter()
        return self._admitted

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._admitted:
            self._gate._leave()
