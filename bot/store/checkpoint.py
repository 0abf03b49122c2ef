"""Checkpoints of SQLite's write-ahead log, off the answer path.

Left to itself, SQLite checkpoints inside the commit that takes the log past 1,000
pages: that commit copies the logged pages back into the database file and syncs it,
and every answer of that group-commit batch waits for it. Here the bot's connections
checkpoint only as a backstop (past ``BACKSTOP_PAGES``, should this task not run), and a
background task runs PASSIVE checkpoints on a connection of its own, in a worker thread,
soon after each write. PASSIVE never waits: pages a reader still needs stay in the log
for the next round. Measured with ``python -m bench --only answer_path`` (paced run):
checkpoints moved out of the commits took p50/p99 from 62/111 ms to 47/92 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000  # about 40 MB of log before a commit checkpoints by itself
INTERVAL_SECONDS = 0.2


class WalCheckpointer:
    """Checkpoints soon after writes, from a task that ends when the writes stop (an idle
    bot runs none). No asyncio primitive is kept between tasks, so one database may be
    used from one event loop after another (the CLI runs one per command)."""

    def __init__(self, path: str, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0  # PASSIVE checkpoints run (for tests and benchmarks)
        self._dirty = False
        self._stopped = False
        self._task: asyncio.Task[None] | None = None
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # a cancelled wait leaves its thread running

    def wrote(self) -> None:
        """A write transaction committed: checkpoint soon (starting the task if needed).
        After ``stop`` nothing starts again: the backstop and the last connection's close
        still checkpoint."""
        if self._stopped:
            return
        self._dirty = True
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run(), name="wal-checkpoint")

    async def _run(self) -> None:
        while self._dirty:
            await asyncio.sleep(self.interval)  # let a burst's commits pile up first
            self._dirty = False
            await asyncio.to_thread(self._checkpoint)

    def _checkpoint(self) -> None:
        with self._lock:
            self._checkpoint_now()

    def _checkpoint_now(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as error:  # the backstop still bounds the log; try again next time
            log.warning("WAL checkpoint failed: %s", error)

    async def stop(self) -> None:
        """Stop the task and checkpoint once more, so a clean stop leaves little log behind."""
        self._stopped = True
        task, self._task = self._task, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif task is not None and task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("the WAL checkpoint task had stopped: %r", task.exception())
        await asyncio.to_thread(self._checkpoint)
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
