"""Group commit for answers: concurrent answers share one write transaction.

A transaction per answer through SQLAlchemy reaches a few percent of what SQLite can
write; sharing transactions keeps the answer path near the raw rate. The writer takes
whatever is queued when the previous transaction ends, so a lone answer is written at
once and a burst is written together. Every caller is answered only after the
transaction holding its answer committed: an acknowledged answer is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.engine.model import AnswerWrite
from bot.engine.ports import AnswerOutcome

log = logging.getLogger(__name__)

WriteBatch = Callable[[Sequence[AnswerWrite]], Awaitable[list[AnswerOutcome | Exception]]]


class AnswerWriter:
    def __init__(self, write_batch: WriteBatch, max_batch: int = 500) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[AnswerWrite, asyncio.Future[AnswerOutcome]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.answers = 0

    async def submit(self, answer: AnswerWrite) -> AnswerOutcome:
        if self._closing:
            raise RuntimeError("the answer writer is shutting down")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="answer-writer")
        future: asyncio.Future[AnswerOutcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((answer, future))
        # a caller that gives up cancels only its wait: the answer stays queued and is written
        return await future

    async def _run(self) -> None:
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._write(batch)

    async def _write(self, batch: list[tuple[AnswerWrite, asyncio.Future[AnswerOutcome]]]) -> None:
        try:
            outcomes = await self._write_batch([answer for answer, _ in batch])
        except Exception as error:  # every waiter learns of the failure
            log.exception("writing a batch of %d answers failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            self.batches += 1
            self.answers += len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):  # this answer alone failed
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def drain(self) -> None:
        """Write everything queued so far, then stop: no acknowledged answer is lost."""
        self._closing = True
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task
        self._task = None
        self._closing = False
