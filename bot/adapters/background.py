"""Background work every adapter runs: close due rounds, post daily questions, purge
workspaces the bot left, send daily reminders, and let handlers finish when stopping.

One loop shape for all of them: do the work, log (never raise) what failed, wait, again.
A failing item must not stop the items after it, nor the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from bot.engine import QuizEngine
    from bot.engine.reminders import Reminder

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


FINISH_HANDLING_SECONDS = 5.0  # how long a stop waits for clicks already taken


@contextlib.contextmanager
def tracked(running: set[asyncio.Task[Any]]) -> Iterator[None]:
    """Count the current task among ``running`` while it handles a click: a stop waits
    for it (``finish``), since its answer may be committing."""
    task = asyncio.current_task()
    if task is not None:
        running.add(task)
    try:
        yield
    finally:
        if task is not None:
            running.discard(task)


async def finish(running: set[asyncio.Task[T]], timeout: float) -> None:  # noqa: ASYNC109 - a bound
    """Wait up to ``timeout`` seconds for ``running`` (which may still grow) to empty: the
    handlers of clicks already taken reply before the connection they reply on closes."""
    deadline = time.monotonic() + timeout
    while running and (left := deadline - time.monotonic()) > 0:
        await asyncio.wait(set(running), timeout=left)


PURGE_INTERVAL_SECONDS = 3600.0


async def purge_departed_forever(engine: QuizEngine, interval: float = PURGE_INTERVAL_SECONDS) -> None:
    """Purge, every ``interval`` seconds, the workspaces whose retention period has passed
    since the bot left them (each process may run it: a purge is claimed in the database)."""

    async def purge() -> None:
        await engine.purge_departed()

    await repeat(interval, purge, "purging departed workspaces")


class Backoff(Generic[T]):
    """When each item may be tried again: a post that failed (Slack down, Discord's own
    retries exhausted) waits ``base``, then twice as long each time, up to ``cap`` seconds,
    instead of hammering the platform (and the log) on every tick."""

    def __init__(
        self,
        key: Callable[[T], Hashable],
        base: float = 5.0,
        cap: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key, self.base, self.cap, self.clock = key, base, cap, clock
        self._failures: dict[Hashable, tuple[int, float]] = {}

    def ready(self, item: T) -> bool:
        failures = self._failures.get(self.key(item))
        return failures is None or self.clock() >= failures[1]

    def failed(self, item: T) -> float:
        """Record a failure; returns the seconds until the next try."""
        count = self._failures.get(self.key(item), (0, 0.0))[0] + 1
        wait: float = min(self.cap, self.base * 2.0 ** (count - 1))
        self._failures[self.key(item)] = (count, self.clock() + wait)
        return wait

    def succeeded(self, item: T) -> None:
        self._failures.pop(self.key(item), None)


async def each(
    items: Iterable[T],
    action: Callable[[T], Awaitable[None]],
    what: Callable[[T], str],
    backoff: Backoff[T] | None = None,
) -> None:
    """Apply ``action`` to every item; one failing is logged and the others still run.
    With ``backoff``, an item that failed lately is left for a later call."""
    for item in items:
        if backoff is not None and not backoff.ready(item):
            continue
        try:
            await action(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            if backoff is None:
                log.exception("%s failed", what(item))
            else:
                log.exception("%s failed; next try in %.0f s", what(item), backoff.failed(item))
        else:
            if backoff is not None:
                backoff.succeeded(item)


REMIND_INTERVAL_SECONDS = 60.0


class Undeliverable(Exception):
    """The platform will not take this reminder (DMs closed, the person or the bot gone):
    not worth trying again today."""


class ReminderSender:
    """Every minute, the reminders that are due on one platform: each is claimed in the
    database first (so two schedulers never both send it), then sent by ``send``. A
    learner who cannot be reached is logged once per process, not every day; a failure
    that may pass gives the day back, to be tried again after a backoff."""

    def __init__(
        self, engine: QuizEngine, platform: str, send: Callable[[Reminder], Awaitable[None]]
    ) -> None:
        self.engine, self.platform, self.send = engine, platform, send
        self.backoff: Backoff[Reminder] = Backoff(lambda r: r.learner_id, base=REMIND_INTERVAL_SECONDS)
        self._unreachable: set[int] = set()

    async def once(self) -> int:
        """Send what is due now; returns how many reminders went out."""
        sent = 0
        for reminder in await self.engine.due_reminders(platform=self.platform):
            if not self.backoff.ready(reminder) or not await self.engine.claim_reminder(reminder):
                continue
            try:
                await self.send(reminder)
            except Undeliverable as error:
                if reminder.learner_id not in self._unreachable:
                    self._unreachable.add(reminder.learner_id)
                    log.warning(
                        "no reminder for %s user %s: %s",
                        self.platform,
                        reminder.user_id,
                        error or "unreachable",
                    )
            except Exception:
                await self.engine.release_reminder(reminder)
                wait = self.backoff.failed(reminder)
                log.exception(
                    "the reminder for %s user %s failed; next try in %.0f s",
                    self.platform,
                    reminder.user_id,
                    wait,
                )
            else:
                self._unreachable.discard(reminder.learner_id)
                self.backoff.succeeded(reminder)
                sent += 1
        return sent

    async def forever(self, interval: float = REMIND_INTERVAL_SECONDS) -> None:
        async def tick() -> None:
            await self.once()

        await repeat(interval, tick, f"sending {self.platform} reminders")
